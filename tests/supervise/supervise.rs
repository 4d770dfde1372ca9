//! s6-supervise: start-up layout, the state machine, timers, readiness, the death tally and
//! every control byte, driven through the control fifo and observed through the status file
//! and a fifodir listener.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use s6rs_supervise::fifodir::{self, Listener};
use s6rs_supervise::svstatus::Status;

use crate::support::*;

const T: Duration = Duration::from_secs(5);

/// Events read from a service's `event/` fifodir, with a cursor over what was checked.
pub(crate) struct Events {
    l: Listener,
    buf: Vec<u8>,
    pos: usize,
}

impl Events {
    /// Subscribes to `svc/event`, creating it as s6-supervise would (03730, our egid).
    pub(crate) fn subscribe(svc: &Path) -> Events {
        // SAFETY: getegid cannot fail.
        let gid = unsafe { libc::getegid() };
        fifodir::make(&svc.join("event"), Some(gid), false).expect("make event/");
        Events { l: Listener::subscribe(&svc.join("event")).expect("subscribe"), buf: Vec::new(), pos: 0 }
    }

    /// Waits (bounded) for more bytes; false on timeout.
    fn fill(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut pfd = libc::pollfd { fd: self.l.as_fd().as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, left.as_millis() as i32) };
        if r <= 0 {
            return false;
        }
        let mut b = [0u8; 64];
        let n = self.l.read(&mut b).expect("read events");
        self.buf.extend_from_slice(&b[..n]);
        true
    }

    /// Asserts that the next events are exactly `want`, waiting at most `timeout`.
    pub(crate) fn expect(&mut self, want: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.buf.len() < self.pos + want.len() {
            if !self.fill(deadline) {
                break;
            }
        }
        let got = String::from_utf8_lossy(&self.buf[self.pos..]).into_owned();
        assert!(got.starts_with(want), "expected events {want:?}, got {got:?}");
        self.pos += want.len();
    }

    /// Asserts that no event comes within `d`.
    pub(crate) fn quiet(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while self.fill(deadline) {}
        let got = String::from_utf8_lossy(&self.buf[self.pos..]).into_owned();
        assert!(got.is_empty(), "expected no events, got {got:?}");
    }

    /// Every event received so far.
    pub(crate) fn all(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }
}

/// A supervisor under test: its process, its service directory and its events. Drop stops
/// the supervisor, then SIGKILLs every service pid the test adopted.
pub(crate) struct Sup {
    pub tree: Tree,
    pub pid: u32,
    pub dir: PathBuf,
    pub log: PathBuf,
    pub ev: Events,
}

impl Sup {
    /// Starts `prog` (ours or the real one) on `dir`, subscribed to its events first.
    pub(crate) fn start(prog: &Path, dir: &Path) -> Sup {
        Sup::start_ignoring(prog, dir, &[])
    }

