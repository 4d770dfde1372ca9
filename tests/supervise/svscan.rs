//! s6-svscan and s6-svscanctl: our programs, with whatever `s6-supervise` sits next to our
//! binaries. The tests only rely on supervisor behaviour every s6-supervise shares: it locks
//! `supervise/lock`, writes `supervise/status`, obeys `supervise/control`, stops its service
//! and exits on SIGTERM, and exits once its service is gone on SIGHUP.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use s6rs_supervise::cmd::svok::is_supervised;
use s6rs_supervise::svstatus::Status;

use crate::support::*;

const T: Duration = Duration::from_secs(10);

/// A running s6-svscan started by a test.
pub struct Scan {
    pub pid: u32,
    pub stderr: PathBuf,
}

impl Scan {
    /// What it printed on stderr so far.
    pub fn errors(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Its s6-supervise children, as (pid, service name).
    pub fn supervisors(&self) -> Vec<(i32, String)> {
        supervisors(self.pid)
    }

    /// The pid of the supervisor of `name`, if one runs.
    pub fn supervisor(&self, name: &str) -> Option<i32> {
        self.supervisors().into_iter().find(|(_, n)| n == name).map(|(p, _)| p)
    }
}

/// The s6-supervise children of `pid`: (pid, the directory argument).
pub fn supervisors(pid: u32) -> Vec<(i32, String)> {
    let list = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    list.split_whitespace()
        .filter_map(|p| {
            let cmd = std::fs::read(format!("/proc/{p}/cmdline")).ok()?;
            let args: Vec<&[u8]> = cmd.split(|&b| b == 0).collect();
            let prog = String::from_utf8_lossy(args.first()?);
            if !prog.ends_with("s6-supervise") {
                return None;
            }
            Some((p.parse().ok()?, String::from_utf8_lossy(args.get(1)?).into_owned()))
        })
        .collect()
}

/// Starts `prog` (an s6-svscan) on `dir` with `args` and `-d` on a pipe, and waits for its
/// readiness newline. Its stderr goes to `dir/../svscan.err`.
pub fn start_with(tree: &mut Tree, prog: &Path, dir: &Path, args: &[&str]) -> Scan {
    start_ignoring(tree, prog, dir, args, &[])
}

/// [`start_with`] with the signals in `ignored` ignored (every other one at its default
/// disposition, none blocked), as s6-svscan's parent may start it.
pub fn start_ignoring(tree: &mut Tree, prog: &Path, dir: &Path, args: &[&str], ignored: &[i32]) -> Scan {
    start_full(tree, prog, dir, args, ignored, &[])
}

/// [`start_with`] with these variables set in its environment (and so in the whole tree's).
pub fn start_env(
    tree: &mut Tree,
    prog: &Path,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> Scan {
    start_full(tree, prog, dir, args, &[], env)
}

fn start_full(
    tree: &mut Tree,
    prog: &Path,
    dir: &Path,
    args: &[&str],
    ignored: &[i32],
    env: &[(&str, &std::ffi::OsStr)],
) -> Scan {
    let stderr =
        dir.parent().unwrap().join(format!("svscan-{}.err", dir.file_name().unwrap().to_string_lossy()));
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds that we own from here on.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh fds from pipe2.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // The write end must survive exec: it is the notification fd.
    // SAFETY: fcntl on an fd we own.
    unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETFD, 0) };
    let mut cmd = Command::new(prog);
    cmd.arg(format!("-d{}", w.as_raw_fd()))
        .args(args)
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&stderr).unwrap())
        .envs(env.iter().copied());
    ignoring_signals(&mut cmd, ignored);
    let pid = tree.spawn(cmd);
    drop(w);
    let mut pfd = libc::pollfd { fd: r.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, 10_000) };
    assert_eq!(
        n,
        1,
        "s6-svscan never became ready; stderr: {}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    let mut byte = [0u8; 1];
    let mut f = File::from(r);
    assert_eq!(
        f.read(&mut byte).unwrap(),
        1,
        "no readiness: {}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    assert_eq!(&byte, b"\n");
    Scan { pid, stderr }
}

/// Starts our s6-svscan.
pub fn start(tree: &mut Tree, dir: &Path, args: &[&str]) -> Scan {
    start_with(tree, &bin("s6-svscan"), dir, args)
}

/// Writes a service directory with this `run` script.
pub fn service(dir: &Path, run: &str) {
    std::fs::create_dir_all(dir).unwrap();
    script(&dir.join("run"), &format!("#!/bin/sh\n{run}"));
}

/// Waits until a supervisor holds `dir`'s lock.
pub fn wait_supervised(dir: &Path) {
    assert!(wait_until(T, || is_supervised(dir).unwrap_or(false)), "{} never supervised", dir.display());
}

/// Waits until nobody holds `dir`'s lock.
pub fn wait_unsupervised(dir: &Path) {
    assert!(wait_until(T, || !is_supervised(dir).unwrap_or(true)), "{} still supervised", dir.display());
}

/// Waits until `dir`'s service runs, and returns its pid (also registered for cleanup).
pub fn service_pid(tree: &mut Tree, dir: &Path) -> i32 {
    let mut pid = 0;
    assert!(
        wait_until(T, || {
            pid = Status::read(dir).map(|s| s.pid as i32).unwrap_or(0);
            pid != 0
        }),
        "{} never came up",
        dir.display()
    );
    tree.adopt(pid);
    pid
}

/// Whether a process exists (zombies included).
pub fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Our s6-svscan, started on `scan` while another instance runs there, refuses with 100
/// and upstream's message.
pub fn assert_second_refused(scan: &Path) {
    let mut c = Command::new(bin("s6-svscan"));
    c.arg(scan);
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "s6-svscan: fatal: another instance of s6-svscan is already running on the same directory\n"
    );
}

