//! POSIX record locks (`fcntl` F_SETLK/F_SETLKW/F_GETLK on the whole file), the only locks
//! s6 uses. They interoperate with real s6's `fd_lock` and `fd_islocked`.

use std::io;
use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg};

/// A whole-file lock request of `kind` (`F_RDLCK`, `F_WRLCK`), from offset 0 to the end.
fn whole_file(kind: i32) -> libc::flock {
    libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    }
}

fn kind(exclusive: bool) -> i32 {
    if exclusive {
        libc::F_WRLCK
    } else {
        libc::F_RDLCK
    }
}

/// Takes a whole-file lock without blocking: `Ok(false)` if someone else holds it.
/// `exclusive` selects a write lock, otherwise a read (shared) lock.
pub fn try_lock(fd: BorrowedFd<'_>, exclusive: bool) -> io::Result<bool> {
    match fcntl(fd, FcntlArg::F_SETLK(&whole_file(kind(exclusive)))) {
        Ok(_) => Ok(true),
        Err(Errno::EACCES | Errno::EAGAIN) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Takes a whole-file lock, blocking until it is available (EINTR is returned to the caller,
/// so a timer signal can interrupt the wait).
pub fn lock(fd: BorrowedFd<'_>, exclusive: bool) -> io::Result<()> {
    fcntl(fd, FcntlArg::F_SETLKW(&whole_file(kind(exclusive)))).map(drop).map_err(Into::into)
}

/// Whether another process holds a lock on the file (skalibs `fd_islocked`: asks about a
/// read lock with F_GETLK).
pub fn is_locked(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let mut fl = whole_file(libc::F_RDLCK);
    fcntl(fd, FcntlArg::F_GETLK(&mut fl))?;
    Ok(i32::from(fl.l_type) != libc::F_UNLCK)
}