    /// [`Sup::start`] with the signals in `ignored` ignored (and every other signal at its
    /// default disposition, none blocked), as a supervisor's parent may start it.
    pub(crate) fn start_ignoring(prog: &Path, dir: &Path, ignored: &[i32]) -> Sup {
        let ev = Events::subscribe(dir);
        let log = dir.with_extension("stderr");
        let mut c = Command::new(prog);
        c.arg(dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(File::create(&log).expect("log"));
        ignoring_signals(&mut c, ignored);
        let mut tree = Tree::new();
        let pid = tree.spawn(c);
        Sup { tree, pid, dir: dir.to_path_buf(), log, ev }
    }

    pub(crate) fn ours(dir: &Path) -> Sup {
        Sup::start(&bin("s6-supervise"), dir)
    }

    /// Our s6-supervise on `dir`, once it has started the service (`su`), with the
    /// service adopted: (supervisor, service pid).
    pub(crate) fn ours_up(dir: &Path) -> (Sup, i32) {
        let mut s = Sup::ours(dir);
        s.ev.expect("su", T);
        let pid = s.adopt();
        (s, pid)
    }

    pub(crate) fn status(&self) -> Status {
        Status::read(&self.dir).expect("read status")
    }

    /// Registers the current service pid for cleanup and returns it.
    pub(crate) fn adopt(&mut self) -> i32 {
        let pid = self.status().pid as i32;
        self.tree.adopt(pid);
        pid
    }

    pub(crate) fn send(&self, cmds: &str) {
        s6rs_supervise::control::send(&self.dir, "supervise", cmds.as_bytes()).expect("send control");
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the supervisor to exit and returns its exit code.
    pub(crate) fn exit_code(&mut self, timeout: Duration) -> Option<i32> {
        self.tree.wait_exit(self.pid, timeout).and_then(|s| s.code())
    }
}

/// A fresh service directory `TMP/svc` with a run script.
pub(crate) fn service(tag: &str, run: &str) -> (TempDir, PathBuf) {
    let t = TempDir::new(tag);
    let dir = t.join("svc");
    std::fs::create_dir(&dir).unwrap();
    script(&dir.join("run"), &format!("#!/bin/sh\n{run}\n"));
    (t, dir)
}

fn write(dir: &Path, name: &str, body: &str) {
    std::fs::write(dir.join(name), body).unwrap();
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Process state letter from /proc (R, S, T, Z...).
fn proc_state(pid: i32) -> char {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    s.rsplit(')').next().and_then(|r| r.trim().chars().next()).unwrap_or('?')
}

const SLEEP: &str = "exec sleep 100";

#[test]
fn supervise_startup_layout_and_first_status() {
    let (_t, dir) = service("sv-start", SLEEP);
    write(&dir, "down", "");
    let mut tree = Tree::new();
    let mut c = Command::new(bin("s6-supervise"));
    c.arg(&dir).stdin(Stdio::null()).stdout(Stdio::null());
    let pid = tree.spawn(c);
    assert!(wait_until(T, || Status::read(&dir).is_ok()));
    assert_eq!(mode(&dir.join("event")), 0o3730);
    // SAFETY: getegid cannot fail.
    assert_eq!(std::fs::metadata(dir.join("event")).unwrap().gid(), unsafe { libc::getegid() });
    assert_eq!(mode(&dir.join("supervise")), 0o700);
    assert_eq!(mode(&dir.join("supervise/lock")), 0o644);
    let ctl = std::fs::symlink_metadata(dir.join("supervise/control")).unwrap();
    assert!(ctl.file_type().is_fifo());
    assert_eq!(ctl.permissions().mode() & 0o7777, 0o600);
    assert_eq!(std::fs::metadata(dir.join("supervise/death_tally")).unwrap().len(), 0);
    let raw = std::fs::read(dir.join("supervise/status")).unwrap();
    assert_eq!(raw.len(), 35);
    let st = Status::unpack(&raw).unwrap();
    // 2.11 layout: pid 0, ready, not paused, wantup cleared by ./down.
    assert_eq!((st.pid, st.wstat, raw[34]), (0, 0, 0x08));
    assert_eq!(st.stamp, st.readystamp);
    assert!(s6rs_supervise::cmd::svok::is_supervised(&dir).unwrap());
    drop(tree);
    let _ = pid;
}

#[test]
fn supervise_start_and_stop() {
    let (_t, dir) = service("sv-updown", SLEEP);
    let (mut s, pid) = Sup::ours_up(&dir);
    let st = s.status();
    assert!(st.is_up() && st.wantup && !st.ready && alive(pid));
    s.send("d");
    s.ev.expect("dD", T);
    let st = s.status();
    assert_eq!((st.pid, st.wstat, st.wantup, st.ready, st.finishing), (0, 15, false, true, false));
    let tally = std::fs::read(dir.join("supervise/death_tally")).unwrap();
    assert_eq!(tally.len(), 14);
    assert_eq!(&tally[12..], &[0x8f, 0x0f]);
    s.send("u");
    s.ev.expect("u", T);
    s.adopt();
    s.send("dx");
    s.ev.expect("dDx", T);
    assert_eq!(s.exit_code(T), Some(0));
}

#[test]
fn supervise_restarts_a_crashing_service_at_most_once_a_second() {
    let (_t, dir) = service("sv-pace", "exit 3");
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    let mut starts = vec![Instant::now()];
    for _ in 0..2 {
        s.ev.expect("dD", T);
        s.ev.expect("u", T);
        starts.push(Instant::now());
    }
    for w in starts.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= Duration::from_millis(900), "restarted after {gap:?}");
        assert!(gap < Duration::from_millis(2500), "restarted after {gap:?}");
    }
    s.send("O");
    s.ev.expect("dD", T);
    s.ev.quiet(Duration::from_millis(1300));
    assert_eq!(s.status().wstat, 0x0300);
}

#[test]
fn supervise_finish_gets_four_arguments_and_runs_as_pid_of_status() {
    let (_t, dir) = service("sv-finish", "exit 7");
    write(&dir, "down", "");
    let out = dir.join("args");
    script(&dir.join("finish"), &format!("#!/bin/sh\necho \"$@\" >> {}\nsleep 0.3\n", out.display()));
    let mut s = Sup::ours(&dir);
    s.ev.expect("s", T);
    s.send("o");
    s.ev.expect("u", T);
    let runpid = s.status().pid;
    s.ev.expect("d", T);
    let st = s.status();
    assert!(st.finishing && st.pid != 0 && st.pid != runpid && !st.is_up());
    assert_eq!(st.wstat, 0x0700);
    s.ev.expect("D", T);
    let args = std::fs::read_to_string(&out).unwrap();
    assert_eq!(args, format!("7 0 {} {runpid}\n", dir.display()));

    // Killed by a signal: 256 and the signal number.
    std::fs::remove_file(&out).unwrap();
    script(&dir.join("run"), "#!/bin/sh\nexec sleep 100\n");
    s.send("o");
    s.ev.expect("u", T);
    let runpid = s.adopt();
    s.send("k");
    s.ev.expect("dD", T);
    let args = std::fs::read_to_string(&out).unwrap();
    assert_eq!(args, format!("256 9 {} {runpid}\n", dir.display()));
    assert_eq!(s.status().wstat, 9);
}

#[test]
fn supervise_readiness_through_notification_fd() {
    let (_t, dir) = service("sv-ready", "sleep 0.2\necho ready >&3\nexec sleep 100");
    write(&dir, "notification-fd", "3\n");
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    assert!(!s.status().ready);
    s.ev.expect("U", T);
    let st = s.status();
    assert!(st.ready && st.is_up());
    assert!(st.readystamp > st.stamp);
    // Once ready for more than a second, a death restarts at once.
    std::thread::sleep(Duration::from_millis(1100));
    s.send("k");
    let t0 = Instant::now();
    s.ev.expect("dDu", T);
    assert!(t0.elapsed() < Duration::from_millis(800), "{:?}", t0.elapsed());
    s.adopt();
    s.ev.expect("U", T);
}

#[test]
fn supervise_timeout_kill_kills_a_service_ignoring_sigterm() {
    let (_t, dir) = service("sv-tkill", "trap '' TERM\ntouch armed\nexec sleep 100");
    write(&dir, "timeout-kill", "300\n");
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    assert!(wait_until(T, || dir.join("armed").exists()));
    let t0 = Instant::now();
    s.send("d");
    s.ev.expect("dD", T);
    assert!(t0.elapsed() >= Duration::from_millis(250));
    assert_eq!(s.status().wstat, 9);
}

#[test]
fn supervise_timeout_killpg_kills_the_group() {
    let (_t, dir) = service("sv-tkillpg", "trap '' TERM\nsleep 100 &\necho $! > child\nwait");
    write(&dir, "timeout-kill", "200\n");
    write(&dir, "flag-timeout-killpg", "");
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    assert!(wait_until(T, || std::fs::read_to_string(dir.join("child")).is_ok_and(|c| c.ends_with('\n'))));
    let child: i32 = std::fs::read_to_string(dir.join("child")).unwrap().trim().parse().unwrap();
    s.tree.adopt(child);
    s.send("d");
    s.ev.expect("dD", T);
    assert!(wait_until(T, || !alive(child) || proc_state(child) == 'Z'));
}

#[test]
fn supervise_timeout_finish_kills_a_slow_finish() {
    let (_t, dir) = service("sv-tfinish", SLEEP);
    script(&dir.join("finish"), "#!/bin/sh\nexec sleep 100\n");
    write(&dir, "timeout-finish", "300\n");
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    s.send("d");
    s.ev.expect("d", T);
    let fpid = s.adopt();
    let t0 = Instant::now();
    s.ev.expect("D", T);
    assert!(t0.elapsed() >= Duration::from_millis(200));
    assert!(wait_until(T, || !alive(fpid)));
    assert!(s.stderr().contains("finish script lifetime reached maximum value"), "{}", s.stderr());
}

#[test]
fn supervise_death_tally_is_trimmed_to_max_death_tally() {
    let (_t, dir) = service("sv-tally", "exit 1");
    write(&dir, "down", "");
    write(&dir, "max-death-tally", "2\n");
    let mut s = Sup::ours(&dir);
    s.ev.expect("s", T);
    for _ in 0..3 {
        s.send("o");
        s.ev.expect("udD", T);
    }
    let tally = std::fs::read(dir.join("supervise/death_tally")).unwrap();
    assert_eq!(tally.len(), 28);
    assert_eq!((tally[12], tally[13], tally[26], tally[27]), (1, 0, 1, 0));
    assert!(tally[..12] < tally[14..26]);
    write(&dir, "max-death-tally", "0\n");
    s.send("o");
    s.ev.expect("udD", T);
    assert_eq!(std::fs::read(dir.join("supervise/death_tally")).unwrap().len(), 28);
}

#[test]
fn supervise_finish_exit_125_is_a_permanent_failure() {
    let (_t, dir) = service("sv-perma", "exit 2");
    script(&dir.join("finish"), "#!/bin/sh\nexit 125\n");
    let mut s = Sup::ours(&dir);
    s.ev.expect("sudOD", T);
    let st = s.status();
    assert!(!st.wantup && st.ready && st.pid == 0);
    assert_eq!(st.wstat, 0x0200);
    s.ev.quiet(Duration::from_millis(1300));
}

#[test]
fn supervise_o_and_big_o() {
    // o while down: start once, no restart.
    let (_t, dir) = service("sv-once", "exit 0");
    write(&dir, "down", "");
    let mut s = Sup::ours(&dir);
    s.ev.expect("s", T);
    s.send("o");
    s.ev.expect("udD", T);
    s.ev.quiet(Duration::from_millis(1300));
    assert!(!s.status().wantup);

    // O while up: the service keeps running, but is not restarted when it dies.
    script(&dir.join("run"), "#!/bin/sh\nexec sleep 100\n");
    s.send("u");
    s.ev.expect("u", T);
    let pid = s.adopt();
    s.send("O");
    s.ev.quiet(Duration::from_millis(300));
    let st = s.status();
    assert!(!st.wantup && st.is_up() && alive(pid));
    s.send("k");
    s.ev.expect("dD", T);
    s.ev.quiet(Duration::from_millis(1300));
}

#[test]
fn supervise_q_creates_down_and_leaves_the_service_running() {
    let (_t, dir) = service("sv-q", SLEEP);
    let (mut s, pid) = Sup::ours_up(&dir);
    s.send("Q");
    assert!(wait_until(T, || dir.join("down").exists()));
    assert!(wait_until(T, || !s.status().wantup));
    let raw = std::fs::read(dir.join("supervise/status")).unwrap();
    assert_eq!(raw[34], 0x00);
    assert!(alive(pid) && s.status().pid == pid as u64);
    s.send("U");
    assert!(wait_until(T, || !dir.join("down").exists() && s.status().wantup));
    s.send("D");
    s.ev.expect("dD", T);
    assert!(dir.join("down").exists());
}

#[test]
fn supervise_x_waits_for_the_service_and_closes_stdio() {
    let (_t, dir) = service("sv-x", SLEEP);
    let (mut s, _) = Sup::ours_up(&dir);
    s.send("x");
    let fd1 = format!("/proc/{}/fd/1", s.pid);
    let fd0 = format!("/proc/{}/fd/0", s.pid);
    // stdout was /dev/null already; stdin too: check they are still /dev/null and open.
    assert!(wait_until(T, || std::fs::read_link(&fd1).is_ok_and(|p| p == Path::new("/dev/null"))));
    assert!(std::fs::read_link(&fd0).is_ok());
    s.ev.quiet(Duration::from_millis(200));
    assert!(s.tree.wait_exit(s.pid, Duration::from_millis(10)).is_none());
    s.send("d");
    s.ev.expect("dDx", T);
    assert_eq!(s.exit_code(T), Some(0));

    // x while down exits at once.
    let (_t2, dir2) = service("sv-x2", SLEEP);
    write(&dir2, "down", "");
    let mut s2 = Sup::ours(&dir2);
    s2.ev.expect("s", T);
    s2.send("x");
    s2.ev.expect("x", T);
    assert_eq!(s2.exit_code(T), Some(0));
}

#[test]
fn supervise_x_gives_the_last_finish_dev_null() {
    let (t, dir) = service("sv-xnull", SLEEP);
    let out = t.join("fd");
    script(&dir.join("finish"), &format!("#!/bin/sh\nreadlink /proc/self/fd/0 > {}\n", out.display()));
    let ev = Events::subscribe(&dir);
    // stdin is a pipe we keep open: after x the supervisor must let go of it.
    let mut c = Command::new(bin("s6-supervise"));
    c.arg(&dir).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    let mut tree = Tree::new();
    let pid = tree.spawn(c);
    let mut s = Sup { tree, pid, dir: dir.clone(), log: t.join("none"), ev };
    s.ev.expect("su", T);
    s.adopt();
    s.send("x");
    let fd0 = format!("/proc/{pid}/fd/0");
    assert!(wait_until(T, || std::fs::read_link(&fd0).is_ok_and(|p| p == Path::new("/dev/null"))));
    s.send("d");
    s.ev.expect("dDx", T);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "/dev/null\n");
    assert_eq!(s.exit_code(T), Some(0));
}

