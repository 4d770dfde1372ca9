//! Shared test machinery: our binaries by explicit path, temp dirs, child processes that are
//! killed by PID when a test ends, and bounded event waits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Path of one of our programs, built by cargo for this test run. Never looked up in PATH.
pub fn bin(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_s6-svok"));
    let p = dir.parent().expect("bin dir").join(name);
    assert!(p.exists(), "our binary {name} was not built at {}", p.display());
    p
}

/// Path of a real s6 2.11 program from Debian, for interop tests. Panics (never skips) when
/// it is missing: `.ci/run` installs it.
pub fn real(name: &str) -> PathBuf {
    let p = Path::new("/usr/bin").join(name);
    assert!(p.exists(), "real s6 program {} is missing: apt-get install s6 execline", p.display());
    p
}

/// A scratch directory removed at drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("s6rs-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir temp");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, s: &str) -> PathBuf {
        self.0.join(s)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Processes started by a test. Drop asks each one to stop with SIGTERM (a supervisor then
/// stops its service), waits a bounded time, then SIGKILLs by PID what is left, including
/// grandchildren the test registered with [`Tree::adopt`].
#[derive(Default)]
pub struct Tree {
    children: Vec<Child>,
    /// Adopted processes: pid and start time (see [`proc_stat`]).
    others: Vec<(i32, u64)>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    /// Starts `cmd` and keeps it for cleanup; returns its pid.
    pub fn spawn(&mut self, mut cmd: Command) -> u32 {
        let child = cmd.spawn().expect("spawn");
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// Keeps a child the test spawned itself (to take its pipes first); returns its pid.
    pub fn add(&mut self, child: Child) -> u32 {
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// Registers a pid the test did not start directly (e.g. a service under a supervisor)
    /// so that Drop kills it too, if it is still the same process then: pids are reused
    /// fast under load (`pid_max` is often 32768), and a dead service's pid may belong to
    /// another test's process by the time the test ends.
    pub fn adopt(&mut self, pid: i32) {
        if let Some((_, start)) = proc_stat(pid).filter(|_| pid > 0) {
            self.others.push((pid, start));
        }
    }

    /// Takes back a child (to wait on it), so Drop no longer kills it.
    pub fn take(&mut self, pid: u32) -> Option<Child> {
        let i = self.children.iter().position(|c| c.id() == pid)?;
        Some(self.children.remove(i))
    }

    /// Signals a child by PID.
    pub fn signal(&self, pid: u32, sig: i32) {
        // SAFETY: kill with a pid we started.
        unsafe { libc::kill(pid as i32, sig) };
    }

    /// Waits (bounded) for a child to exit and returns its status.
    #[allow(clippy::zombie_processes)] // try_wait has reaped it
    pub fn wait_exit(&mut self, pid: u32, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        let i = self.children.iter().position(|c| c.id() == pid)?;
        loop {
            if let Ok(Some(st)) = self.children[i].try_wait() {
                // Already reaped by try_wait; wait() just returns the saved status.
                let _ = self.children.remove(i).wait();
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        for c in &self.children {
            // SAFETY: plain kill of pids we started.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        for c in &mut self.children {
            loop {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                if Instant::now() >= deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        for &(pid, start) in &self.others {
            if proc_stat(pid).is_some_and(|(_, s)| s == start) {
                // SAFETY: plain kill of a pid registered by the test, still the same process.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// State letter and start time (clock ticks since boot) of a process, from /proc/PID/stat:
/// together with the pid they name one process, where a pid alone is soon reused.
pub fn proc_stat(pid: i32) -> Option<(char, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: fields are counted after it.
    let mut f = s[s.rfind(')')? + 1..].split_whitespace();
    let state = f.next()?.chars().next()?;
    Some((state, f.nth(18)?.parse().ok()?))
}

/// Every descendant of `pid`, from /proc's children lists.
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let list = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        for c in list.split_whitespace().filter_map(|c| c.parse().ok()) {
            out.push(c);
            todo.push(c);
        }
    }
    out
}

/// The permission bits of `p` (following a symlink).
pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap_or_else(|e| panic!("stat {}: {e}", p.display())).permissions().mode() & 0o7777
}

/// Polls `cond` until it holds or `timeout` passes. Used only where the condition is a
/// file-system state with no event to wait on from outside the process under test.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs a command to completion (bounded by `timeout`), capturing its output.
pub fn run(mut cmd: Command, timeout: Duration) -> std::process::Output {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    wait_output(child, timeout, &format!("{cmd:?}"))
}

/// Waits (bounded by `timeout`) for a child started with piped stdout and stderr, and
/// collects its output; on a timeout kills it and fails naming it `what`, with its stderr.
pub fn wait_output(mut child: Child, timeout: Duration, what: &str) -> std::process::Output {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("{what} timed out; stderr: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs a command to completion (bounded by `timeout`) with `input` on its stdin, capturing
/// its stdout and stderr. The input is written by a thread of its own and both outputs are
/// drained while the command runs, so a command that writes before it has read everything
/// cannot stall.
pub fn run_with_input(mut cmd: Command, input: &[u8], timeout: Duration) -> std::process::Output {
    use std::io::Write;
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(out) = rx.recv_timeout(timeout) else {
        // SAFETY: plain kill of the child started here, which its waiter has not reported
        // reaped.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = rx.recv_timeout(Duration::from_secs(5));
        panic!("command timed out: {cmd:?}");
    };
    let _ = writer.join();
    out.expect("wait for the command")
}

/// Starts `cmd` with the signals in `ignored` ignored, every other one at its default
/// disposition, and none blocked, whatever this test process inherited: a supervisor hands
/// the dispositions it inherited on to its services (as s6 does), and a test runner started
/// in the background of a shell script has SIGINT and SIGQUIT ignored, which would make
/// signal tests fail for the wrong reason.
pub fn ignoring_signals<'a>(cmd: &'a mut Command, ignored: &[i32]) -> &'a mut Command {
    use std::os::unix::process::CommandExt;
    let ignored = ignored.to_vec();
    // SAFETY: the closure runs in the child between fork and exec and makes only
    // async-signal-safe calls (sigaction through signal, sigprocmask) on data built before.
    unsafe {
        cmd.pre_exec(move || {
            for s in 1..=64 {
                if s != libc::SIGKILL && s != libc::SIGSTOP {
                    let h = if ignored.contains(&s) { libc::SIG_IGN } else { libc::SIG_DFL };
                    // The raw system call: the C library refuses the signals it reserves
                    // for itself, which a test runner may have inherited ignored.
                    let act = [h, 0, 0, 0]; // handler, flags, restorer, empty mask
                    libc::syscall(libc::SYS_rt_sigaction, s, act.as_ptr(), std::ptr::null::<usize>(), 8);
                }
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            Ok(())
        })
    }
}

/// A run-script body that records the `SigBlk` and `SigIgn` lines of its own
/// /proc/PID/status in `./sigs` (with shell builtins, before the shell forks anything, so
/// they are what the script was started with), then sleeps.
pub const RECORD_SIGNALS: &str = "while IFS= read -r l; do case $l in SigIgn*|SigBlk*) echo \"$l\";; esac; done < /proc/$$/status > sigs.tmp\nmv sigs.tmp sigs\nexec sleep 100\n";

/// The `SigBlk`/`SigIgn` lines [`RECORD_SIGNALS`] writes for a process that starts with
/// `ignored` ignored and nothing blocked.
pub fn signal_lines(ignored: &[i32]) -> String {
    let bits = ignored.iter().fold(0u64, |acc, &s| acc | 1 << (s - 1));
    format!("SigBlk:\t{:016x}\nSigIgn:\t{bits:016x}\n", 0)
}

/// Writes an executable script.
pub fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, body).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
