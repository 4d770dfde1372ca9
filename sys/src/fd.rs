//! File-descriptor helpers: close-on-exec pipes, flag changes, moving an fd to a fixed
//! number for a child, fifos, and skalibs' atomic file replacement.
//!
//! Calls go through `nix`; what stays raw is what nix has no form for (an fd known only
//! by its number: [`is_open`], [`adopt`], `dup2` onto a fixed number; `mkostemp`), each in
//! one function with its `// SAFETY:` line.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::AccessFlags;

/// Creates a pipe whose both ends are close-on-exec: `(read, write)`.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix::unistd::pipe2(OFlag::O_CLOEXEC)?)
}

/// Creates a close-on-exec, non-blocking pipe: `(read, write)`.
#[cfg(test)]
pub(crate) fn pipe_nb() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?)
}

/// Sets or clears O_NONBLOCK.
pub fn set_nonblock(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let flags = OFlag::from_bits_retain(fcntl(fd, FcntlArg::F_GETFL)?);
    let new = if on { flags | OFlag::O_NONBLOCK } else { flags - OFlag::O_NONBLOCK };
    if new != flags {
        fcntl(fd, FcntlArg::F_SETFL(new))?;
    }
    Ok(())
}

/// Sets or clears FD_CLOEXEC.
pub fn set_cloexec(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let flags = FdFlag::from_bits_retain(fcntl(fd, FcntlArg::F_GETFD)?);
    let new = if on { flags | FdFlag::FD_CLOEXEC } else { flags - FdFlag::FD_CLOEXEC };
    fcntl(fd, FcntlArg::F_SETFD(new)).map(drop).map_err(Into::into)
}

/// Standard input, fd 0, as the standard library lends it (its `Stdin` does the same):
/// programs keep fds 0, 1 and 2 open for their whole life, on /dev/null if need be.
pub fn stdin() -> BorrowedFd<'static> {
    // SAFETY: fd 0 is never closed by this process, only replaced (dup2).
    unsafe { BorrowedFd::borrow_raw(0) }
}

/// Standard output, fd 1 (see [`stdin`]).
pub fn stdout() -> BorrowedFd<'static> {
    // SAFETY: fd 1 is never closed by this process, only replaced (dup2).
    unsafe { BorrowedFd::borrow_raw(1) }
}

/// Standard error, fd 2 (see [`stdin`]).
pub fn stderr() -> BorrowedFd<'static> {
    // SAFETY: fd 2 is never closed by this process, only replaced (dup2).
    unsafe { BorrowedFd::borrow_raw(2) }
}

/// Whether FD_CLOEXEC is set on `fd`.
pub fn is_cloexec(fd: BorrowedFd<'_>) -> io::Result<bool> {
    Ok(FdFlag::from_bits_retain(fcntl(fd, FcntlArg::F_GETFD)?).contains(FdFlag::FD_CLOEXEC))
}

/// `fcntl(fd, F_GETFD)` on a bare number, which may not be open: the one form nix has no
/// safe call for (a `BorrowedFd` promises an open fd).
fn getfd_raw(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_GETFD only reads the fd's flags; an fd that is not open is EBADF.
    Errno::result(unsafe { libc::fcntl(fd, libc::F_GETFD) }).map(drop).map_err(Into::into)
}

/// Whether `fd` is open in this process.
pub fn is_open(fd: RawFd) -> bool {
    getfd_raw(fd).is_ok()
}

/// `dup2(from, to)` onto a fixed number that this process may not own as an `OwnedFd`
/// (nix's `dup2` wants one). Whatever `to` referred to is closed.
fn dup2_raw(from: BorrowedFd<'_>, to: RawFd) -> io::Result<()> {
    // SAFETY: dup2 takes two integers and touches no memory of ours; the callers own what
    // `to` names, or know it is free.
    Errno::result(unsafe { libc::dup2(from.as_raw_fd(), to) }).map(drop).map_err(Into::into)
}

/// Makes `to` a copy of `from` (dup2). The copy does not have FD_CLOEXEC. If both are the
/// same number, FD_CLOEXEC is cleared instead, so the fd survives exec either way.
pub fn dup_to(from: BorrowedFd<'_>, to: RawFd) -> io::Result<()> {
    if from.as_raw_fd() == to {
        return set_cloexec(from, false);
    }
    dup2_raw(from, to)
}

