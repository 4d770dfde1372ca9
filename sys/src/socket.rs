//! Sockets as s6 uses them (skalibs `socket_*` and `ipc_*`): Unix-domain sockets (create,
//! bind with the `.lock` file of `ipc_bind_reuse`, listen, accept, connect, peer
//! credentials, socket names) and the bound datagram sockets of a syslogd (Unix or UDP).
//! Written once for every area that needs them: ipc's servers and clients, s6-socklog,
//! and s6-ipcserver-access, which reads the name its connection came in on.
//!
//! Every fd is close-on-exec from birth; a program hands a socket to a child or to the
//! program it execs by moving it to a fixed number ([`crate::fd::move_to`]) or through
//! `Command::fd`. Unix paths are limited to [`PATH_MAX`] bytes (`sun_path` minus its NUL):
//! a longer one is refused with ENAMETOOLONG before any system call.
//!
//! Calls go through `nix`. Two stay raw, each in one function: `listen`, whose backlog
//! nix caps at the C library's SOMAXCONN (musl's is 128), and `getsockname`/`getpeername`
//! on Unix sockets ([`local_path`], `peer_path`): a name that fills all of `sun_path`
//! comes back one byte longer than `sockaddr_un`, which nix's `UnixAddr` copies whole.

use std::ffi::OsStr;
use std::fmt;
use std::fs::OpenOptions;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::socket::{self as nix_socket, sockopt, AddressFamily, SockFlag, SockType, UnixAddr};

/// The longest socket path (skalibs `IPCPATH_MAX`): `sun_path` holds it and a NUL.
pub const PATH_MAX: usize = 107;

const SUN_PATH_LEN: usize = PATH_MAX + 1;

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
    /// NUL as skalibs does (so an abstract address reads as empty), and at [`PATH_MAX`]
    /// bytes, as skalibs' `ipc_local` and `ipc_accept` do.
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
    /// `SOCK_DGRAM` (s6-ipcserver-socketbinder `-m`, a syslog socket).
    Datagram,
}

impl Kind {
    fn ty(self) -> SockType {
        match self {
            Kind::Stream => SockType::Stream,
            Kind::Datagram => SockType::Datagram,
        }
    }
}

fn flags(nonblock: bool) -> SockFlag {
    if nonblock {
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK
    } else {
        SockFlag::SOCK_CLOEXEC
    }
}

/// Creates a close-on-exec Unix socket, non-blocking if asked.
pub fn socket(kind: Kind, nonblock: bool) -> io::Result<OwnedFd> {
    Ok(nix_socket::socket(AddressFamily::Unix, kind.ty(), flags(nonblock), None)?)
}

/// A connected pair of close-on-exec stream sockets (for tests and for handing one end to a
/// child).
pub fn pair(nonblock: bool) -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix_socket::socketpair(AddressFamily::Unix, SockType::Stream, None, flags(nonblock))?)
}

/// The address for `path`: ENAMETOOLONG past [`PATH_MAX`] bytes, EINVAL with a NUL inside.
fn address(path: &Path) -> io::Result<UnixAddr> {
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() > PATH_MAX {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    if bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok(UnixAddr::new(path)?)
}

/// Binds `fd` to `path` (skalibs `ipc_bind`): fails with EADDRINUSE if the path exists.
pub fn bind(fd: BorrowedFd<'_>, path: &Path) -> io::Result<()> {
    Ok(nix_socket::bind(fd.as_raw_fd(), &address(path)?)?)
}

/// The lock file [`bind_reuse`] takes: `path` + `.lock`.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
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
    bind_reuse_with(fd, path, None)
}

/// [`bind_reuse`], with the socket file created with mode `perms` whatever the umask
/// (skalibs `ipc_bind_reuse_perms`: a syslog socket that every user may write to is 0777).
pub fn bind_reuse_perms(fd: BorrowedFd<'_>, path: &Path, perms: u32) -> io::Result<OwnedFd> {
    bind_reuse_with(fd, path, Some(perms))
}

fn bind_reuse_with(fd: BorrowedFd<'_>, path: &Path, perms: Option<u32>) -> io::Result<OwnedFd> {
    let lock = OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK)
        .open(lock_path(path))?;
    let lock = OwnedFd::from(lock);
    if !crate::lock::try_lock(lock.as_fd(), true)? {
        return Err(io::Error::from_raw_os_error(libc::EBUSY));
    }
    // Upstream ignores a failure here: the bind below reports what matters.
    let _ = nix_socket::setsockopt(&fd, sockopt::ReuseAddr, &true);
    let _ = std::fs::remove_file(path);
    match perms {
        None => bind(fd, path)?,
        Some(perms) => {
            let old = crate::fd::umask(!perms & 0o777);
            let res = bind(fd, path);
            crate::fd::umask(old);
            res?
        }
    }
    Ok(lock)
}

