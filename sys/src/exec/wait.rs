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

/// Reaps one terminated child without blocking: `None` when there is none to reap now.
pub fn reap() -> io::Result<Option<(i32, WaitStatus)>> {
    let mut status = 0;
    match syscall!(waitpid(-1, &mut status, libc::WNOHANG)) {
        Ok(0) => Ok(None),
        Ok(pid) => Ok(Some((pid, WaitStatus(status)))),
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Checks without blocking whether the child `pid` has terminated, reaping it if so. ECHILD
/// (not our child) is an error.
pub fn try_wait(pid: i32) -> io::Result<Option<WaitStatus>> {
    let mut status = 0;
    match syscall!(waitpid(pid, &mut status, libc::WNOHANG))? {
        0 => Ok(None),
        _ => Ok(Some(WaitStatus(status))),
    }
}

/// Waits (blocking) for a specific child.
pub fn wait(pid: i32) -> io::Result<WaitStatus> {
    let mut status = 0;
    loop {
        match syscall!(waitpid(pid, &mut status, 0)) {
            Ok(_) => return Ok(WaitStatus(status)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Waits (blocking) for any child to terminate; EINTR is retried. ECHILD is returned as an
/// error: there is nothing left to wait for.
pub fn wait_any() -> io::Result<(i32, WaitStatus)> {
    let mut status = 0;
    loop {
        match syscall!(waitpid(-1, &mut status, 0)) {
            Ok(pid) => return Ok((pid, WaitStatus(status))),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