/// Moves `fd` to the number `to` (dup2, then close the original) and returns it there,
/// without FD_CLOEXEC so it survives exec; if it already is `to`, only FD_CLOEXEC is cleared.
/// Whatever `to` referred to is closed, so nothing else in this process may own that number.
/// Closing the original drops any fcntl lock this process holds on the file: move first,
/// lock after.
pub fn move_to(fd: OwnedFd, to: RawFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() == to {
        set_cloexec(fd.as_fd(), false)?;
        return Ok(fd);
    }
    dup2_raw(fd.as_fd(), to)?;
    drop(fd);
    // SAFETY: dup2 made `to` a fresh copy; the caller guarantees nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(to) })
}

/// Duplicates an fd as a new close-on-exec fd numbered at least `min`.
pub fn dup_min(fd: BorrowedFd<'_>, min: RawFd) -> io::Result<OwnedFd> {
    let n = fcntl(fd, FcntlArg::F_DUPFD_CLOEXEC(min))?;
    // SAFETY: F_DUPFD_CLOEXEC returned a fresh fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// Duplicates an fd as a new fd that children and exec'd programs inherit (no
/// FD_CLOEXEC), numbered as low as possible.
pub fn dup_inheritable(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    Ok(nix::unistd::dup(fd)?)
}

/// Takes ownership of an inherited fd number (e.g. a notification fd given on the command
/// line), checking that it is open.
pub fn adopt(fd: RawFd) -> io::Result<OwnedFd> {
    getfd_raw(fd)?;
    // SAFETY: the fd is open and the caller hands its ownership to us (it came from our
    // parent, and nothing else in this process refers to it).
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Writes all of `buf` to `fd`, retrying on EINTR.
pub fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match nix::unistd::write(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Writes as much of `buf` as a non-blocking `fd` takes now, retrying on EINTR. Returns how
/// many bytes went out: fewer than `buf.len()` means the fd would block. Other errors are
/// returned as they are, whatever was written before them.
pub fn write_nb(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match nix::unistd::write(fd, &buf[done..]) {
            Ok(n) => done += n,
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}

/// One `write(2)`, retrying on EINTR: how many bytes went out.
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    loop {
        match nix::unistd::write(fd, buf) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// One `read(2)`, retrying on EINTR.
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match nix::unistd::read(fd, buf) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// A path as a C string (paths with NUL bytes are invalid input).
pub(crate) fn cpath(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `mkfifo(path, mode)` (the umask applies).
pub fn mkfifo(path: &Path, mode: u32) -> io::Result<()> {
    Ok(nix::unistd::mkfifo(path, Mode::from_bits_truncate(mode as libc::mode_t))?)
}

/// Sets the process umask, returning the previous one.
pub fn umask(mask: u32) -> u32 {
    nix::sys::stat::umask(Mode::from_bits_truncate(mask as libc::mode_t)).bits()
}

/// Opens a file read-only and non-blocking, close-on-exec.
pub fn open_read_nb(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

/// Opens a regular file for reading without ever waiting: opened non-blocking (a FIFO
/// would otherwise hold the open until a writer comes) and checked with `fstat` (the flag
/// changes nothing for a regular file, so it stays). A directory is EISDIR, as reading it
/// would be; anything else that is not a regular file (FIFO, device, socket) is refused
/// with an error naming `path`.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = open_read_quiet(path)?;
    let ft = file.metadata()?.file_type();
    if ft.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    if !ft.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(file)
}

/// Opens `path` for reading: non-blocking (a FIFO never makes the open or a read wait),
/// no controlling terminal, close-on-exec. Through `openat`, because musl's `open` follows
/// an O_CLOEXEC open with an extra `fcntl` and `openat` does not: a server reading rules
/// at every connection saves that system call per file.
pub fn open_read_quiet(path: &Path) -> io::Result<File> {
    let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let fd = nix::fcntl::openat(nix::fcntl::AT_FDCWD, path, flags, Mode::empty())?;
    Ok(File::from(fd))
}

/// Opens a file write-only and non-blocking, close-on-exec (for fifos: fails with ENXIO when
/// nobody reads).
pub fn open_write_nb(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path)
}

/// Opens a file for writing, creating it (mode 0666 under the umask) if needed:
/// non-blocking, close-on-exec, not truncated (skalibs `open_create`).
pub fn open_create(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create(true).mode(0o666).custom_flags(libc::O_NONBLOCK).open(path)
}

/// Opens a file for writing, creating it (mode 0666 under the umask) or truncating it:
/// non-blocking, close-on-exec (skalibs `open_trunc`).
pub fn open_trunc(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o666)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

/// The path of the temporary file used by [`replace_file`]: `path` + `.new`.
pub fn new_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

/// Replaces `path` atomically as s6 does: write `path.new` (mode 0666 under the umask, no
/// fsync), then rename it over `path`; on failure the `.new` file is removed.
pub fn replace_file(path: &Path, data: &[u8]) -> io::Result<()> {
    replace_file_via(path, &new_path(path), data)
}

/// [`replace_file`] with the temporary name computed once by the caller (a program that
/// rewrites the same file for every input line keeps it, and does not allocate per write).
pub fn replace_file_via(path: &Path, tmp: &Path, data: &[u8]) -> io::Result<()> {
    let res = (|| {
        let mut f = open_trunc(tmp)?;
        f.write_all(data)?;
        drop(f);
        std::fs::rename(tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    res
}

/// Whether `path` exists, as `access(path, F_OK)` says: the error tells why not (ENOENT,
/// ENOTDIR when a parent is a file, EACCES when a parent is not searchable...).
pub fn access_exists(path: &Path) -> io::Result<()> {
    Ok(nix::unistd::access(path, AccessFlags::F_OK)?)
}

/// Whether `path` is readable by this process's real ids, as `access(path, R_OK)` says.
pub fn access_readable(path: &Path) -> io::Result<()> {
    Ok(nix::unistd::access(path, AccessFlags::R_OK)?)
}

/// Whether the directory `path` can be searched (entered) by this process's real ids, as
/// `access(path, X_OK)` says.
pub fn access_searchable(path: &Path) -> io::Result<()> {
    Ok(nix::unistd::access(path, AccessFlags::X_OK)?)
}

/// Creates a new file from `template`, whose name must end with `XXXXXX` (libc `mkostemp`):
/// mode 0600, opened read-write and close-on-exec. Returns the file and its actual name.
/// Raw: nix has `mkstemp` only, whose fd is not close-on-exec from birth.
pub fn mkstemp(template: &Path) -> io::Result<(File, PathBuf)> {
    let mut buf = cpath(template)?.into_bytes_with_nul();
    // SAFETY: `buf` is a writable NUL-terminated template that mkostemp fills in place.
    let fd = Errno::result(unsafe { libc::mkostemp(buf.as_mut_ptr().cast(), libc::O_CLOEXEC) })?;
    // SAFETY: mkostemp returned a fresh fd that nothing else owns.
    let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    buf.pop();
    Ok((file, PathBuf::from(std::ffi::OsString::from_vec(buf))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_write_read() {
        let (r, w) = pipe().unwrap();
        write_all(w.as_fd(), b"abc").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(read(r.as_fd(), &mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
    }

    #[test]
    fn write_nb_stops_when_the_pipe_is_full() {
        let (r, w) = pipe_nb().unwrap();
        let big = vec![b'x'; 1 << 20];
        let n = write_nb(w.as_fd(), &big).unwrap();
        assert!(n > 0 && n < big.len());
        assert_eq!(write_nb(w.as_fd(), &big).unwrap(), 0);
        drop(r);
        assert_eq!(write_nb(w.as_fd(), b"z").unwrap_err().raw_os_error(), Some(libc::EPIPE));
    }

    #[test]
    fn move_to_renumbers_and_clears_cloexec() {
        let (r, w) = pipe().unwrap();
        let w = move_to(w, 200).unwrap();
        assert_eq!(w.as_raw_fd(), 200);
        assert!(!is_cloexec(w.as_fd()).unwrap());
        write_all(w.as_fd(), b"z").unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(read(r.as_fd(), &mut buf).unwrap(), 1);
        let w = move_to(w, 200).unwrap();
        assert_eq!(w.as_raw_fd(), 200);
    }

    #[test]
    fn open_trunc_creates_and_empties() {
        let dir = std::env::temp_dir().join(format!("s6rs-fd-trunc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("down");
        drop(open_trunc(&p).unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"");
        std::fs::write(&p, b"old").unwrap();
        write_all(open_trunc(&p).unwrap().as_fd(), b"n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replace_file_is_atomic_rename() {
        let dir = std::env::temp_dir().join(format!("s6rs-fd-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("status");
        replace_file(&p, b"one").unwrap();
        replace_file(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert!(!new_path(&p).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mkstemp_and_access() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("s6rs-fd-mkstemp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (f, name) = mkstemp(&dir.join("x:XXXXXX")).unwrap();
        drop(f);
        let s = name.to_str().unwrap();
        assert!(s.starts_with(dir.join("x:").to_str().unwrap()) && !s.ends_with("XXXXXX"));
        assert_eq!(std::fs::metadata(&name).unwrap().permissions().mode() & 0o7777, 0o600);
        access_exists(&name).unwrap();
        access_readable(&name).unwrap();
        access_searchable(&dir).unwrap();
        let e = access_exists(&name.join("sub")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR));
        let e = access_exists(&dir.join("none")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
