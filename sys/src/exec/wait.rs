//! Waiting for children: wait statuses as s6 reads them, reaping without blocking, and
//! blocking waits that retry on EINTR.

use std::io;

/// A raw `waitpid` status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    /// The exit code if the process exited normally.
    pub fn exit_code(self) -> Option<i32> {
        libc::WIFEXITED(self.0).then(|| libc::WEXITSTATUS(self.0))
    }

    /// The signal number if the process was killed by a signal.
    pub fn signal(self) -> Option<i32> {
        libc::WIFSIGNALED(self.0).then(|| libc::WTERMSIG(self.0))
    }

    /// skalibs `wait_estatus`: the exit code, or 128 + signal.
    pub fn estatus(self) -> u8 {
        match (self.exit_code(), self.signal()) {
            (Some(c), _) => c as u8,
            (None, Some(s)) => (128 + s).min(255) as u8,
            _ => 0,
        }
    }
}

/// `waitpid(pid, flags)` (`-1`: any child), with the status word as the kernel gives it: s6
/// stores and compares that raw word (s6-supervise's status file, the death tally). Raw, not
/// nix: nix decodes the status into its `Signal` enum, which has no real-time signals, so a
/// child killed by one would be reaped and its status lost to an EINVAL. `None` when
/// `WNOHANG` found no child to reap yet.
fn waitpid(pid: i32, flags: libc::c_int) -> io::Result<Option<(i32, WaitStatus)>> {
    let mut status = 0;
    // SAFETY: `status` is a live, writable int for the duration of the call.
    match unsafe { libc::waitpid(pid, &mut status, flags) } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        pid => Ok(Some((pid, WaitStatus(status)))),
    }
}

/// Reaps one terminated child without blocking: `None` when there is none to reap now.
pub fn reap() -> io::Result<Option<(i32, WaitStatus)>> {
    match waitpid(-1, libc::WNOHANG) {
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(None),
        r => r,
    }
}

/// Checks without blocking whether the child `pid` has terminated, reaping it if so. ECHILD
/// (not our child) is an error.
pub fn try_wait(pid: i32) -> io::Result<Option<WaitStatus>> {
    Ok(waitpid(pid, libc::WNOHANG)?.map(|(_, st)| st))
}

/// Waits (blocking) for a specific child.
pub fn wait(pid: i32) -> io::Result<WaitStatus> {
    Ok(wait_blocking(pid)?.1)
}

/// Waits (blocking) for any child to terminate; EINTR is retried. ECHILD is returned as an
/// error: there is nothing left to wait for.
pub fn wait_any() -> io::Result<(i32, WaitStatus)> {
    wait_blocking(-1)
}

/// A blocking `waitpid`, retried on EINTR.
fn wait_blocking(pid: i32) -> io::Result<(i32, WaitStatus)> {
    loop {
        match waitpid(pid, 0) {
            Ok(Some(r)) => return Ok(r),
            // Without WNOHANG the kernel returns a child or an error, never "none yet".
            Ok(None) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