#[test]
fn supervise_pause_and_continue() {
    let (_t, dir) = service("sv-pc", SLEEP);
    let (mut s, pid) = Sup::ours_up(&dir);
    s.send("p");
    assert!(wait_until(T, || s.status().paused));
    assert_eq!(std::fs::read(dir.join("supervise/status")).unwrap()[34], 0x05);
    assert!(wait_until(T, || proc_state(pid) == 'T'));
    s.send("c");
    assert!(wait_until(T, || !s.status().paused));
    assert_eq!(std::fs::read(dir.join("supervise/status")).unwrap()[34], 0x04);
    assert!(wait_until(T, || proc_state(pid) != 'T'));
    // P/C act on the process group.
    s.send("P");
    assert!(wait_until(T, || s.status().paused && proc_state(pid) == 'T'));
    s.send("C");
    assert!(wait_until(T, || !s.status().paused && proc_state(pid) != 'T'));
    s.send("K");
    s.ev.expect("dDu", T);
    s.adopt();
}

/// Logs every trappable signal the control alphabet can send to `./sigs`, tagged `tag`,
/// then creates `./TAG-ready`.
fn trapper(tag: &str) -> String {
    format!(
        "for s in ALRM ABRT QUIT HUP INT USR1 USR2 WINCH TERM CONT; do trap \"echo {tag} $s >> sigs\" $s; done\n\
         touch {tag}-ready\n"
    )
}