/// Our s6-svscanctl with these arguments.
pub fn svscanctl(args: &[&str], dir: &Path) -> std::process::Output {
    let mut c = Command::new(bin("s6-svscanctl"));
    c.args(args).arg(dir);
    run(c, T)
}

/// Sends SIGTERM to `sv` and waits for it to exit; returns its exit code.
pub fn stop(tree: &mut Tree, sv: &Scan) -> Option<i32> {
    tree.signal(sv.pid, libc::SIGTERM);
    let st = tree.wait_exit(sv.pid, T).unwrap_or_else(|| panic!("s6-svscan did not exit: {}", sv.errors()));
    st.code()
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

#[test]
fn svscan_logger_pipe_survives_logger_and_supervisor_restarts() {
    let t = TempDir::new("svscan-pair");
    let scan = t.join("scan");
    let out = t.join("out");
    let go = |n: u32| t.join(&format!("go{n}"));
    // Four batches of 100 lines; each batch after the first waits for a go file.
    let mut run = String::from("i=1\n");
    for batch in 0..4u32 {
        if batch > 0 {
            run += &format!("while [ ! -e {} ]; do sleep 0.02; done\n", go(batch).display());
        }
        run += &format!("while [ $i -le {} ]; do echo line$i; i=$((i+1)); done\n", (batch + 1) * 100);
        run += &format!(": > {}\n", t.join(&format!("done{batch}")).display());
    }
    run += "exec sleep 1000\n";
    service(&scan.join("a"), &run);
    service(&scan.join("a/log"), &format!("exec cat >> {}\n", out.display()));
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    let (a, log) = (scan.join("a"), scan.join("a/log"));
    wait_supervised(&a);
    wait_supervised(&log);
    service_pid(&mut tree, &a);
    assert!(wait_until(T, || lines(&out).len() == 100), "first batch: {}", lines(&out).len());

    // 1. The logger's service dies; its supervisor restarts it on the same pipe.
    let cat = service_pid(&mut tree, &log);
    // SAFETY: kill by pid, a service we just read from the status file.
    unsafe { libc::kill(cat, libc::SIGKILL) };
    std::fs::write(go(1), "").unwrap();
    assert!(wait_until(T, || lines(&out).len() == 200), "second batch: {}", lines(&out).len());
    // The new logger can read before its supervisor has written it up: until then the status
    // still shows the death (pid 0), and step 2's wait for pid 0 would pass too early.
    assert!(wait_until(T, || Status::read(&log).map(|s| s.pid != 0 && s.pid != cat as u64).unwrap_or(false)));

    // 2. The logger is down while the producer writes: the pipe keeps the lines.
    s6rs_supervise::control::send(&log, "supervise", b"d").unwrap();
    assert!(wait_until(T, || Status::read(&log).map(|s| s.pid == 0).unwrap_or(false)));
    std::fs::write(go(2), "").unwrap();
    assert!(wait_until(T, || t.join("done2").exists()));
    assert_eq!(lines(&out).len(), 200);
    s6rs_supervise::control::send(&log, "supervise", b"u").unwrap();
    assert!(wait_until(T, || lines(&out).len() == 300), "third batch: {}", lines(&out).len());
    service_pid(&mut tree, &log);

    // 3. The logger's supervisor exits and s6-svscan starts a new one, which leaves the
    // service down (a `down` file) while the producer writes: the lines wait in the pipe
    // s6-svscan kept, and the new supervisor's logger gets them.
    let old = sv.supervisor("a/log").expect("logger supervisor");
    tree.adopt(old);
    std::fs::write(log.join("down"), "").unwrap();
    // SAFETY: kill by pid, a child of the s6-svscan we started.
    unsafe { libc::kill(old, libc::SIGTERM) };
    let mut new = None;
    assert!(wait_until(T, || {
        new = sv.supervisor("a/log").filter(|&p| p != old);
        new.is_some()
    }));
    tree.adopt(new.unwrap());
    wait_supervised(&log);
    std::fs::write(go(3), "").unwrap();
    assert!(wait_until(T, || t.join("done3").exists()));
    assert_eq!(lines(&out).len(), 300);
    s6rs_supervise::control::send(&log, "supervise", b"u").unwrap();
    service_pid(&mut tree, &log);
    assert!(wait_until(T, || lines(&out).len() == 400), "fourth batch: {}", lines(&out).len());
    let want: Vec<String> = (1..=400).map(|i| format!("line{i}")).collect();
    assert_eq!(lines(&out), want);
    assert_eq!(stop(&mut tree, &sv), Some(0));
}

#[test]
fn svscan_rescan_and_kills_of_removed_services() {
    let t = TempDir::new("svscan-rescan");
    let scan = t.join("scan");
    std::fs::create_dir_all(&scan).unwrap();
    for n in ["a", "b", "c", "d"] {
        service(&t.join(&format!("svcs/{n}")), "exec sleep 1000\n");
    }
    let link = |n: &str| std::os::unix::fs::symlink(t.join(&format!("svcs/{n}")), scan.join(n)).unwrap();
    let svc = |n: &str| t.join(&format!("svcs/{n}"));
    link("a");
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    wait_supervised(&svc("a"));
    let a_sup = sv.supervisor("a").unwrap();

    // New services appear on -a.
    for n in ["b", "c", "d"] {
        link(n);
    }
    assert_eq!(svscanctl(&["-a"], &scan).status.code(), Some(0));
    let mut pids = Vec::new();
    for n in ["b", "c", "d"] {
        wait_supervised(&svc(n));
        pids.push(service_pid(&mut tree, &svc(n)));
    }

    // A removed service is only killed on request: -an (scan, then kill inactive).
    std::fs::remove_file(scan.join("b")).unwrap();
    assert_eq!(svscanctl(&["-an"], &scan).status.code(), Some(0));
    wait_unsupervised(&svc("b"));
    assert!(wait_until(T, || !alive(pids[0])));

    // -h does the same in one letter.
    std::fs::remove_file(scan.join("c")).unwrap();
    assert_eq!(svscanctl(&["-h"], &scan).status.code(), Some(0));
    wait_unsupervised(&svc("c"));
    assert!(wait_until(T, || !alive(pids[1])));

    // So does SIGHUP.
    std::fs::remove_file(scan.join("d")).unwrap();
    tree.signal(sv.pid, libc::SIGHUP);
    wait_unsupervised(&svc("d"));
    assert!(wait_until(T, || !alive(pids[2])));

    // a was never touched.
    assert_eq!(sv.supervisor("a"), Some(a_sup));
    assert!(is_supervised(&svc("a")).unwrap());
    service_pid(&mut tree, &svc("a"));
    assert_eq!(stop(&mut tree, &sv), Some(0));
    assert!(!is_supervised(&svc("a")).unwrap());
}

#[test]
fn svscan_t_waits_for_loggers_and_execs_finish() {
    let t = TempDir::new("svscan-finish");
    let scan = t.join("scan");
    let out = t.join("out");
    let marker = t.join("finished");
    service(&scan.join("a"), "trap 'echo bye; exit 0' TERM\necho hi\nwhile :; do sleep 0.05; done\n");
    service(&scan.join("a/log"), &format!("exec cat >> {}\n", out.display()));
    service(&scan.join("b"), "exec sleep 1000\n");
    std::fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
    script(
        &scan.join(".s6-svscan/finish"),
        &format!("#!/bin/sh\necho \"$0 $# $(pwd)\" > {}\nexit 3\n", marker.display()),
    );
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    let mut pids = Vec::new();
    for n in ["a", "a/log", "b"] {
        wait_supervised(&scan.join(n));
        pids.push(service_pid(&mut tree, &scan.join(n)));
    }
    assert!(wait_until(T, || lines(&out) == ["hi"]));
    let sups: Vec<i32> = sv.supervisors().into_iter().map(|(p, _)| p).collect();
    assert_eq!(sups.len(), 3);
    assert_eq!(svscanctl(&["-t"], &scan).status.code(), Some(0));
    let st = tree.wait_exit(sv.pid, T).expect("s6-svscan exits on -t");
    // It became .s6-svscan/finish, run with no arguments from the scan directory.
    assert_eq!(st.code(), Some(3));
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        format!(".s6-svscan/finish 0 {}\n", scan.display())
    );
    // Loggers got SIGHUP: the logger drained the producer's last words before exiting.
    assert_eq!(lines(&out), ["hi", "bye"]);
    for p in pids.into_iter().chain(sups) {
        assert!(!alive(p), "pid {p} survived");
    }
}

