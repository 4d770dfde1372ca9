//! POSIX record locks (`fcntl` F_SETLK/F_SETLKW/F_GETLK on the whole file), the only locks
//! s6 uses. They interoperate with real s6's `fd_lock` and `fd_islocked`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

fn flock_struct(kind: i32) -> libc::flock {
    // SAFETY: flock is a plain C struct; all-zero is a valid value (whole file from 0).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl
}

/// Takes a whole-file lock without blocking: `Ok(false)` if someone else holds it.
/// `exclusive` selects a write lock, otherwise a read (shared) lock.
pub fn try_lock(fd: BorrowedFd<'_>, exclusive: bool) -> io::Result<bool> {
    let kind = if exclusive { libc::F_WRLCK } else { libc::F_RDLCK };
    let fl = flock_struct(kind);
    match syscall!(fcntl(fd.as_raw_fd(), libc::F_SETLK, &fl as *const libc::flock)) {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EAGAIN)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Takes a whole-file lock, blocking until it is available (EINTR is returned to the caller,
/// so a timer signal can interrupt the wait).
pub fn lock(fd: BorrowedFd<'_>, exclusive: bool) -> io::Result<()> {
    let kind = if exclusive { libc::F_WRLCK } else { libc::F_RDLCK };
    let fl = flock_struct(kind);
    syscall!(fcntl(fd.as_raw_fd(), libc::F_SETLKW, &fl as *const libc::flock)).map(drop)
}

/// Whether another process holds a lock on the file (skalibs `fd_islocked`: asks about a
/// read lock with F_GETLK).
pub fn is_locked(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let mut fl = flock_struct(libc::F_RDLCK);
    syscall!(fcntl(fd.as_raw_fd(), libc::F_GETLK, &mut fl as *mut libc::flock))?;
    Ok(i32::from(fl.l_type) != libc::F_UNLCK)
}
