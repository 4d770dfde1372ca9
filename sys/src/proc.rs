//! Process identity and relations: sessions, process groups, the terminal's foreground
//! group, and the child-subreaper attribute.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// This process's pid.
pub fn pid() -> i32 {
    // SAFETY: getpid cannot fail.
    unsafe { libc::getpid() }
}

/// Starts a new session with this process as its leader (fails with EPERM for a process
/// group leader). Returns the new session id.
pub fn setsid() -> io::Result<i32> {
    syscall!(setsid())
}

/// Makes this process the leader of a new process group (`setpgid(0, 0)`).
pub fn new_process_group() -> io::Result<()> {
    syscall!(setpgid(0, 0)).map(drop)
}

/// Makes `pgrp` the foreground process group of the terminal `tty`.
pub fn set_foreground(tty: BorrowedFd<'_>, pgrp: i32) -> io::Result<()> {
    syscall!(tcsetpgrp(tty.as_raw_fd(), pgrp)).map(drop)
}

/// Makes this process a child subreaper: orphaned descendants are reparented to it rather
/// than to init, so it can wait for them.
#[cfg(target_os = "linux")]
pub fn set_child_subreaper() -> io::Result<()> {
    let on: libc::c_ulong = 1;
    syscall!(prctl(
        libc::PR_SET_CHILD_SUBREAPER,
        on,
        0 as libc::c_ulong,
        0 as libc::c_ulong,
        0 as libc::c_ulong
    ))
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_matches_std() {
        assert_eq!(pid() as u32, std::process::id());
    }
}