#[test]
fn svscan_sigterm_without_finish_exits_0_and_second_instance_is_refused() {
    let t = TempDir::new("svscan-lock");
    let scan = t.join("scan");
    service(&scan.join("a"), "exec sleep 1000\n");
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    // Files of .s6-svscan (FORMATS.md §3.1).
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let mode = |p: &str| std::fs::metadata(scan.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(".s6-svscan"), 0o700);
    assert_eq!(mode(".s6-svscan/lock"), 0o600);
    assert_eq!(mode(".s6-svscan/control"), 0o600);
    assert!(std::fs::metadata(scan.join(".s6-svscan/control")).unwrap().file_type().is_fifo());

    assert_second_refused(&scan);
    wait_supervised(&scan.join("a"));
    let pid = service_pid(&mut tree, &scan.join("a"));
    assert_eq!(stop(&mut tree, &sv), Some(0));
    assert!(!alive(pid));
    assert!(!is_supervised(&scan.join("a")).unwrap());
}

#[test]
fn svscan_dangling_symlinks_cleaned_at_start_and_delay_later_scans() {
    let t = TempDir::new("svscan-dangling");
    let scan = t.join("scan");
    std::fs::create_dir_all(&scan).unwrap();
    std::os::unix::fs::symlink(t.join("nowhere"), scan.join("stale")).unwrap();
    std::fs::write(scan.join("afile"), "not a service").unwrap();
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    // Readiness comes after the cleanup.
    assert!(std::fs::symlink_metadata(scan.join("stale")).is_err());
    assert!(scan.join("afile").exists());

    // A dangling symlink that appears later is reported and skipped; the rest of the scan
    // goes on, and a scan 4 s later picks the entry up once it is fixed.
    std::os::unix::fs::symlink(t.join("nowhere"), scan.join("late")).unwrap();
    service(&scan.join("d"), "exec sleep 1000\n");
    assert_eq!(svscanctl(&["-a"], &scan).status.code(), Some(0));
    let warning = "s6-svscan: warning: unable to stat late: No such file or directory\n";
    assert!(wait_until(T, || sv.errors().contains(warning)), "stderr: {}", sv.errors());
    wait_supervised(&scan.join("d"));
    service_pid(&mut tree, &scan.join("d"));
    service(&t.join("late"), "exec sleep 1000\n");
    std::fs::remove_file(scan.join("late")).unwrap();
    std::os::unix::fs::symlink(t.join("late"), scan.join("late")).unwrap();
    let fixed = Instant::now();
    // No new command: the retry picks it up.
    wait_supervised(&t.join("late"));
    assert!(fixed.elapsed() < Duration::from_secs(8));
    service_pid(&mut tree, &t.join("late"));
    assert_eq!(stop(&mut tree, &sv), Some(0));
}

