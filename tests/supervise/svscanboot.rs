//! s6-svscanboot, checked against its 2.15 documentation: new in 2.15.1 and absent from
//! Debian's s6 2.11, so there is no interop test for it. A tree booted in a temp dir with
//! our binaries must run its catch-all logger as a service, carry the output of a service
//! without a logger of its own into the catch-all logdir, leak nothing to the caller's
//! stdout and stderr, and leave nothing running once brought down.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::svscan::{alive, service, service_pid, supervisors, svscanctl, wait_supervised};
use crate::support::*;

const T: Duration = Duration::from_secs(10);

#[test]
fn svscanboot_runs_a_catch_all_logger_and_comes_down_clean() {
    let t = TempDir::new("svscanboot");
    let scan = t.join("scan");
    let logs = t.join("logs");
    // A stale logger directory is replaced, not reused.
    std::fs::create_dir_all(scan.join("s6-svscan-log")).unwrap();
    std::fs::write(scan.join("s6-svscan-log/stale"), "x").unwrap();
    // No logger of its own: its output goes where its supervisor's goes, the catch-all. It
    // may start before the logger reads the fifo, die of SIGPIPE and be restarted: it
    // repeats itself until then.
    service(&scan.join("chatty"), "while :; do echo chatty-says-hello; sleep 0.2; done\n");

    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds that we own from here on.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh fds from pipe2.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: fcntl on an fd we own: the notification fd must survive exec.
    unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETFD, 0) };
    let mut c = Command::new(bin("s6-svscanboot"));
    c.arg("-D")
        .arg(&logs)
        .args(["-o", "t s100000", "-C", "20", "-d"])
        .arg(w.as_raw_fd().to_string())
        .arg(&scan);
    c.stdin(Stdio::null())
        .stdout(File::create(t.join("caller.out")).unwrap())
        .stderr(File::create(t.join("caller.err")).unwrap());
    ignoring_signals(&mut c, &[]);
    let mut tree = Tree::new();
    let pid = tree.spawn(c);
    drop(w);
    let mut byte = [0u8; 1];
    let mut f = File::from(r);
    let caller_err = || std::fs::read_to_string(t.join("caller.err")).unwrap_or_default();
    assert_eq!(f.read(&mut byte).unwrap_or(0), 1, "s6-svscan never became ready: {}", caller_err());

    // The logger's service directory, as the page describes it.
    let logger = scan.join("s6-svscan-log");
    assert!(!logger.join("stale").exists());
    assert_eq!(std::fs::read_to_string(logger.join("notification-fd")).unwrap(), "3\n");
    let fifo = std::fs::metadata(logger.join("fifo")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fifo.file_type()));
    assert_eq!(fifo.permissions().mode() & 0o777, 0o600);
    let run = std::fs::read_to_string(logger.join("run")).unwrap();
    let s6_log = bin("s6-log").display().to_string();
    assert!(
        run.contains(&format!("'{s6_log}' -bpd3 -- t s100000 '{}'\n", logs.display())),
        "run script:\n{run}"
    );
    assert_eq!(std::fs::metadata(&logs).unwrap().permissions().mode() & 0o7777, 0o2750);

    // Both services are supervised by our s6-svscan (the pid s6-svscanboot became).
    wait_supervised(&logger);
    wait_supervised(&scan.join("chatty"));
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(cmdline.starts_with(bin("s6-svscan").as_os_str().as_encoded_bytes()), "not our s6-svscan");
    let mut names: Vec<String> = supervisors(pid).into_iter().map(|(_, n)| n).collect();
    names.sort();
    assert_eq!(names, ["chatty", "s6-svscan-log"]);
    service_pid(&mut tree, &scan.join("chatty"));
    service_pid(&mut tree, &logger);

    let current = logs.join("current");
    assert!(
        wait_until(T, || std::fs::read_to_string(&current).unwrap_or_default().contains("chatty-says-hello")),
        "the service's output never reached the catch-all logdir; caller's stderr: {}",
        caller_err()
    );
    // Every line carries the TAI64N stamp the `t` directive asks for.
    let text = std::fs::read_to_string(&current).unwrap();
    assert!(text.lines().all(|l| l.starts_with('@') && l.len() > 26), "{text}");

    let everyone = descendants(pid as i32);
    for &p in &everyone {
        tree.adopt(p);
    }
    assert!(everyone.len() >= 4, "supervisors and services: {everyone:?}");
    assert_eq!(svscanctl(&["-t"], &scan).status.code(), Some(0));
    let st = tree.wait_exit(pid, T).expect("s6-svscan did not exit after -t");
    assert_eq!(st.code(), Some(0));
    let left: Vec<i32> = everyone.iter().copied().filter(|&p| alive(p)).collect();
    assert!(
        left.is_empty() || wait_until(T, || everyone.iter().all(|&p| !alive(p))),
        "still running after the tree ended: {left:?}"
    );
    // Nothing reached the caller: it all went to the catch-all logger.
    assert_eq!(std::fs::read_to_string(t.join("caller.out")).unwrap(), "");
    assert_eq!(caller_err(), "");
}

#[test]
fn svscanboot_user_mode_needs_xdg_runtime_dir_and_refuses_bad_options() {
    let t = TempDir::new("svscanboot-bad");
    let mut c = Command::new(bin("s6-svscanboot"));
    c.args(["-u"]).arg(t.join("scan")).env_remove("XDG_RUNTIME_DIR");
    let o = run(c, T);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (Some(100), "s6-svscanboot: fatal: XDG_RUNTIME_DIR not set\n".to_owned())
    );
    assert!(!t.join("scan").exists());
    let mut c = Command::new(bin("s6-svscanboot"));
    c.args(["-m", "8"]).arg(t.join("scan"));
    let o = run(c, T);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (Some(100), "s6-svscanboot: fatal: catchall-mode must be an (octal) unsigned integer\n".to_owned())
    );
    // A scandir path under a file: the logger directory cannot be made.
    std::fs::write(t.join("file"), "").unwrap();
    let mut c = Command::new(bin("s6-svscanboot"));
    c.arg("-D").arg(t.join("logs")).arg(t.join("file/scan"));
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(111));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.starts_with("s6-svscanboot: fatal: unable to mkdir "), "{err}");
}