/// The backlog that asks for the system's maximum, which upstream documents as its default.
/// The constant SOMAXCONN does not give that here:
/// the programs are static musl binaries, and musl's is 128, where glibc's is 4096 and the
/// kernel's limit (`net.core.somaxconn`) is 4096 by default. The kernel lowers any larger
/// backlog to that limit at `listen` time, so this largest value gets exactly the system's
/// maximum, whatever it is set to, without reading /proc.
pub const BACKLOG_MAX: u32 = i32::MAX as u32;

/// `listen(fd, backlog)` ([`BACKLOG_MAX`] and beyond: the system's maximum). Raw: nix's
/// `Backlog` refuses anything above the C library's SOMAXCONN.
pub fn listen(fd: BorrowedFd<'_>, backlog: u32) -> io::Result<()> {
    let backlog = backlog.min(i32::MAX as u32) as libc::c_int;
    // SAFETY: listen takes two integers and touches no memory of ours.
    Errno::result(unsafe { libc::listen(fd.as_raw_fd(), backlog) })?;
    Ok(())
}

/// Accepts one connection (accept4, EINTR retried): a close-on-exec socket, non-blocking if
/// asked, and the peer's bound path (usually empty).
pub fn accept(fd: BorrowedFd<'_>, nonblock: bool) -> io::Result<(OwnedFd, SockPath)> {
    let conn = accept_conn(fd, nonblock)?;
    let path = peer_path(conn.as_fd())?;
    Ok((conn, path))
}

/// [`accept`] for a server that has no use for the client's address: one system call
/// less per connection.
pub fn accept_conn(fd: BorrowedFd<'_>, nonblock: bool) -> io::Result<OwnedFd> {
    loop {
        match nix_socket::accept4(fd, flags(nonblock)) {
            Ok(conn) => return Ok(conn),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Connects `fd` to the socket at `path`.
pub fn connect(fd: BorrowedFd<'_>, path: &Path) -> io::Result<()> {
    Ok(nix_socket::connect(fd.as_raw_fd(), &address(path)?)?)
}

/// A new blocking stream socket connected to `path` (what a client such as s6-ipcclient
/// or s6-sudoc starts with).
pub fn connect_stream(path: &Path) -> io::Result<OwnedFd> {
    let fd = socket(Kind::Stream, false)?;
    connect(fd.as_fd(), path)?;
    Ok(fd)
}

/// Which end's name [`unix_name`] asks for.
#[derive(Clone, Copy)]
enum End {
    Local,
    Peer,
}

/// `getsockname` or `getpeername` on a Unix socket, into a `sockaddr_un` with room for the
/// one byte past it that a full 108-byte name comes back with: the kernel then reports 111
/// bytes and copies what fits, where nix's `UnixAddr` would copy all 111 into 110.
fn unix_name(fd: BorrowedFd<'_>, end: End) -> io::Result<SockPath> {
    let mut sa = libc::sockaddr_un { sun_family: 0, sun_path: [0; SUN_PATH_LEN] };
    let mut len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    let p = (&mut sa as *mut libc::sockaddr_un).cast::<libc::sockaddr>();
    // SAFETY: `p` points to a writable sockaddr_un of `len` bytes; the kernel writes at
    // most `len` bytes and reports the full length in `len`, which `from_addr` bounds.
    let r = unsafe {
        match end {
            End::Local => libc::getsockname(fd.as_raw_fd(), p, &mut len),
            End::Peer => libc::getpeername(fd.as_raw_fd(), p, &mut len),
        }
    };
    Errno::result(r)?;
    Ok(SockPath::from_addr(&sa, len))
}

/// The path `fd` is bound to (getsockname, as skalibs `ipc_local` gives it): empty when
/// unbound or abstract, at most [`PATH_MAX`] bytes.
pub fn local_path(fd: BorrowedFd<'_>) -> io::Result<SockPath> {
    unix_name(fd, End::Local)
}

/// The path the peer of `fd` is bound to (getpeername): usually empty.
pub(crate) fn peer_path(fd: BorrowedFd<'_>) -> io::Result<SockPath> {
    unix_name(fd, End::Peer)
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
    let c = nix_socket::getsockopt(&fd, sockopt::PeerCredentials)?;
    Ok(Creds { pid: c.pid(), uid: c.uid(), gid: c.gid() })
}

/// Whether `fd` is a socket (fstat).
pub fn is_socket(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let st = nix::sys::stat::fstat(fd)?;
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
        Shut::Read => nix_socket::Shutdown::Read,
        Shut::Write => nix_socket::Shutdown::Write,
    };
    Ok(nix_socket::shutdown(fd.as_raw_fd(), how)?)
}

/// Binds `fd` to a fresh abstract name the kernel picks (Linux autobind: `bind` with an
/// address of the family alone) and returns that name without its leading NUL (five hex
/// digits on Linux). A datagram socket bound so needs no file and goes away with its last fd.
#[cfg(target_os = "linux")]
pub fn bind_abstract_auto(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    nix_socket::bind(fd.as_raw_fd(), &UnixAddr::new_unnamed())?;
    let addr: UnixAddr = nix_socket::getsockname(fd.as_raw_fd())?;
    match addr.as_abstract() {
        Some(name) if !name.is_empty() => Ok(name.to_vec()),
        _ => Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT)),
    }
}