#[test]
fn supervise_signal_commands_reach_run_but_never_finish() {
    // The Up column of the state x command table sends each letter's signal to ./run ...
    let run = format!("{}trap - TERM\nwhile :; do sleep 1 & wait $!; done", trapper("run"));
    let (_t, dir) = service("sv-sigcells", &run);
    let finish = format!(
        "#!/bin/sh\n{}while [ ! -e go ]; do sleep 1 & wait $!; done\ntouch finish-done\n",
        trapper("finish")
    );
    script(&dir.join("finish"), &finish);
    write(&dir, "timeout-finish", "60000\n");
    let sigs = || std::fs::read_to_string(dir.join("sigs")).unwrap_or_default();
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    assert!(wait_until(T, || dir.join("run-ready").exists()));
    s.send("abqhi12y");
    let want = ["ABRT", "ALRM", "HUP", "INT", "QUIT", "USR1", "USR2", "WINCH"].map(|n| format!("run {n}"));
    let got = || {
        let mut v: Vec<String> = sigs().lines().map(str::to_owned).collect();
        v.sort();
        v
    };
    assert!(wait_until(T, || got() == want), "{:?}", got());

    // ... and the Finish column ignores every signal command: ./finish is not the service.
    s.send("d");
    s.ev.expect("d", T);
    s.adopt();
    assert!(wait_until(T, || dir.join("finish-ready").exists()));
    // Q is applied in order after them, so once ./down exists every letter was read.
    s.send("abqhkti12pcyrlPCKQ");
    assert!(wait_until(T, || dir.join("down").exists()));
    std::fs::write(dir.join("go"), "").unwrap();
    s.ev.expect("D", Duration::from_secs(20));
    assert!(dir.join("finish-done").exists(), "./finish was killed or stopped");
    assert!(!sigs().contains("finish"), "{}", sigs());
}

