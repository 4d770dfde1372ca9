//! Unix-domain sockets as s6 uses them (skalibs `ipc_*`): create, bind (with the `.lock`
//! file of `ipc_bind_reuse`), listen, accept, connect, peer credentials and socket names.
//!
//! Every fd is close-on-exec from birth; a program hands a socket to a child or to the
//! program it execs by moving it to a fixed number ([`s6rs_sys::fd::move_to`]) or through
//! `Command::fd`. Paths are limited to [`PATH_MAX`] bytes (`sun_path` minus its NUL): a
//! longer one is refused with ENAMETOOLONG before any system call.

use std::ffi::OsStr;
use std::fmt;
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The longest socket path (skalibs `IPCPATH_MAX`): `sun_path` holds it and a NUL.
pub const PATH_MAX: usize = 107;

const SUN_PATH_LEN: usize = PATH_MAX + 1;

/// Calls a libc function and maps `-1` to the OS error.
macro_rules! sys {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: every call site passes live, correctly sized buffers and plain integers.
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}

/// A socket's bound path as the kernel reports it (accept, getsockname, getpeername):
/// empty for an unbound socket. Held inline, so reading one allocates nothing.
#[derive(Clone, Copy)]
pub struct SockPath {
    buf: [u8; SUN_PATH_LEN],
    len: usize,
}

impl SockPath {
    /// The empty path (an unbound socket).
    pub const fn empty() -> SockPath {
        SockPath { buf: [0; SUN_PATH_LEN], len: 0 }
    }

    /// The path's bytes, without a NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The path as an OS string.
    pub fn as_os_str(&self) -> &OsStr {
        OsStr::from_bytes(self.as_bytes())
    }

    /// Whether the socket is unbound.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads the path out of a kernel-filled address of `len` bytes, stopping at the first
    /// NUL as skalibs does (so an abstract address reads as empty).
    fn from_addr(sa: &libc::sockaddr_un, len: libc::socklen_t) -> SockPath {
        let mut p = SockPath::empty();
        let room = (len as usize).saturating_sub(std::mem::size_of::<libc::sa_family_t>()).min(SUN_PATH_LEN);
        for (i, &c) in sa.sun_path[..room].iter().enumerate() {
            if c == 0 {
                break;
            }
            p.buf[i] = c as u8;
            p.len = i + 1;
        }
        p.len = p.len.min(PATH_MAX);
        p
    }
}

impl fmt::Debug for SockPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_os_str(), f)
    }
}

impl PartialEq for SockPath {
    fn eq(&self, other: &SockPath) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for SockPath {}

/// The socket type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `SOCK_STREAM`: what every s6 socket is.
    Stream,
    /// `SOCK_DGRAM` (s6-ipcserver-socketbinder `-m`).
    Datagram,
}

/// Creates a close-on-exec Unix socket, non-blocking if asked.
pub fn socket(kind: Kind, nonblock: bool) -> io::Result<OwnedFd> {
    let ty = match kind {
        Kind::Stream => libc::SOCK_STREAM,
        Kind::Datagram => libc::SOCK_DGRAM,
    };
    let flags = libc::SOCK_CLOEXEC | if nonblock { libc::SOCK_NONBLOCK } else { 0 };
    let fd = sys!(socket(libc::AF_UNIX, ty | flags, 0))?;
    // SAFETY: socket returned a fresh fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A connected pair of close-on-exec stream sockets (for tests and for handing one end to a
/// child).
pub fn pair(nonblock: bool) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    let flags = libc::SOCK_CLOEXEC | if nonblock { libc::SOCK_NONBLOCK } else { 0 };
    sys!(socketpair(libc::AF_UNIX, libc::SOCK_STREAM | flags, 0, fds.as_mut_ptr()))?;
    // SAFETY: socketpair returned two fresh fds that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The address for `path`: ENAMETOOLONG past [`PATH_MAX`] bytes, EINVAL with a NUL inside.
fn address(path: &Path) -> io::Result<libc::sockaddr_un> {
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() > PATH_MAX {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    if bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: sockaddr_un is plain data; all-zero is valid (and NUL-terminates the path).
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, &s) in sa.sun_path.iter_mut().zip(bytes) {
        *d = s as libc::c_char;
    }
    Ok(sa)
}

const ADDR_LEN: libc::socklen_t = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;

fn sa_ptr(sa: &libc::sockaddr_un) -> *const libc::sockaddr {
    (sa as *const libc::sockaddr_un).cast()
}

/// Binds `fd` to `path` (skalibs `ipc_bind`): fails with EADDRINUSE if the path exists.
pub fn bind(fd: BorrowedFd<'_>, path: &Path) -> io::Result<()> {
    let sa = address(path)?;
    sys!(bind(fd.as_raw_fd(), sa_ptr(&sa), ADDR_LEN)).map(drop)
}

/// The lock file [`bind_reuse`] takes: `path` + `.lock`.
pub fn lock_path(path: &Path) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".lock");
    s.into()
}