/// One entry that cannot be stat'ed (here a symlink loop, which the start-up cleanup of
/// dangling links leaves alone) used to keep s6-svscan from starting any service: every scan
/// was abandoned at that entry. It is now reported, in s6's words, and everything else runs.
#[test]
fn svscan_symlink_loop_beside_a_good_service_warns_and_supervises_the_rest() {
    let t = TempDir::new("svscan-loop");
    let scan = t.join("scan");
    service(&scan.join("good"), "exec sleep 1000\n");
    service(&scan.join("logged"), "exec sleep 1000\n");
    service(&scan.join("logged/log"), "exec cat > /dev/null\n");
    std::os::unix::fs::symlink("loop", scan.join("loop")).unwrap();
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    for d in ["good", "logged", "logged/log"] {
        wait_supervised(&scan.join(d));
        service_pid(&mut tree, &scan.join(d));
    }
    let warning = "s6-svscan: warning: unable to stat loop: Too many levels of symbolic links\n";
    assert!(wait_until(T, || sv.errors().contains(warning)), "stderr: {}", sv.errors());
    assert_eq!(sv.supervisors().len(), 3, "{:?}", sv.supervisors());

    // A known service whose name turns into a loop is not taken for a removed one: a prune
    // leaves it running.
    let good_sup = sv.supervisor("good").unwrap();
    std::fs::rename(scan.join("good"), t.join("good")).unwrap();
    std::os::unix::fs::symlink("good", scan.join("good")).unwrap();
    let mut ev = crate::supervise::supervise::Events::subscribe(&t.join("good"));
    assert_eq!(svscanctl(&["-an"], &scan).status.code(), Some(0));
    let warning = "s6-svscan: warning: unable to stat good: Too many levels of symbolic links\n";
    assert!(wait_until(T, || sv.errors().contains(warning)), "stderr: {}", sv.errors());
    // The prune follows the scan at once; a SIGTERM to the supervisor would bring the
    // service down within milliseconds.
    ev.quiet(Duration::from_millis(500));
    assert_eq!(sv.supervisor("good"), Some(good_sup));
    assert!(is_supervised(&t.join("good")).unwrap());
    assert_eq!(stop(&mut tree, &sv), Some(0));
}