#[test]
fn supervise_second_instance_exits_100() {
    let (_t, dir) = service("sv-twice", SLEEP);
    let _running = Sup::ours_up(&dir);
    let mut c = Command::new(bin("s6-supervise"));
    c.arg(&dir);
    let out = run(c, T);
    assert_eq!(out.status.code(), Some(100));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "s6-supervise {}: fatal: another instance of s6-supervise is already running\n",
            dir.display()
        )
    );
}

#[test]
fn supervise_usage_and_bad_dir() {
    let out = run(Command::new(bin("s6-supervise")), T);
    assert_eq!(out.status.code(), Some(100));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "s6-supervise: usage: s6-supervise dir\n");
    let mut c = Command::new(bin("s6-supervise"));
    c.arg("/nonexistent/s6rs/svc");
    let out = run(c, T);
    assert_eq!(out.status.code(), Some(111));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("s6-supervise: fatal: unable to chdir to"));
    // supervise/ exists but is a file.
    let (_t, dir) = service("sv-notdir", SLEEP);
    write(&dir, "supervise", "");
    let mut c = Command::new(bin("s6-supervise"));
    c.arg(&dir);
    let out = run(c, T);
    assert_eq!(out.status.code(), Some(100));
    assert!(String::from_utf8_lossy(&out.stderr).contains("supervise exists and is not a directory"));
}