/// Binds `fd` to `path`, replacing whatever is there (skalibs `ipc_bind_reuse`): creates
/// `path.lock` (mode 0600 under the umask), takes a write lock on it without waiting (EBUSY
/// if another binder holds it), sets SO_REUSEADDR, unlinks `path`, then binds. The lock is
/// returned: it is close-on-exec, so a program that execs right after releases it then;
/// the `.lock` file stays.
pub fn bind_reuse(fd: BorrowedFd<'_>, path: &Path) -> io::Result<OwnedFd> {
    let lock = OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK)
        .open(lock_path(path))?;
    let lock = OwnedFd::from(lock);
    if !s6rs_sys::lock::try_lock(std::os::fd::AsFd::as_fd(&lock), true)? {
        return Err(io::Error::from_raw_os_error(libc::EBUSY));
    }
    let one: libc::c_int = 1;
    // Upstream ignores a failure here: the bind below reports what matters.
    let _ = sys!(setsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_REUSEADDR,
        (&one as *const libc::c_int).cast(),
        std::mem::size_of::<libc::c_int>() as libc::socklen_t,
    ));
    let _ = std::fs::remove_file(path);
    bind(fd, path)?;
    Ok(lock)
}

/// The backlog that asks for the system's maximum, which upstream documents as its default.
/// The constant SOMAXCONN does not give that here:
/// the programs are static musl binaries, and musl's is 128, where glibc's is 4096 and the
/// kernel's limit (`net.core.somaxconn`) is 4096 by default. The kernel lowers any larger
/// backlog to that limit at `listen` time, so this largest value gets exactly the system's
/// maximum, whatever it is set to, without reading /proc.
pub const BACKLOG_MAX: u32 = i32::MAX as u32;

/// `listen(fd, backlog)` ([`BACKLOG_MAX`] and beyond: the system's maximum).
pub fn listen(fd: BorrowedFd<'_>, backlog: u32) -> io::Result<()> {
    sys!(listen(fd.as_raw_fd(), backlog.min(i32::MAX as u32) as libc::c_int)).map(drop)
}

/// Accepts one connection (accept4, EINTR retried): a close-on-exec socket, non-blocking if
/// asked, and the peer's bound path (usually empty).
pub fn accept(fd: BorrowedFd<'_>, nonblock: bool) -> io::Result<(OwnedFd, SockPath)> {
    // SAFETY: plain data, filled in by the kernel.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let flags = libc::SOCK_CLOEXEC | if nonblock { libc::SOCK_NONBLOCK } else { 0 };
    loop {
        let mut len = ADDR_LEN;
        let sp = (&mut sa as *mut libc::sockaddr_un).cast();
        match sys!(accept4(fd.as_raw_fd(), sp, &mut len, flags)) {
            // SAFETY: accept4 returned a fresh fd that nothing else owns.
            Ok(c) => return Ok((unsafe { OwnedFd::from_raw_fd(c) }, SockPath::from_addr(&sa, len))),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Connects `fd` to the socket at `path`.
pub fn connect(fd: BorrowedFd<'_>, path: &Path) -> io::Result<()> {
    let sa = address(path)?;
    sys!(connect(fd.as_raw_fd(), sa_ptr(&sa), ADDR_LEN)).map(drop)
}

/// A new blocking stream socket connected to `path` (what a client such as s6-ipcclient
/// or s6-sudoc starts with).
pub fn connect_stream(path: &Path) -> io::Result<OwnedFd> {
    let fd = socket(Kind::Stream, false)?;
    connect(std::os::fd::AsFd::as_fd(&fd), path)?;
    Ok(fd)
}

/// The path `fd` is bound to (getsockname): empty when unbound.
pub fn local_path(fd: BorrowedFd<'_>) -> io::Result<SockPath> {
    // SAFETY: plain data, filled in by the kernel.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let mut len = ADDR_LEN;
    sys!(getsockname(fd.as_raw_fd(), (&mut sa as *mut libc::sockaddr_un).cast(), &mut len))?;
    Ok(SockPath::from_addr(&sa, len))
}

/// The path the peer of `fd` is bound to (getpeername): usually empty.
pub fn peer_path(fd: BorrowedFd<'_>) -> io::Result<SockPath> {
    // SAFETY: plain data, filled in by the kernel.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let mut len = ADDR_LEN;
    sys!(getpeername(fd.as_raw_fd(), (&mut sa as *mut libc::sockaddr_un).cast(), &mut len))?;
    Ok(SockPath::from_addr(&sa, len))
}

/// A peer's credentials, as the kernel recorded them when it connected (SO_PEERCRED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Creds {
    /// The peer's pid.
    pub pid: i32,
    /// The peer's effective uid.
    pub uid: u32,
    /// The peer's effective gid.
    pub gid: u32,
}

/// The credentials of the peer of a connected socket (what skalibs' `getpeereid` reads).
pub fn peer_creds(fd: BorrowedFd<'_>) -> io::Result<Creds> {
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    sys!(getsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_PEERCRED,
        (&mut cred as *mut libc::ucred).cast(),
        &mut len,
    ))?;
    Ok(Creds { pid: cred.pid, uid: cred.uid, gid: cred.gid })
}

/// Whether `fd` is a socket (fstat).
pub fn is_socket(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: plain data, filled in by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    sys!(fstat(fd.as_raw_fd(), &mut st))?;
    Ok(st.st_mode & libc::S_IFMT == libc::S_IFSOCK)
}

/// Which direction [`shutdown`] closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shut {
    /// No more reads.
    Read,
    /// No more writes: the peer reads EOF.
    Write,
}

