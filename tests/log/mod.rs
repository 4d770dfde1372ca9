//! The logger: s6-log (scripts, logdirs, rotation, processors, reliability), the TAI64N
//! filters, ucspilogd and s6-socklog; and interop with real s6's programs.

mod basics;
mod filters;
mod interop_log;
mod reliability;
mod rotation;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Our s6-log.
pub fn log() -> PathBuf {
    crate::support::bin("s6-log")
}

/// A file's size, 0 when it does not exist (yet).
pub fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Archive file names in a logdir, oldest first.
pub fn archives(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 27 && n.starts_with('@') && (n.ends_with(".s") || n.ends_with(".u")))
        .collect();
    v.sort();
    v
}

/// Everything a logdir holds, in order: the archives, oldest first, then `current`.
pub fn content(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for a in archives(dir) {
        out.extend(std::fs::read(dir.join(a)).unwrap());
    }
    if let Ok(c) = std::fs::read(dir.join("current")) {
        out.extend(c);
    }
    out
}

/// `n` numbered lines of about `width` bytes, with a tag.
pub fn lines(tag: &str, n: usize, width: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let mut l = format!("{tag} line {i:06} ");
        while l.len() < width - 1 {
            l.push((b'a' + (l.len() % 26) as u8) as char);
        }
        out.extend(l.as_bytes());
        out.push(b'\n');
    }
    out
}

/// The mode bits of a file.
pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// A pipe: (read end, write end).
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh fds from pipe2.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Gives the child `fd` as fd 3 (for `-d 3`).
pub fn with_fd3(cmd: &mut Command, fd: RawFd) {
    // SAFETY: dup2 is async-signal-safe; fd is open in the parent at spawn time.
    unsafe {
        cmd.pre_exec(move || {
            let rc = if fd == 3 { libc::fcntl(3, libc::F_SETFD, 0) } else { libc::dup2(fd, 3) };
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Waits (bounded) for a line on a readiness pipe.
pub fn wait_ready(r: OwnedFd, timeout: Duration) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut f = std::fs::File::from(r);
        let mut b = [0u8; 1];
        let _ = tx.send(f.read(&mut b).map(|n| n == 1 && b[0] == b'\n').unwrap_or(false));
    });
    assert_eq!(rx.recv_timeout(timeout), Ok(true), "no readiness notification");
}

/// A running logger: its child, stdin, and its stderr collected by a thread.
pub struct Running {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub err: mpsc::Receiver<Vec<u8>>,
    pub errtext: Vec<u8>,
}

impl Running {
    /// Starts `prog args` in `cwd` with piped stdin/stderr and `-d 3` readiness (the
    /// caller passes `-d 3` in `args` when `ready` is set), waiting for readiness.
    pub fn start(prog: &Path, args: &[&str], cwd: &Path, ready: bool) -> Running {
        Running::start_io(prog, args, cwd, ready, Stdio::piped(), Stdio::null())
    }

    /// [`Running::start`] with the caller's stdin and stdout (`stdin` is `None` unless
    /// piped).
    pub fn start_io(
        prog: &Path,
        args: &[&str],
        cwd: &Path,
        ready: bool,
        stdin: Stdio,
        stdout: Stdio,
    ) -> Running {
        let mut cmd = Command::new(prog);
        cmd.args(args).current_dir(cwd).stdin(stdin).stdout(stdout).stderr(Stdio::piped());
        let rw = ready.then(pipe);
        if let Some((_, w)) = &rw {
            with_fd3(&mut cmd, w.as_raw_fd());
        }
        let mut child = cmd.spawn().expect("spawn logger");
        let stdin = child.stdin.take();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut b) {
                if n == 0 || tx.send(b[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        if let Some((r, w)) = rw {
            drop(w);
            wait_ready(r, Duration::from_secs(10));
        }
        Running { child, stdin, err: rx, errtext: Vec::new() }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn write(&mut self, data: &[u8]) {
        self.stdin.as_mut().unwrap().write_all(data).unwrap();
        self.stdin.as_mut().unwrap().flush().unwrap();
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill of a child we started.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// Waits (bounded) until stderr contains `needle`.
    pub fn wait_stderr(&mut self, needle: &str, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if String::from_utf8_lossy(&self.errtext).contains(needle) {
                return;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.err.recv_timeout(left) {
                Ok(chunk) => self.errtext.extend(chunk),
                Err(_) => {
                    panic!("stderr never said {needle:?}; got {:?}", String::from_utf8_lossy(&self.errtext))
                }
            }
        }
    }

    /// Closes stdin and waits (bounded) for the exit code; collects the rest of stderr.
    pub fn finish(mut self, timeout: Duration) -> (i32, String) {
        drop(self.stdin.take());
        self.wait(timeout)
    }

    /// Waits (bounded) for the exit code; collects the rest of stderr.
    pub fn wait(mut self, timeout: Duration) -> (i32, String) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                while let Ok(chunk) = self.err.recv_timeout(Duration::from_secs(2)) {
                    self.errtext.extend(chunk);
                }
                let code = st.code().unwrap_or(-1);
                return (code, String::from_utf8_lossy(&self.errtext).into_owned());
            }
            if std::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("logger did not exit; stderr: {}", String::from_utf8_lossy(&self.errtext));
            }
            while let Ok(chunk) = self.err.try_recv() {
                self.errtext.extend(chunk);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Pids of the children of `pid` (from /proc).
pub fn children_of(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// A path under `dir`, as a string for argv.
pub fn arg(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// Runs a filter program with `input` on stdin (bounded), returning its stdout.
pub fn filter(prog: &Path, args: &[&str], env: &[(&str, &str)], input: &[u8]) -> Vec<u8> {
    let env: Vec<(&str, Option<&str>)> = env.iter().map(|&(k, v)| (k, Some(v))).collect();
    filter_env(prog, args, &env, input)
}

/// [`filter`] with each variable set, or removed when `None`.
pub fn filter_env(prog: &Path, args: &[&str], env: &[(&str, Option<&str>)], input: &[u8]) -> Vec<u8> {
    let mut cmd = Command::new(prog);
    cmd.args(args);
    for &(k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = crate::support::run_with_input(cmd, input, Duration::from_secs(20));
    assert!(
        out.status.success(),
        "{} failed: {:?}, {}",
        prog.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Our program or Debian's, by name.
pub fn prog(real: bool, name: &str) -> PathBuf {
    if real {
        crate::support::real(name)
    } else {
        crate::support::bin(name)
    }
}