#[test]
fn supervise_missing_run_is_retried_without_dying() {
    let (_t, dir) = service("sv-norun", SLEEP);
    std::fs::remove_file(dir.join("run")).unwrap();
    let mut s = Sup::ours(&dir);
    s.ev.expect("s", T);
    assert!(wait_until(T, || s
        .stderr()
        .contains("unable to spawn ./run (waiting 60 seconds): No such file")));
    let st = s.status();
    assert!(st.wantup && st.pid == 0);
    assert!(s.stderr().starts_with(&format!("s6-supervise {}: warning: ", dir.display())), "{}", s.stderr());
    // Not executable: same.
    write(&dir, "run", "#!/bin/sh\nexec sleep 100\n");
    s.send("u");
    assert!(wait_until(T, || s.stderr().contains("Permission denied")));
    script(&dir.join("run"), "#!/bin/sh\nexec sleep 100\n");
    s.send("u");
    s.ev.expect("u", T);
    s.adopt();
}

#[test]
fn supervise_survives_garbage_config_files() {
    let (_t, dir) = service("sv-garbage", SLEEP);
    write(&dir, "notification-fd", "three\n");
    write(&dir, "timeout-kill", "soon\n");
    write(&dir, "timeout-finish", "-5\n");
    write(&dir, "max-death-tally", "lots\n");
    write(&dir, "down-signal", "NOPE\n");
    write(&dir, "lock-fd", "0\n");
    script(&dir.join("finish"), "#!/bin/sh\nexit 0\n");
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    s.send("d");
    s.ev.expect("dD", T);
    let st = s.status();
    assert_eq!(st.wstat, 15, "default down signal");
    // The default tally size applies.
    assert_eq!(std::fs::read(dir.join("supervise/death_tally")).unwrap().len(), 14);
    let log = s.stderr();
    for w in [
        "invalid notification-fd",
        "invalid timeout-kill",
        "invalid timeout-finish",
        "invalid max-death-tally",
        "invalid down-signal",
        "invalid lock-fd",
    ] {
        assert!(log.contains(w), "missing {w:?} in {log}");
    }
    // A fifo in place of a setting file does not hang the supervisor.
    std::fs::remove_file(dir.join("timeout-kill")).unwrap();
    s6rs_sys::fd::mkfifo(&dir.join("timeout-kill"), 0o600).unwrap();
    s.send("u");
    s.ev.expect("u", T);
    s.adopt();
    s.send("d");
    s.ev.expect("dD", T);
}

