//! Process identity and relations: sessions, process groups, the terminal's foreground
//! group, and the child-subreaper attribute.

use std::io;
use std::os::fd::BorrowedFd;

use nix::unistd::Pid;

/// This process's pid.
pub fn pid() -> i32 {
    nix::unistd::getpid().as_raw()
}

/// This process's real uid.
pub fn uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// This process's effective uid.
pub fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// This process's effective gid.
pub fn egid() -> u32 {
    nix::unistd::getegid().as_raw()
}

/// Starts a new session with this process as its leader (fails with EPERM for a process
/// group leader). Returns the new session id.
pub fn setsid() -> io::Result<i32> {
    Ok(nix::unistd::setsid()?.as_raw())
}

/// The process group of process `pid` (ESRCH once it is gone). Never pass 0: that asks
/// for our own group.
pub fn pgid_of(pid: i32) -> io::Result<i32> {
    Ok(nix::unistd::getpgid(Some(Pid::from_raw(pid)))?.as_raw())
}

/// Makes this process the leader of a new process group (`setpgid(0, 0)`).
pub fn new_process_group() -> io::Result<()> {
    Ok(nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?)
}

/// Makes `pgrp` the foreground process group of the terminal `tty`.
pub fn set_foreground(tty: BorrowedFd<'_>, pgrp: i32) -> io::Result<()> {
    Ok(nix::unistd::tcsetpgrp(tty, Pid::from_raw(pgrp))?)
}

/// Makes this process a child subreaper: orphaned descendants are reparented to it rather
/// than to init, so it can wait for them.
#[cfg(target_os = "linux")]
pub fn set_child_subreaper() -> io::Result<()> {
    Ok(nix::sys::prctl::set_child_subreaper(true)?)
}

/// A pidfd for `pid` (`pidfd_open`, Linux 5.3+): close-on-exec, readable once that process
/// has ended. It lets a process learn of the death of one that is not its child (the
/// program a helper forked away from) without polling, and a pid reused later is not
/// mistaken for it.
#[cfg(target_os = "linux")]
pub fn pidfd_open(pid: i32) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and touches no memory of ours.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this fd, and nothing else owns it.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(r as i32) })
}

/// Tunes the allocator for a small long-lived daemon: blocks of 16 KiB and more (such as
/// the 32 KiB buffer glibc's `opendir` allocates) are mmapped and unmapped on free instead
/// of dirtying heap pages for the process's whole life.
pub fn small_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 16 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 * 1024);
    }
}

/// Hands freed heap pages back to the kernel (`malloc_trim(0)`). A long-lived daemon calls
/// this before it sleeps, so the transient allocations of a transition (reading a setting,
/// a directory listing) do not stay as private dirty pages for its whole life.
pub fn release_free_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_matches_std() {
        assert_eq!(pid() as u32, std::process::id());
    }

    #[test]
    fn pidfd_becomes_readable_when_the_process_ends() {
        use crate::event::{poll, PollFd, PollFlags};
        use std::os::fd::AsFd;
        let mut child = std::process::Command::new("sleep").arg("0.2").spawn().unwrap();
        let fd = pidfd_open(child.id() as i32).unwrap();
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, crate::deadline::Deadline::from_ms(10)).unwrap(), 0);
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, crate::deadline::Deadline::from_ms(10_000)).unwrap(), 1);
        child.wait().unwrap();
    }
}
