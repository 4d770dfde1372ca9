//! File-descriptor helpers: close-on-exec pipes, flag changes, moving an fd to a fixed
//! number for a child, fifos, and skalibs' atomic file replacement.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Creates a pipe whose both ends are close-on-exec: `(read, write)`.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    pipe_flags(libc::O_CLOEXEC)
}

/// Creates a close-on-exec, non-blocking pipe: `(read, write)`.
pub fn pipe_nb() -> io::Result<(OwnedFd, OwnedFd)> {
    pipe_flags(libc::O_CLOEXEC | libc::O_NONBLOCK)
}

fn pipe_flags(flags: i32) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    syscall!(pipe2(fds.as_mut_ptr(), flags))?;
    // SAFETY: pipe2 succeeded, so both fds are fresh and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sets or clears O_NONBLOCK.
pub fn set_nonblock(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    let flags = syscall!(fcntl(raw, libc::F_GETFL))?;
    let new = if on { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK };
    if new != flags {
        syscall!(fcntl(raw, libc::F_SETFL, new))?;
    }
    Ok(())
}

/// Sets or clears FD_CLOEXEC.
pub fn set_cloexec(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    let flags = syscall!(fcntl(raw, libc::F_GETFD))?;
    let new = if on { flags | libc::FD_CLOEXEC } else { flags & !libc::FD_CLOEXEC };
    syscall!(fcntl(raw, libc::F_SETFD, new)).map(drop)
}

/// Whether `fd` is open in this process.
pub fn is_open(fd: RawFd) -> bool {
    syscall!(fcntl(fd, libc::F_GETFD)).is_ok()
}

/// Makes `to` a copy of `from` (dup2). The copy does not have FD_CLOEXEC. If both are the
/// same number, FD_CLOEXEC is cleared instead, so the fd survives exec either way.
pub fn dup_to(from: BorrowedFd<'_>, to: RawFd) -> io::Result<()> {
    if from.as_raw_fd() == to {
        return set_cloexec(from, false);
    }
    syscall!(dup2(from.as_raw_fd(), to)).map(drop)
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
    syscall!(dup2(fd.as_raw_fd(), to))?;
    drop(fd);
    // SAFETY: dup2 made `to` a fresh copy; the caller guarantees nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(to) })
}

/// Duplicates an fd as a new close-on-exec fd numbered at least `min`.
pub fn dup_min(fd: BorrowedFd<'_>, min: RawFd) -> io::Result<OwnedFd> {
    let n = syscall!(fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min))?;
    // SAFETY: F_DUPFD_CLOEXEC returned a fresh fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// Duplicates an fd as a new fd that children and exec'd programs inherit (no
/// FD_CLOEXEC), numbered as low as possible.
pub fn dup_inheritable(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let n = syscall!(fcntl(fd.as_raw_fd(), libc::F_DUPFD, 0))?;
    // SAFETY: F_DUPFD returned a fresh fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// Takes ownership of an inherited fd number (e.g. a notification fd given on the command
/// line), checking that it is open.
pub fn adopt(fd: RawFd) -> io::Result<OwnedFd> {
    syscall!(fcntl(fd, libc::F_GETFD))?;
    // SAFETY: the fd is open and the caller hands its ownership to us (it came from our
    // parent, and nothing else in this process refers to it).
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Writes all of `buf` to `fd`, retrying on EINTR.
pub fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match syscall!(write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len())) {
            Ok(n) => buf = &buf[n as usize..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
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
        match syscall!(write(fd.as_raw_fd(), buf[done..].as_ptr().cast(), buf.len() - done)) {
            Ok(n) => done += n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// One `read(2)`, retrying on EINTR.
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match syscall!(read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len())) {
            Ok(n) => return Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A path as a C string (paths with NUL bytes are invalid input).
pub fn cpath(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `mkfifo(path, mode)` (the umask applies).
pub fn mkfifo(path: &Path, mode: u32) -> io::Result<()> {
    let c = cpath(path)?;
    syscall!(mkfifo(c.as_ptr(), mode as libc::mode_t)).map(drop)
}

/// Sets the process umask, returning the previous one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
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
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)?;
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
    let c = cpath(path)?;
    syscall!(access(c.as_ptr(), libc::F_OK)).map(drop)
}

/// Whether `path` is readable by this process's real ids, as `access(path, R_OK)` says.
pub fn access_readable(path: &Path) -> io::Result<()> {
    let c = cpath(path)?;
    syscall!(access(c.as_ptr(), libc::R_OK)).map(drop)
}

/// Whether the directory `path` can be searched (entered) by this process's real ids, as
/// `access(path, X_OK)` says.
pub fn access_searchable(path: &Path) -> io::Result<()> {
    let c = cpath(path)?;
    syscall!(access(c.as_ptr(), libc::X_OK)).map(drop)
}

/// Creates a new file from `template`, whose name must end with `XXXXXX` (libc `mkostemp`):
/// mode 0600, opened read-write and close-on-exec. Returns the file and its actual name.
pub fn mkstemp(template: &Path) -> io::Result<(File, PathBuf)> {
    let mut buf = cpath(template)?.into_bytes_with_nul();
    let fd = syscall!(mkostemp(buf.as_mut_ptr().cast(), libc::O_CLOEXEC))?;
    // SAFETY: mkostemp returned a fresh fd that nothing else owns.
    let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    buf.pop();
    Ok((file, PathBuf::from(std::ffi::OsString::from_vec(buf))))
}

/// The longest Unix socket path skalibs reports (`IPCPATH_MAX`): `sun_path` less its NUL.
pub const IPCPATH_MAX: usize = 107;

/// The path a Unix-domain socket is bound to (`getsockname`), as skalibs `ipc_local` gives
/// it: the bytes of `sun_path` up to the first NUL, at most [`IPCPATH_MAX`] of them. An
/// unbound socket (or an abstract one) gives an empty path.
pub fn unix_local_path(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    // SAFETY: an all-zero sockaddr_un is a valid value.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    syscall!(getsockname(fd.as_raw_fd(), (&mut sa as *mut libc::sockaddr_un).cast(), &mut len))?;
    let path = sa.sun_path.iter().map(|&c| c as u8).take_while(|&b| b != 0).take(IPCPATH_MAX);
    Ok(path.collect())
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
        assert_eq!(syscall!(fcntl(200, libc::F_GETFD)).unwrap() & libc::FD_CLOEXEC, 0);
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
    fn mkstemp_access_and_local_path() {
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
        let sock = std::os::unix::net::UnixListener::bind(dir.join("s")).unwrap();
        assert_eq!(unix_local_path(sock.as_fd()).unwrap(), dir.join("s").as_os_str().as_bytes());
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(unix_local_path(a.as_fd()).unwrap(), b"");
        let (r, _w) = pipe().unwrap();
        assert_eq!(unix_local_path(r.as_fd()).unwrap_err().raw_os_error(), Some(libc::ENOTSOCK));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