#[test]
fn supervise_signals_r_and_l_read_their_files_at_use_time() {
    let (t, dir) = service(
        "sv-rl",
        "trap 'echo usr1 >> got' USR1\ntrap 'echo usr2 >> got; exit 0' USR2\ntouch armed\nwhile :; do sleep 0.05; done",
    );
    let _ = t;
    write(&dir, "reload-signal", "USR1\n");
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    assert!(wait_until(T, || dir.join("armed").exists()));
    s.send("l");
    assert!(wait_until(T, || std::fs::read_to_string(dir.join("got")).unwrap_or_default() == "usr1\n"));
    write(&dir, "down-signal", "SIGUSR2\n");
    s.send("r");
    s.ev.expect("dD", T);
    assert_eq!(std::fs::read_to_string(dir.join("got")).unwrap(), "usr1\nusr2\n");
    assert!(s.status().wantup);
    s.ev.expect("u", T);
    s.adopt();
}

#[test]
fn supervise_sigterm_brings_the_service_down_then_exits() {
    let (_t, dir) = service("sv-term", SLEEP);
    let (mut s, pid) = Sup::ours_up(&dir);
    s.tree.signal(s.pid, libc::SIGTERM);
    s.ev.expect("dDx", T);
    assert_eq!(s.exit_code(T), Some(0));
    assert!(wait_until(T, || !alive(pid)));
}

#[test]
fn supervise_sigquit_leaves_the_service_running() {
    let (_t, dir) = service("sv-quit", SLEEP);
    let (mut s, pid) = Sup::ours_up(&dir);
    s.tree.signal(s.pid, libc::SIGQUIT);
    s.ev.expect("x", T);
    assert_eq!(s.exit_code(T), Some(0));
    assert!(alive(pid));
}

#[test]
fn supervise_sigint_interrupts_the_service_group() {
    let (_t, dir) = service("sv-int", SLEEP);
    let (mut s, pid) = Sup::ours_up(&dir);
    s.tree.signal(s.pid, libc::SIGINT);
    s.ev.expect("x", T);
    assert_eq!(s.exit_code(T), Some(0));
    assert!(wait_until(T, || !alive(pid)));
}