#[test]
fn svscan_survives_a_vanished_scandir() {
    let t = TempDir::new("svscan-vanish");
    let scan = t.join("scan");
    let a = t.join("svcs/a");
    service(&a, "exec sleep 1000\n");
    std::fs::create_dir_all(&scan).unwrap();
    std::os::unix::fs::symlink(&a, scan.join("a")).unwrap();
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    wait_supervised(&a);
    let pid = service_pid(&mut tree, &a);
    std::fs::remove_dir_all(&scan).unwrap();
    // Our s6-svscanctl cannot reach it any more: the directory is gone.
    assert_eq!(svscanctl(&["-a"], &scan).status.code(), Some(111));
    // A removed directory reads as empty (glibc turns getdents' ENOENT into the end of the
    // directory): a rescan leaves the service running, inactive...
    tree.signal(sv.pid, libc::SIGALRM);
    // ... and SIGHUP prunes it.
    tree.signal(sv.pid, libc::SIGHUP);
    wait_unsupervised(&a);
    assert!(wait_until(T, || !alive(pid)));
    assert_eq!(stop(&mut tree, &sv), Some(0));
    assert_eq!(sv.errors(), "");
}

#[test]
fn svscan_restarts_a_dead_supervisor_no_sooner_than_a_second() {
    let t = TempDir::new("svscan-restart");
    let scan = t.join("scan");
    service(&scan.join("a"), "exec sleep 1000\n");
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    wait_supervised(&scan.join("a"));
    service_pid(&mut tree, &scan.join("a"));
    let first = sv.supervisor("a").unwrap();
    tree.adopt(first);
    // SAFETY: kill by pid, a child of our s6-svscan.
    unsafe { libc::kill(first, libc::SIGTERM) };
    let mut second = None;
    assert!(wait_until(T, || {
        second = sv.supervisor("a").filter(|&p| p != first);
        second.is_some()
    }));
    let seen = Instant::now();
    let second = second.unwrap();
    tree.adopt(second);
    // SAFETY: as above.
    unsafe { libc::kill(second, libc::SIGTERM) };
    let mut third = None;
    assert!(wait_until(T, || {
        third = sv.supervisor("a").filter(|&p| p != first && p != second);
        third.is_some()
    }));
    assert!(seen.elapsed() >= Duration::from_millis(900), "restarted after {:?}", seen.elapsed());
    tree.adopt(third.unwrap());
    wait_supervised(&scan.join("a"));
    let pid = service_pid(&mut tree, &scan.join("a"));
    // SIGINT is SIGTERM's twin: stop everything, wait, exit.
    tree.signal(sv.pid, libc::SIGINT);
    assert_eq!(tree.wait_exit(sv.pid, T).and_then(|s| s.code()), Some(0));
    assert!(!alive(pid));
}