/// The address of a systemd-style socket name: a leading `@` names an abstract socket,
/// anything else a path.
fn notify_address(name: &[u8]) -> io::Result<UnixAddr> {
    if name.len() > PATH_MAX {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    match name.split_first() {
        #[cfg(target_os = "linux")]
        Some((b'@', rest)) => Ok(UnixAddr::new_abstract(rest)?),
        _ => address(Path::new(OsStr::from_bytes(name))),
    }
}

/// Sends one datagram `msg` from the unbound socket `fd` to the socket named `to` (`@name`
/// for an abstract one), with `pass` attached as SCM_RIGHTS if given (MSG_NOSIGNAL, EINTR
/// retried).
pub fn send_datagram(
    fd: BorrowedFd<'_>,
    to: &[u8],
    msg: &[u8],
    pass: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    let addr = notify_address(to)?;
    let iov = [std::io::IoSlice::new(msg)];
    let raw;
    let cmsgs: &[nix_socket::ControlMessage<'_>] = match pass {
        Some(p) => {
            raw = [p.as_raw_fd()];
            &[nix_socket::ControlMessage::ScmRights(&raw)]
        }
        None => &[],
    };
    loop {
        match nix_socket::sendmsg(
            fd.as_raw_fd(),
            &iov,
            cmsgs,
            nix_socket::MsgFlags::MSG_NOSIGNAL,
            Some(&addr),
        ) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Receives one datagram into `buf` (`recv`, EINTR retried): its length, truncated to
/// `buf`'s. WouldBlock on an empty non-blocking socket.
pub fn recv_datagram(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match nix_socket::recv(fd.as_raw_fd(), buf, nix_socket::MsgFlags::empty()) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Asks the kernel to attach the sender's credentials to every datagram `fd` receives
/// (SO_PASSCRED), whether or not the sender sends them: what [`recv_datagram_creds`] reads.
pub fn pass_credentials(fd: BorrowedFd<'_>) -> io::Result<()> {
    Ok(nix_socket::setsockopt(&fd, sockopt::PassCred, &true)?)
}

/// The room [`recv_datagram_creds`] needs for its control data: one SCM_CREDENTIALS
/// message. A caller allocates it once and reuses it.
pub fn creds_space() -> Vec<u8> {
    nix::cmsg_space!(nix_socket::UnixCredentials)
}

/// One datagram as [`recv_datagram_creds`] received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram {
    /// How many bytes of it are in the buffer.
    pub len: usize,
    /// It was longer than the buffer: the rest is lost.
    pub truncated: bool,
    /// The sender's pid, as seen from our pid namespace; `None` when the kernel attached no
    /// credentials that could be read (SO_PASSCRED off, or the datagram also carried fds,
    /// which `space` has no room for: the kernel then closes those fds and truncates the
    /// control data).
    pub pid: Option<i32>,
}

/// Receives one datagram into `buf` with its sender's credentials (`recvmsg`, EINTR
/// retried), using `space` (from [`creds_space`]) for the control data. WouldBlock on an
/// empty non-blocking socket. Fds passed along with the datagram never reach us.
pub fn recv_datagram_creds(fd: BorrowedFd<'_>, buf: &mut [u8], space: &mut [u8]) -> io::Result<Datagram> {
    let mut iov = [io::IoSliceMut::new(buf)];
    loop {
        let flags = nix_socket::MsgFlags::MSG_CMSG_CLOEXEC;
        let msg = match nix_socket::recvmsg::<()>(fd.as_raw_fd(), &mut iov, Some(&mut *space), flags) {
            Ok(m) => m,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        let truncated = msg.flags.contains(nix_socket::MsgFlags::MSG_TRUNC);
        let pid = msg.cmsgs().ok().and_then(|mut it| {
            it.find_map(|c| match c {
                nix_socket::ControlMessageOwned::ScmCredentials(cr) => Some(cr.pid()),
                _ => None,
            })
        });
        return Ok(Datagram { len: msg.bytes, truncated, pid });
    }
}

/// A close-on-exec IPv4 or IPv6 socket (by `addr`'s family), with SO_REUSEADDR, bound to
/// `addr` (skalibs `socket_bind46_reuse`), non-blocking if asked.
pub fn bind_inet(kind: Kind, addr: SocketAddr, nonblock: bool) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    let fd = nix_socket::socket(family, kind.ty(), flags(nonblock), None)?;
    // As skalibs: a failure here shows at the bind, if it matters.
    let _ = nix_socket::setsockopt(&fd, sockopt::ReuseAddr, &true);
    nix_socket::bind(fd.as_raw_fd(), &nix_socket::SockaddrStorage::from(addr))?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("s6rs-sys-sock-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn abstract_autobind_receives_datagrams_and_passed_fds_close() {
        let r = socket(Kind::Datagram, true).unwrap();
        let name = bind_abstract_auto(r.as_fd()).unwrap();
        assert!(!name.is_empty() && !name.contains(&0));
        let mut at = vec![b'@'];
        at.extend_from_slice(&name);
        let s = socket(Kind::Datagram, false).unwrap();
        let (pr, pw) = crate::fd::pipe().unwrap();
        send_datagram(s.as_fd(), &at, b"READY=1\n", Some(pw.as_fd())).unwrap();
        drop(pw);
        let mut buf = [0u8; 64];
        let n = recv_datagram(r.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\n");
        // The passed write end was dropped unread with the datagram: the pipe is at EOF.
        assert_eq!(crate::fd::read(pr.as_fd(), &mut buf).unwrap(), 0);
        let e = recv_datagram(r.as_fd(), &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(
            send_datagram(s.as_fd(), &[b'x'; 200], b"", None).unwrap_err().raw_os_error(),
            Some(libc::ENAMETOOLONG)
        );
    }

    #[test]
    fn credentials_come_with_each_datagram_and_truncation_is_told() {
        let r = socket(Kind::Datagram, true).unwrap();
        pass_credentials(r.as_fd()).unwrap();
        let mut at = vec![b'@'];
        at.extend_from_slice(&bind_abstract_auto(r.as_fd()).unwrap());
        let s = socket(Kind::Datagram, false).unwrap();
        let mut space = creds_space();
        let mut buf = [0u8; 8];
        send_datagram(s.as_fd(), &at, b"READY=1", None).unwrap();
        let d = recv_datagram_creds(r.as_fd(), &mut buf, &mut space).unwrap();
        assert_eq!(d, Datagram { len: 7, truncated: false, pid: Some(crate::proc::pid()) });
        send_datagram(s.as_fd(), &at, b"0123456789", None).unwrap();
        let d = recv_datagram_creds(r.as_fd(), &mut buf, &mut space).unwrap();
        assert_eq!((d.len, d.truncated, &buf[..]), (8, true, &b"01234567"[..]));
        let e = recv_datagram_creds(r.as_fd(), &mut buf, &mut space).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
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
        assert!(crate::fd::is_cloexec(s.as_fd()).unwrap());
        assert!(local_path(c.as_fd()).unwrap().is_empty());
        assert_eq!(peer_path(c.as_fd()).unwrap().as_bytes(), path.as_os_str().as_bytes());
        let cr = peer_creds(s.as_fd()).unwrap();
        assert_eq!((cr.uid, cr.gid, cr.pid), (crate::proc::euid(), crate::proc::egid(), crate::proc::pid()));
        assert!(is_socket(s.as_fd()).unwrap());
        let (r, _w) = crate::fd::pipe().unwrap();
        assert!(!is_socket(r.as_fd()).unwrap());
        assert_eq!(local_path(r.as_fd()).unwrap_err().raw_os_error(), Some(libc::ENOTSOCK));
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
    fn a_name_filling_all_of_sun_path_reads_as_its_first_107_bytes() {
        // Binding a 108-byte name without a NUL is legal on Linux (another program may do
        // it); the kernel then reports a name one byte longer than sockaddr_un.
        let d = scratch("full");
        let name = d.join("x".repeat(SUN_PATH_LEN - d.as_os_str().len() - 1));
        let bytes = name.as_os_str().as_bytes();
        assert_eq!(bytes.len(), SUN_PATH_LEN);
        let srv = socket(Kind::Stream, false).unwrap();
        let mut sa = libc::sockaddr_un { sun_family: libc::AF_UNIX as libc::sa_family_t, sun_path: [0; 108] };
        for (d, &s) in sa.sun_path.iter_mut().zip(bytes) {
            *d = s as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        // SAFETY: a live sockaddr_un of `len` bytes.
        let r = unsafe { libc::bind(srv.as_raw_fd(), (&sa as *const libc::sockaddr_un).cast(), len) };
        assert_eq!(r, 0, "{}", io::Error::last_os_error());
        listen(srv.as_fd(), 1).unwrap();
        assert_eq!(local_path(srv.as_fd()).unwrap().as_bytes(), &bytes[..PATH_MAX]);
        let c = socket(Kind::Stream, false).unwrap();
        // SAFETY: as above.
        let r = unsafe { libc::connect(c.as_raw_fd(), (&sa as *const libc::sockaddr_un).cast(), len) };
        assert_eq!(r, 0, "{}", io::Error::last_os_error());
        assert_eq!(peer_path(c.as_fd()).unwrap().as_bytes(), &bytes[..PATH_MAX]);
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
    fn bind_reuse_perms_sets_the_socket_mode_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let d = scratch("perms");
        let path = d.join("log");
        let s = socket(Kind::Datagram, true).unwrap();
        let old = crate::fd::umask(0o077);
        let lock = bind_reuse_perms(s.as_fd(), &path, 0o777);
        crate::fd::umask(old);
        let _lock = lock.unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o777);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn over_long_paths_are_refused_before_any_syscall() {
        let long = PathBuf::from("/tmp/".to_owned() + &"x".repeat(PATH_MAX));
        let s = socket(Kind::Stream, false).unwrap();
        assert_eq!(bind(s.as_fd(), &long).unwrap_err().raw_os_error(), Some(libc::ENAMETOOLONG));
        assert_eq!(connect(s.as_fd(), &long).unwrap_err().raw_os_error(), Some(libc::ENAMETOOLONG));
        let exact = PathBuf::from("x".repeat(PATH_MAX));
        assert!(address(&exact).is_ok());
        let nul = PathBuf::from(std::ffi::OsStr::from_bytes(b"a\0b"));
        assert_eq!(bind(s.as_fd(), &nul).unwrap_err().raw_os_error(), Some(libc::EINVAL));
    }

    #[test]
    fn pair_and_shutdown() {
        let (a, b) = pair(false).unwrap();
        shutdown(a.as_fd(), Shut::Write).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(crate::fd::read(b.as_fd(), &mut buf).unwrap(), 0);
    }

    #[test]
    fn udp_sockets_bind_with_reuse_on_both_families() {
        let a = bind_inet(Kind::Datagram, "127.0.0.1:0".parse().unwrap(), true).unwrap();
        let a = std::net::UdpSocket::from(a);
        let at = a.local_addr().unwrap();
        assert!(at.port() != 0);
        assert!(nix_socket::getsockopt(&a, sockopt::ReuseAddr).unwrap());
        let mut buf = [0u8; 4];
        assert_eq!(a.recv_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        b.send_to(b"hi", at).unwrap();
        a.set_nonblocking(false).unwrap();
        let (n, from) = a.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"hi"[..], b.local_addr().unwrap()));
        // IPv6 may be disabled on a test machine: only its bind result may differ.
        if let Ok(s) = bind_inet(Kind::Datagram, "[::1]:0".parse().unwrap(), false) {
            assert!(std::net::UdpSocket::from(s).local_addr().unwrap().is_ipv6());
        }
        let taken = bind_inet(Kind::Stream, "127.0.0.1:0".parse().unwrap(), false).unwrap();
        let port = std::net::TcpListener::from(taken).local_addr().unwrap().port();
        assert!(port != 0);
    }
}