/// A group command sent as soon as `s6-svc -wu` returns must find the group: the service's
/// session and process group exist before the supervisor reports it up. (The supervisor
/// used to announce `u` while the child could still be on its way to setsid, and `-K`
/// missed the group about once in a hundred rounds under load.)
#[test]
fn supervise_k_reaches_the_group_right_after_up() {
    let (_t, dir) = service("sv-kup", SLEEP);
    write(&dir, "down", "");
    let mut s = Sup::ours(&dir);
    s.ev.expect("s", T);
    let svc = |args: &[&str]| {
        let mut c = Command::new(bin("s6-svc"));
        c.args(args).arg(&dir);
        let out = run(c, T);
        assert_eq!(out.status.code(), Some(0), "s6-svc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    for round in 0..150 {
        svc(&["-O"]);
        svc(&["-wu", "-T", "5000", "-o"]);
        let pid = s.adopt();
        svc(&["-K"]);
        // Nothing else kills the service: if -K missed the group, "dD" never comes.
        s.ev.expect("udD", T);
        assert_eq!(s.status().wstat, 9, "round {round}: service {pid} not killed by SIGKILL");
    }
}

#[test]
fn supervise_sighup_acts_like_x() {
    let (_t, dir) = service("sv-hup", SLEEP);
    let (mut s, pid) = Sup::ours_up(&dir);
    s.tree.signal(s.pid, libc::SIGHUP);
    s.ev.quiet(Duration::from_millis(300));
    assert!(alive(pid));
    s.send("k");
    s.ev.expect("dDx", T);
    assert_eq!(s.exit_code(T), Some(0));
}

#[test]
fn supervise_flag_newpidns_runs_the_service_as_pid_1() {
    let (_t, dir) = service("sv-pidns", "echo $$ > pid\nexec sleep 100");
    write(&dir, "flag-newpidns", "");
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    assert!(wait_until(T, || std::fs::read_to_string(dir.join("pid")).is_ok_and(|p| p.ends_with('\n'))));
    assert_eq!(std::fs::read_to_string(dir.join("pid")).unwrap(), "1\n");
    // pid 1 of a namespace ignores SIGTERM it has no handler for: kill it.
    s.send("k");
    s.ev.expect("dDu", T);
    s.adopt();
}

#[test]
fn supervise_lock_fd_holds_the_service_lock() {
    let (_t, dir) = service("sv-lockfd", "[ -e /proc/self/fd/5 ] && echo ok > fd5\nexec sleep 100");
    write(&dir, "lock-fd", "5\n");
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    assert!(wait_until(T, || dir.join("fd5").exists()));
    let f = File::open(dir.join("supervise/service-lock")).unwrap();
    assert!(s6rs_sys::lock::is_locked(f.as_fd()).unwrap());
    drop(f);
    s.send("d");
    s.ev.expect("dD", T);
}

#[test]
fn supervise_refuses_notification_fd_equal_to_lock_fd() {
    let (_t, dir) = service("sv-lockeq", SLEEP);
    write(&dir, "lock-fd", "4\n");
    write(&dir, "notification-fd", "4\n");
    let mut s = Sup::ours(&dir);
    s.ev.expect("s", T);
    assert!(wait_until(T, || s.stderr().contains("notification-fd and lock-fd are the same")));
    s.ev.quiet(Duration::from_millis(300));
    std::fs::remove_file(dir.join("lock-fd")).unwrap();
    s.send("u");
    s.ev.expect("u", T);
    s.adopt();
}

#[test]
fn supervise_events_after_no_finish_are_one_write() {
    // 2.15: a missing ./finish gives "dD" in one write (2.11 wrote d then D).
    let (_t, dir) = service("sv-dD", SLEEP);
    let (mut s, _) = Sup::ours_up(&dir);
    s.send("d");
    s.ev.expect("dD", T);
    assert_eq!(s.ev.all(), "sudD");
}

#[test]
fn supervise_follows_supervise_and_event_symlinks() {
    let (t, dir) = service("sv-links", SLEEP);
    write(&dir, "down", "");
    // A dangling link gets its target created; an existing target directory is reused
    // (upstream dies on the latter).
    let sup_target = t.join("state-supervise");
    std::os::unix::fs::symlink(&sup_target, dir.join("supervise")).unwrap();
    let ev_target = t.join("state-event");
    std::fs::create_dir(&ev_target).unwrap();
    std::fs::set_permissions(&ev_target, std::fs::Permissions::from_mode(0o1733)).unwrap();
    std::os::unix::fs::symlink(&ev_target, dir.join("event")).unwrap();
    let mut tree = Tree::new();
    let mut c = Command::new(bin("s6-supervise"));
    c.arg(&dir).stdin(Stdio::null()).stdout(Stdio::null());
    tree.spawn(c);
    assert!(wait_until(T, || sup_target.join("status").exists()));
    assert_eq!(mode(&sup_target), 0o700);
    // An existing event directory is used as it is.
    assert_eq!(mode(&ev_target), 0o1733);
}

/// Started with SIGCHLD ignored, the kernel would reap the service itself and send no
/// SIGCHLD: the supervisor must put SIGCHLD back to its default (its trap does) and see
/// the death, as upstream's, which catches SIGCHLD.
#[test]
fn supervise_started_with_sigchld_ignored_sees_the_service_die() {
    let (_t, dir) = service("sv-sigchld-ign", SLEEP);
    let mut s = Sup::start_ignoring(&bin("s6-supervise"), &dir, &[libc::SIGCHLD]);
    s.ev.expect("su", T);
    let pid = s.adopt();
    // SAFETY: plain kill of the service pid this test adopted just above.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    s.ev.expect("d", T);
    s.send("dx");
    assert_eq!(s.exit_code(T), Some(0));
}