/// `shutdown(2)` one direction of a socket.
pub fn shutdown(fd: BorrowedFd<'_>, how: Shut) -> io::Result<()> {
    let how = match how {
        Shut::Read => libc::SHUT_RD,
        Shut::Write => libc::SHUT_WR,
    };
    sys!(shutdown(fd.as_raw_fd(), how)).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    fn scratch(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("s6rs-ipc-sock-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn bind_listen_accept_connect_and_names() {
        let d = scratch("basic");
        let path = d.join("s");
        let l = socket(Kind::Stream, true).unwrap();
        let lock = bind_reuse(l.as_fd(), &path).unwrap();
        listen(l.as_fd(), 8).unwrap();
        assert_eq!(local_path(l.as_fd()).unwrap().as_bytes(), path.as_os_str().as_bytes());
        let e = accept(l.as_fd(), false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        let c = connect_stream(&path).unwrap();
        let (s, peer) = accept(l.as_fd(), false).unwrap();
        assert!(peer.is_empty());
        assert!(local_path(c.as_fd()).unwrap().is_empty());
        assert_eq!(peer_path(c.as_fd()).unwrap().as_bytes(), path.as_os_str().as_bytes());
        let cr = peer_creds(s.as_fd()).unwrap();
        // SAFETY: getuid/getgid cannot fail.
        assert_eq!(
            (cr.uid, cr.gid, cr.pid),
            (unsafe { libc::geteuid() }, unsafe { libc::getegid() }, std::process::id() as i32)
        );
        assert!(is_socket(s.as_fd()).unwrap());
        drop(lock);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn bound_client_path_is_seen_by_the_server() {
        let d = scratch("bound");
        let path = d.join("srv");
        let l = socket(Kind::Stream, false).unwrap();
        bind(l.as_fd(), &path).unwrap();
        listen(l.as_fd(), 1).unwrap();
        let c = socket(Kind::Stream, false).unwrap();
        bind(c.as_fd(), &d.join("cli")).unwrap();
        connect(c.as_fd(), &path).unwrap();
        let (_s, peer) = accept(l.as_fd(), false).unwrap();
        assert_eq!(peer.as_bytes(), d.join("cli").as_os_str().as_bytes());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn plain_bind_refuses_an_existing_path_and_reuse_replaces_it() {
        let d = scratch("reuse");
        let path = d.join("s");
        std::fs::write(&path, b"").unwrap();
        let a = socket(Kind::Stream, false).unwrap();
        assert_eq!(bind(a.as_fd(), &path).unwrap_err().raw_os_error(), Some(libc::EADDRINUSE));
        // (Another process holding the lock makes this EBUSY: fcntl locks are per process,
        // so the integration tests check that.)
        let lock = bind_reuse(a.as_fd(), &path).unwrap();
        assert!(is_socket(a.as_fd()).unwrap());
        drop(lock);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(lock_path(&path)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o600, 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn over_long_paths_are_refused_before_any_syscall() {
        let long = std::path::PathBuf::from("/tmp/".to_owned() + &"x".repeat(PATH_MAX));
        let s = socket(Kind::Stream, false).unwrap();
        assert_eq!(bind(s.as_fd(), &long).unwrap_err().raw_os_error(), Some(libc::ENAMETOOLONG));
        assert_eq!(connect(s.as_fd(), &long).unwrap_err().raw_os_error(), Some(libc::ENAMETOOLONG));
        let exact = std::path::PathBuf::from("x".repeat(PATH_MAX));
        assert!(address(&exact).is_ok());
    }

    #[test]
    fn pair_and_shutdown() {
        let (a, b) = pair(false).unwrap();
        shutdown(a.as_fd(), Shut::Write).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(s6rs_sys::fd::read(b.as_fd(), &mut buf).unwrap(), 0);
    }
}