#[test]
fn svscan_signal_scripts_replace_builtins() {
    let t = TempDir::new("svscan-sigscripts");
    let scan = t.join("scan");
    std::fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
    let m1 = t.join("usr1");
    let m2 = t.join("term");
    script(&scan.join(".s6-svscan/SIGUSR1"), &format!("#!/bin/sh\necho \"$0\" >> {}\n", m1.display()));
    script(&scan.join(".s6-svscan/SIGTERM"), &format!("#!/bin/sh\necho term >> {}\n", m2.display()));
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    tree.signal(sv.pid, libc::SIGUSR1);
    assert!(wait_until(T, || lines(&m1) == [".s6-svscan/SIGUSR1"]));
    // SIGTERM runs the script instead of stopping: s6-svscan still scans afterwards.
    tree.signal(sv.pid, libc::SIGTERM);
    assert!(wait_until(T, || lines(&m2) == ["term"]));
    service(&scan.join("late"), "exec sleep 1000\n");
    assert_eq!(svscanctl(&["-a"], &scan).status.code(), Some(0));
    wait_supervised(&scan.join("late"));
    service_pid(&mut tree, &scan.join("late"));
    // The scripts' processes were reaped like any other child: no zombie is left.
    let children = || std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", sv.pid)).unwrap();
    assert!(wait_until(T, || children().split_whitespace().count() == 1), "children: {}", children());
    assert_eq!(svscanctl(&["-t"], &scan).status.code(), Some(0));
    assert_eq!(tree.wait_exit(sv.pid, T).and_then(|s| s.code()), Some(0));
}

#[test]
fn svscan_unknown_control_command_warns() {
    let t = TempDir::new("svscan-unknown");
    let scan = t.join("scan");
    std::fs::create_dir_all(&scan).unwrap();
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    s6rs_supervise::control::send(&scan, ".s6-svscan", b"x").unwrap();
    assert!(wait_until(T, || sv.errors() == "s6-svscan: warning: received unknown control command: x\n"));
    assert_eq!(stop(&mut tree, &sv), Some(0));
}

#[test]
fn svscan_periodic_rescan_with_long_option() {
    let t = TempDir::new("svscan-timeout");
    let scan = t.join("scan");
    std::fs::create_dir_all(&scan).unwrap();
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &["--timeout=200", "--services-max=4", "--name-max=11"]);
    // No command: the periodic scan finds it.
    service(&scan.join("new"), "exec sleep 1000\n");
    wait_supervised(&scan.join("new"));
    service_pid(&mut tree, &scan.join("new"));
    // Longer than name_max: skipped with a warning.
    std::fs::create_dir_all(scan.join("a-much-too-long-name")).unwrap();
    let warning = "s6-svscan: warning: name too long - not spawning service: a-much-too-long-name\n";
    assert!(wait_until(T, || sv.errors().contains(warning)), "stderr: {}", sv.errors());
    assert_eq!(stop(&mut tree, &sv), Some(0));
}

