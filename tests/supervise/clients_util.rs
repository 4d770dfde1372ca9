//! Shared pieces of the client-tool tests (s6-svc, s6-svstat, s6-svdt, s6-svperms,
//! s6-svlink...): service dirs run by the REAL s6-supervise, event subscriptions to wait on,
//! and crafted status files read under a lock the test holds, so that ours and Debian's
//! programs can be compared on exactly the same bytes.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use s6rs_supervise::fifodir::{self, Listener};
use s6rs_supervise::svstatus::Status;
use s6rs_sys::tai::Tain;

use crate::support::*;

/// Bound on every wait in these tests.
pub const T: Duration = Duration::from_secs(10);

/// Makes `root/name` with an executable `run` holding `body`.
pub fn service_dir(root: &Path, name: &str, body: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    script(&dir.join("run"), body);
    dir
}

/// A run script that stays up until killed.
pub const SLEEPER: &str = "#!/bin/sh\nexec sleep 1000\n";

/// A subscription to a service's `event/` fifodir.
pub struct Events {
    l: Listener,
    seen: Vec<u8>,
}

impl Events {
    /// Subscribes to `dir/event`, creating it as a supervisor would.
    pub fn subscribe(dir: &Path) -> Events {
        // SAFETY: getegid cannot fail.
        fifodir::make(&dir.join("event"), Some(unsafe { libc::getegid() }), false).unwrap();
        Events { l: Listener::subscribe(&dir.join("event")).unwrap(), seen: Vec::new() }
    }

    /// Waits until event byte `c` arrives and consumes everything up to it.
    pub fn wait(&mut self, c: u8) {
        let deadline = Instant::now() + T;
        loop {
            if let Some(i) = self.seen.iter().position(|&b| b == c) {
                self.seen.drain(..=i);
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no event {:?} within {T:?} (got {:?})",
                c as char,
                String::from_utf8_lossy(&self.seen)
            );
            let mut pfd = libc::pollfd { fd: self.l.as_fd().as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut pfd, 1, left.as_millis() as i32 + 1) };
            let mut buf = [0u8; 64];
            loop {
                let n = self.l.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                self.seen.extend_from_slice(&buf[..n]);
            }
        }
    }

    /// Waits for each byte of `seq` in turn.
    pub fn wait_seq(&mut self, seq: &[u8]) {
        for &c in seq {
            self.wait(c);
        }
    }
}

/// A service under the real s6-supervise.
pub struct Supervised {
    pub pid: u32,
    pub ev: Events,
}

/// Starts the real s6-supervise on `dir` and waits for its start-up event; when the service
/// is meant to come up (no `./down`) it also waits for `u` and adopts the service's pid.
pub fn supervise(tree: &mut Tree, dir: &Path) -> Supervised {
    let mut ev = Events::subscribe(dir);
    let mut cmd = Command::new(real("s6-supervise"));
    cmd.arg(dir).stdin(Stdio::null()).stdout(Stdio::null());
    let pid = tree.spawn(cmd);
    ev.wait(b's');
    if !dir.join("down").exists() {
        ev.wait(b'u');
        adopt_service(tree, dir);
    }
    Supervised { pid, ev }
}

/// Registers the service's current pid for cleanup.
pub fn adopt_service(tree: &mut Tree, dir: &Path) -> i32 {
    let pid = status(dir).pid as i32;
    tree.adopt(pid);
    pid
}

/// The service's status record.
pub fn status(dir: &Path) -> Status {
    Status::read(dir).unwrap()
}

/// Runs one of our programs with `args`.
pub fn ours<S: AsRef<OsStr>>(name: &str, args: &[S]) -> Output {
    let mut c = Command::new(bin(name));
    c.args(args);
    run(c, T)
}

/// Runs Debian's program with `args`.
pub fn theirs<S: AsRef<OsStr>>(name: &str, args: &[S]) -> Output {
    let mut c = Command::new(real(name));
    c.args(args);
    run(c, T)
}

/// stdout as text.
pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A `supervise/lock` held by this test process, so that clients see a supervisor.
pub struct Held {
    _lock: File,
}

/// Makes `dir/supervise/` with a locked `lock`, as a running supervisor would have.
pub fn hold(dir: &Path) -> Held {
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join("supervise/lock"))
        .unwrap();
    assert!(s6rs_sys::lock::try_lock(f.as_fd(), true).unwrap());
    Held { _lock: f }
}

/// A stamp `secs` and a half seconds ago, so that whole-second ages stay the same for the
/// half second two programs take to read them one after the other.
pub fn ago(secs: u64) -> Tain {
    let now = Tain::now();
    let t = Tain { sec: now.sec - secs, nano: now.nano };
    if t.nano >= 500_000_000 {
        Tain { sec: t.sec, nano: t.nano - 500_000_000 }
    } else {
        Tain { sec: t.sec - 1, nano: t.nano + 500_000_000 }
    }
}

/// A running real s6-svscan on a scan directory.
pub struct Scan {
    pub dir: PathBuf,
}

/// Starts the real s6-svscan on `dir` and waits for its readiness notification.
pub fn svscan(tree: &mut Tree, dir: &Path) -> Scan {
    std::fs::create_dir_all(dir).unwrap();
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds that we own from here on.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh fds from pipe2.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let mut cmd = Command::new(real("s6-svscan"));
    let wfd = w.as_raw_fd();
    cmd.arg(format!("-d{wfd}")).arg(dir).stdin(Stdio::null()).stdout(Stdio::null());
    // The notification fd must survive exec in this child only.
    // SAFETY: pre_exec runs one async-signal-safe fcntl in the child.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            libc::fcntl(wfd, libc::F_SETFD, 0);
            Ok(())
        });
    }
    tree.spawn(cmd);
    drop(w);
    let mut pfd = libc::pollfd { fd: r.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, T.as_millis() as i32) };
    assert_eq!(n, 1, "s6-svscan did not notify readiness");
    Scan { dir: dir.to_path_buf() }
}

/// Adopts the services under every supervised directory of a scan dir (and their loggers).
pub fn adopt_scan(tree: &mut Tree, scan: &Path) {
    for ent in std::fs::read_dir(scan).unwrap().flatten() {
        for d in [ent.path(), ent.path().join("log")] {
            if let Ok(st) = Status::read(&d) {
                tree.adopt(st.pid as i32);
            }
        }
    }
}
