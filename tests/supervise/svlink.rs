//! s6-svlink and s6-svunlink against the REAL s6-svscan (2.11): supervisors appear before
//! s6-svlink exits and are gone when s6-svunlink exits; down files; failures, timeouts and
//! what is undone.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use s6rs_supervise::cmd::svok::is_supervised;

use super::clients_util::*;
use crate::support::*;

const CAT_LOGGER: &str = "#!/bin/sh\nexec cat >/dev/null\n";

/// `root/sv/NAME` with a sleeper `run` and, when `logged`, a `log/` that drains its input.
fn servicedir(root: &Path, name: &str, logged: bool) -> PathBuf {
    let dir = service_dir(&root.join("sv"), name, SLEEPER);
    if logged {
        service_dir(&dir, "log", CAT_LOGGER);
    }
    dir
}

/// Runs `prog` in `cwd` with `args`.
fn in_dir(prog: PathBuf, cwd: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(prog);
    c.current_dir(cwd).args(args);
    run(c, T)
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

#[test]
fn svlink_then_svunlink_with_a_logger() {
    let t = TempDir::new("svlink");
    let mut tree = Tree::new();
    let scan = svscan(&mut tree, &t.join("scan"));
    let dir = servicedir(t.path(), "svc", true);
    let mut ev = Events::subscribe(&dir);

    // A relative servicedir is linked through its real path.
    let o = in_dir(bin("s6-svlink"), t.path(), &["-t", "5000", "scan", "sv/svc"]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", err(&o));
    assert_eq!(std::fs::read_link(scan.dir.join("svc")).unwrap(), std::fs::canonicalize(&dir).unwrap());
    // Both supervisors run as soon as s6-svlink returns.
    assert!(is_supervised(&dir).unwrap() && is_supervised(&dir.join("log")).unwrap());
    ev.wait(b'u');
    adopt_scan(&mut tree, &scan.dir);
    let pid = status(&dir).pid as i32;
    let logpid = status(&dir.join("log")).pid as i32;
    // event/ was made private to our group, as s6-supervise would have.
    let mode = std::fs::metadata(dir.join("log/event")).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o3730);
    // No listener fifo is left behind (event/ has ours).
    assert!(std::fs::read_dir(dir.join("log/event")).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("ftrig")));

    let o =
        ours("s6-svunlink", &[OsStr::new("-t"), OsStr::new("5000"), scan.dir.as_os_str(), OsStr::new("svc")]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", err(&o));
    assert!(std::fs::symlink_metadata(scan.dir.join("svc")).is_err());
    // Both supervisors have sent their last event (`x`) by the time s6-svunlink returns;
    // their locks go with the processes a moment later.
    assert!(wait_until(T, || !is_supervised(&dir).unwrap() && !is_supervised(&dir.join("log")).unwrap()));
    assert!(wait_until(T, || !alive(pid) && !alive(logpid)));
}

#[test]
fn svlink_down_options() {
    let t = TempDir::new("svlink-down");
    let mut tree = Tree::new();
    let scan = svscan(&mut tree, &t.join("scan"));

    // -d: the supervisor starts with the service down, and ./down is gone afterwards.
    let a = servicedir(t.path(), "a", true);
    let o = ours("s6-svlink", &[OsStr::new("-d"), OsStr::new("-t5000"), scan.dir.as_os_str(), a.as_os_str()]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(is_supervised(&a).unwrap());
    assert!(!a.join("down").exists() && !a.join("log/down").exists());
    let st = status(&a);
    assert!(!st.is_up() && !st.wantup);
    assert!(!status(&a.join("log")).wantup);

    // -D: same, and ./down stays. A name other than the basename.
    let b = servicedir(t.path(), "b", false);
    let o = ours(
        "s6-svlink",
        &[OsStr::new("-D"), OsStr::new("-t5000"), scan.dir.as_os_str(), b.as_os_str(), OsStr::new("other")],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(std::fs::read_link(scan.dir.join("other")).unwrap(), b);
    assert!(b.join("down").exists());
    assert!(!status(&b).wantup);

    // -P makes a missing event/ public; -f enforces it on an existing one.
    let c = servicedir(t.path(), "c", false);
    std::fs::write(c.join("down"), "").unwrap();
    let o = ours("s6-svlink", &[OsStr::new("-P"), OsStr::new("-t5000"), scan.dir.as_os_str(), c.as_os_str()]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(std::fs::metadata(c.join("event")).unwrap().permissions().mode() & 0o7777, 0o1733);
    let d = servicedir(t.path(), "d", false);
    std::fs::write(d.join("down"), "").unwrap();
    std::fs::create_dir(d.join("event")).unwrap();
    std::fs::set_permissions(d.join("event"), std::fs::Permissions::from_mode(0o3730)).unwrap();
    let o =
        ours("s6-svlink", &[OsStr::new("-Pf"), OsStr::new("-t5000"), scan.dir.as_os_str(), d.as_os_str()]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(std::fs::metadata(d.join("event")).unwrap().permissions().mode() & 0o7777, 0o1733);
    adopt_scan(&mut tree, &scan.dir);

    // -X: do not wait.
    for name in ["a", "other", "c", "d"] {
        let o = ours("s6-svunlink", &[OsStr::new("-X"), scan.dir.as_os_str(), OsStr::new(name)]);
        assert!(o.status.success(), "{}", err(&o));
        assert!(std::fs::symlink_metadata(scan.dir.join(name)).is_err());
    }
    assert!(wait_until(T, || [&a, &b, &c, &d].iter().all(|d| !is_supervised(d).unwrap())));
}

#[test]
fn svlink_checks_before_linking() {
    let t = TempDir::new("svlink-checks");
    let dir = servicedir(t.path(), "svc", false);
    let scan = t.join("scan");
    std::fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
    let args = |extra: &[&OsStr]| -> Vec<std::ffi::OsString> {
        let mut v = vec![scan.as_os_str().to_owned()];
        v.extend(extra.iter().map(|s| s.to_os_string()));
        v
    };

    let o = ours("s6-svlink", &args(&[dir.as_os_str()]));
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        err(&o),
        format!(
            "s6-svlink: fatal: unable to open {}/.s6-svscan/lock: No such file or directory\n",
            scan.display()
        )
    );
    // A lock nobody holds: no s6-svscan (exit 1, as upstream, although undocumented).
    std::fs::write(scan.join(".s6-svscan/lock"), "").unwrap();
    let o = ours("s6-svlink", &args(&[dir.as_os_str()]));
    assert_eq!(
        (o.status.code(), err(&o)),
        (Some(1), format!("s6-svlink: fatal: s6-svscan not running on {}\n", scan.display()))
    );
    assert_eq!(theirs("s6-svlink", &args(&[dir.as_os_str()])).status.code(), Some(1));

    let f = std::fs::OpenOptions::new().write(true).open(scan.join(".s6-svscan/lock")).unwrap();
    assert!(s6rs_sys::lock::try_lock(std::os::fd::AsFd::as_fd(&f), true).unwrap());
    std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = ours("s6-svlink", &args(&[dir.as_os_str()]));
    assert_eq!(
        (o.status.code(), err(&o)),
        (Some(100), format!("s6-svlink: fatal: {}/run is not executable\n", dir.display()))
    );
    std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("log"), "").unwrap();
    let o = ours("s6-svlink", &args(&[dir.as_os_str()]));
    assert_eq!(
        (o.status.code(), err(&o)),
        (Some(100), format!("s6-svlink: fatal: {}/log is not a directory\n", dir.display()))
    );
    std::fs::remove_file(dir.join("log")).unwrap();
    std::fs::create_dir(dir.join("log")).unwrap();
    let o = ours("s6-svlink", &args(&[dir.as_os_str()]));
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        err(&o),
        format!("s6-svlink: fatal: unable to stat {}/log/run: No such file or directory\n", dir.display())
    );
    assert!(
        std::fs::read_dir(&scan).unwrap().all(|e| e.unwrap().file_name() == ".s6-svscan"),
        "nothing linked"
    );

    for (a, msg) in [
        (vec![OsStr::new(""), dir.as_os_str()], "s6-svlink: fatal: invalid scandir\n"),
        (vec![scan.as_os_str(), OsStr::new("")], "s6-svlink: fatal: invalid servicedir\n"),
        (vec![scan.as_os_str(), dir.as_os_str(), OsStr::new(".hidden")], "s6-svlink: fatal: invalid name\n"),
    ] {
        let o = ours("s6-svlink", &a);
        assert_eq!((o.status.code(), err(&o)), (Some(100), msg.to_owned()));
    }
    let o = ours("s6-svlink", &[scan.as_os_str()]);
    assert_eq!(o.status.code(), Some(100));
    let o = ours("s6-svunlink", &[scan.as_os_str(), OsStr::new("/x")]);
    assert_eq!(
        (o.status.code(), err(&o)),
        (Some(100), "s6-svunlink: fatal: invalid service name\n".to_owned())
    );
}

/// A scan dir whose "s6-svscan" is this test: the lock is held and the control fifo read,
/// but nothing ever happens.
struct FakeScan {
    dir: PathBuf,
    _lock: std::fs::File,
    control: std::fs::File,
}

fn fake_scan(root: &Path) -> FakeScan {
    let dir = root.join("fake");
    std::fs::create_dir_all(dir.join(".s6-svscan")).unwrap();
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(".s6-svscan/lock"))
        .unwrap();
    assert!(s6rs_sys::lock::try_lock(std::os::fd::AsFd::as_fd(&lock), true).unwrap());
    s6rs_sys::fd::mkfifo(&dir.join(".s6-svscan/control"), 0o600).unwrap();
    let control = s6rs_sys::fd::open_read_nb(&dir.join(".s6-svscan/control")).unwrap();
    FakeScan { dir, _lock: lock, control }
}

impl FakeScan {
    fn received(&self) -> Vec<u8> {
        let mut buf = [0u8; 64];
        match s6rs_sys::fd::read(std::os::fd::AsFd::as_fd(&self.control), &mut buf) {
            Ok(n) => buf[..n].to_vec(),
            Err(_) => Vec::new(),
        }
    }
}

#[test]
fn svlink_timeout_undoes_the_link() {
    let t = TempDir::new("svlink-timeout");
    let scan = fake_scan(t.path());
    let dir = servicedir(t.path(), "svc", false);
    let o = ours(
        "s6-svlink",
        &[OsStr::new("-D"), OsStr::new("-t"), OsStr::new("300"), scan.dir.as_os_str(), dir.as_os_str()],
    );
    assert_eq!(o.status.code(), Some(99));
    assert_eq!(
        err(&o),
        format!(
            "s6-svlink: fatal: unable to link servicedir {} into scandir {} with name svc: Connection timed out\n",
            dir.display(),
            scan.dir.display()
        )
    );
    assert_eq!(scan.received(), b"a");
    assert!(std::fs::symlink_metadata(scan.dir.join("svc")).is_err(), "link taken back");
    assert!(!dir.join("down").exists(), "down file taken back");
    assert!(std::fs::read_dir(dir.join("event")).unwrap().next().is_none(), "listener fifo removed");

    // Real 2.11 s6-svlink behaves the same.
    let o =
        theirs("s6-svlink", &[OsStr::new("-t"), OsStr::new("300"), scan.dir.as_os_str(), dir.as_os_str()]);
    assert_eq!(o.status.code(), Some(99));
    assert!(std::fs::symlink_metadata(scan.dir.join("svc")).is_err());
}

#[test]
fn svunlink_is_a_destructor() {
    let t = TempDir::new("svunlink-fake");
    let scan = fake_scan(t.path());
    let dir = servicedir(t.path(), "svc", false);
    std::os::unix::fs::symlink(&dir, scan.dir.join("svc")).unwrap();
    // A "supervisor" that will never exit: the wait times out, and that is still success.
    let _held = hold(&dir);
    std::fs::create_dir_all(dir.join("event")).unwrap();
    let o = ours("s6-svunlink", &[OsStr::new("-t300"), scan.dir.as_os_str(), OsStr::new("svc")]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", err(&o));
    assert_eq!(scan.received(), b"an");
    assert!(std::fs::symlink_metadata(scan.dir.join("svc")).is_err());
    assert!(std::fs::read_dir(dir.join("event")).unwrap().next().is_none(), "listener fifo removed");
    // Nothing there at all: still 0.
    let o = ours("s6-svunlink", &[OsStr::new("-t300"), scan.dir.as_os_str(), OsStr::new("svc")]);
    assert!(o.status.success(), "{}", err(&o));
}