#[test]
fn svscan_console_holder_goes_to_the_catch_all_logger_and_back_at_the_end() {
    let t = TempDir::new("svscan-console");
    let scan = t.join("scan");
    let console = t.join("console");
    service(&scan.join("s6-svscan-log"), "echo to-console >&2\nexec sleep 1000\n");
    service(&scan.join("a"), "echo a-stderr >&2\nexec sleep 1000\n");
    std::fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
    script(&scan.join(".s6-svscan/finish"), "#!/bin/sh\necho finish-out\necho finish-err >&2\n");
    let mut tree = Tree::new();
    // fd 3 is the console: opened by a shell that then becomes s6-svscan.
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg("exec \"$0\" -X 3 \"$1\" 3>>\"$2\"")
        .arg(bin("s6-svscan"))
        .arg(&scan)
        .arg(&console)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(t.join("stderr")).unwrap());
    let pid = tree.spawn(cmd);
    for n in ["s6-svscan-log", "a"] {
        wait_supervised(&scan.join(n));
        service_pid(&mut tree, &scan.join(n));
    }
    assert!(wait_until(T, || std::fs::read_to_string(&console).unwrap_or_default().contains("to-console")));
    assert!(wait_until(T, || std::fs::read_to_string(t.join("stderr"))
        .unwrap_or_default()
        .contains("a-stderr")));
    // q: SIGTERM to everyone, the catch-all logger included (it would wait for EOF on HUP).
    assert_eq!(svscanctl(&["-q"], &scan).status.code(), Some(0));
    assert_eq!(tree.wait_exit(pid, T).and_then(|s| s.code()), Some(0));
    let text = std::fs::read_to_string(&console).unwrap();
    assert_eq!(text, "to-console\nfinish-out\nfinish-err\n");
}

#[test]
fn svscan_usage_and_option_errors() {
    let o = run(Command::new(bin("s6-svscan")), T);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "s6-svscan: usage: s6-svscan [ -C services_max ] [ -L name_max ] [ -t timeout ] [ -d notif ] [ -X consoleholder ] scandir\n"
    );
    for (args, msg) in [
        (&["--services-max=x", "d"][..], "s6-svscan: fatal: services_max must be an unsigned integer\n"),
        (&["--bogus", "d"][..], "s6-svscan: fatal: unrecognized boolean option: --bogus\n"),
        (&["-d", "1", "d"][..], "s6-svscan: fatal: notif must be 3 or more\n"),
        (&["-X", "999", "d"][..], "s6-svscan: fatal: invalid console holder fd: Bad file descriptor\n"),
    ] {
        let mut c = Command::new(bin("s6-svscan"));
        c.args(args);
        let o = run(c, T);
        assert_eq!(o.status.code(), Some(100), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr), msg);
    }
    let t = TempDir::new("svscan-notdir");
    std::fs::write(t.join(".s6-svscan"), "").unwrap();
    let mut c = Command::new(bin("s6-svscan"));
    c.arg(t.path());
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "s6-svscan: fatal: .s6-svscan exists and is not a directory\n"
    );
    let mut c = Command::new(bin("s6-svscan"));
    c.arg(t.join("missing"));
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(111));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("s6-svscan: fatal: unable to chdir to "));
}

#[test]
fn svscanctl_errors() {
    let t = TempDir::new("svscanctl");
    let d = t.path();
    let o = svscanctl(&["-a"], d);
    assert_eq!(o.status.code(), Some(100));
    let not_listening =
        format!("s6-svscanctl: fatal: unable to control {}: supervisor not listening\n", d.display());
    assert_eq!(String::from_utf8_lossy(&o.stderr), not_listening);
    std::fs::create_dir(d.join(".s6-svscan")).unwrap();
    let o = svscanctl(&["-a"], d);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "s6-svscanctl: fatal: something is wrong with the {}/.s6-svscan directory. errno reported: No such file or directory\n",
            d.display()
        )
    );
    s6rs_sys::fd::mkfifo(&d.join(".s6-svscan/control"), 0o600).unwrap();
    let o = svscanctl(&["-a"], d);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(String::from_utf8_lossy(&o.stderr), not_listening);
    let o = svscanctl(&["-a"], &d.join("missing"));
    assert_eq!(o.status.code(), Some(111));
    for bad in [&["-p"][..], &["-x"][..], &[][..]] {
        let mut c = Command::new(bin("s6-svscanctl"));
        c.args(bad);
        let o = run(c, T);
        assert_eq!(o.status.code(), Some(100));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            "s6-svscanctl: usage: s6-svscanctl [ -zabhitqnN ] svscandir\n"
        );
    }
    // Letters go in order, in one write.
    let r = s6rs_sys::fd::open_read_nb(&d.join(".s6-svscan/control")).unwrap();
    assert_eq!(svscanctl(&["-zab", "-hitqnN"], d).status.code(), Some(0));
    let mut buf = [0u8; 64];
    let n = (&r).read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"zabhitqnN");
}

#[test]
fn svscan_abort_leaves_supervisors_and_failed_finish_execs_crash() {
    let t = TempDir::new("svscan-abort");
    let scan = t.join("scan");
    let marker = t.join("crashed");
    service(&scan.join("a"), "exec sleep 1000\n");
    std::fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
    // A finish that cannot be executed: s6-svscan falls back to crash.
    std::fs::write(scan.join(".s6-svscan/finish"), "#!/bin/sh\n").unwrap();
    script(
        &scan.join(".s6-svscan/crash"),
        &format!("#!/bin/sh\necho \"$0\" > {}\nexit 7\n", marker.display()),
    );
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    wait_supervised(&scan.join("a"));
    service_pid(&mut tree, &scan.join("a"));
    let sup = sv.supervisor("a").unwrap();
    tree.adopt(sup);
    // b: no kill, no wait.
    assert_eq!(svscanctl(&["-b"], &scan).status.code(), Some(0));
    assert_eq!(tree.wait_exit(sv.pid, T).and_then(|s| s.code()), Some(7));
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), ".s6-svscan/crash\n");
    let err = sv.errors();
    assert!(
        err.starts_with(
            "s6-svscan: warning: unable to exec finish script .s6-svscan/finish: Permission denied\n"
        ),
        "{err}"
    );
    assert!(err.ends_with("s6-svscan: warning: executing into .s6-svscan/crash\n"), "{err}");
    // The supervisor was left alone, and still runs its service.
    assert!(alive(sup));
    assert!(is_supervised(&scan.join("a")).unwrap());
    // SAFETY: kill by pid, the orphaned supervisor (it stops its service on SIGTERM).
    unsafe { libc::kill(sup, libc::SIGTERM) };
    wait_unsupervised(&scan.join("a"));
}

#[test]
fn svscan_t_hups_loggers_and_sigquit_terms_them() {
    let t = TempDir::new("svscan-quit");
    let mut tree = Tree::new();
    // A logger that never reads: only a SIGTERM (q, SIGQUIT) takes it down.
    let setup = |name: &str| {
        let scan = t.join(name);
        service(&scan.join("a"), "exec sleep 1000\n");
        service(&scan.join("a/log"), "exec sleep 1000\n");
        scan
    };
    let scan = setup("t");
    let sv = start(&mut tree, &scan, &[]);
    let main = service_pid(&mut tree, &scan.join("a"));
    let logger = service_pid(&mut tree, &scan.join("a/log"));
    // t: the service goes, the logger's supervisor only got SIGHUP and waits for its
    // service to exit on its own; s6-svscan waits for it.
    assert_eq!(svscanctl(&["-t"], &scan).status.code(), Some(0));
    wait_unsupervised(&scan.join("a"));
    assert!(!alive(main));
    assert!(alive(logger));
    assert!(tree.wait_exit(sv.pid, Duration::from_millis(300)).is_none());
    // SAFETY: kill by pid, the logger service read from its status file.
    unsafe { libc::kill(logger, libc::SIGTERM) };
    assert_eq!(tree.wait_exit(sv.pid, T).and_then(|s| s.code()), Some(0));

    let scan = setup("q");
    let sv = start(&mut tree, &scan, &[]);
    let main = service_pid(&mut tree, &scan.join("a"));
    let logger = service_pid(&mut tree, &scan.join("a/log"));
    tree.signal(sv.pid, libc::SIGQUIT);
    assert_eq!(tree.wait_exit(sv.pid, T).and_then(|s| s.code()), Some(0));
    assert!(!alive(main) && !alive(logger));
}
