//! The client side of the protocol (libs6 `s6_fdholder_*`): one connection to a daemon,
//! one function per operation, every wait bounded by the caller's deadline.
//!
//! Errors are `io::Error`s carrying the errno the tools print (doc/s6-fdholder-errorcodes.html):
//! the daemon's refusal byte as it came (EPERM, ENOENT, EBUSY, ENFILE...), EPIPE when the
//! daemon closed the connection (what an access refusal looks like), EPROTO for a reply
//! that does not follow the protocol, ENAMETOOLONG for an id over 255 bytes, ETIMEDOUT when
//! the deadline passes.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use s6rs_ipc::fdpass::{self, Message, Receiver};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{PollFd, PollFlags};
use s6rs_sys::socket::{self, Kind};
use s6rs_sys::tai::Tain;

use crate::protocol::{self, DecodeError, Entry, Request, CHUNK};

/// How long to wait before trying again when the daemon's backlog is full.
const BACKLOG_RETRY_MS: u64 = 10;

/// One dumped fd: its id, limit and the fd itself.
#[derive(Debug)]
pub struct Dumped {
    /// The id.
    pub id: Vec<u8>,
    /// The limit.
    pub limit: Tain,
    /// The fd (close-on-exec).
    pub fd: OwnedFd,
}

/// A connection to an s6-fdholderd.
#[derive(Debug)]
pub struct Client {
    fd: OwnedFd,
    rx: Receiver,
    deadline: Deadline,
}

fn err(n: i32) -> io::Error {
    io::Error::from_raw_os_error(n)
}

fn proto(_: DecodeError) -> io::Error {
    err(libc::EPROTO)
}

/// A request that cannot be encoded: only an id can be wrong.
fn bad_id(e: DecodeError) -> io::Error {
    match e {
        DecodeError::IdLength => err(libc::ENAMETOOLONG),
        _ => err(libc::EINVAL),
    }
}

fn refused(errno: i32) -> io::Error {
    err(errno)
}

impl Client {
    /// Connects to the daemon listening at `path`, by `deadline`.
    pub fn connect(path: &Path, deadline: Deadline) -> io::Result<Client> {
        let fd = socket::socket(Kind::Stream, true)?;
        loop {
            match socket::connect(fd.as_fd(), path) {
                Ok(()) => break,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    // The backlog is full: try again until the deadline.
                    if deadline.passed() {
                        return Err(err(libc::ETIMEDOUT));
                    }
                    let wait = Deadline::from_ms(BACKLOG_RETRY_MS).min(deadline);
                    s6rs_sys::event::poll(&mut [], wait)?;
                }
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                    wait(fd.as_fd(), PollFlags::POLLOUT, deadline)?;
                    let so: i32 = nix::sys::socket::getsockopt(&fd, nix::sys::socket::sockopt::SocketError)?;
                    if so != 0 {
                        return Err(err(so));
                    }
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Client { fd, rx: Receiver::new(true), deadline })
    }

    /// Changes the deadline for what follows.
    pub fn set_deadline(&mut self, deadline: Deadline) {
        self.deadline = deadline;
    }

    fn send(&mut self, req: &Request<'_>, fds: &[BorrowedFd<'_>]) -> io::Result<()> {
        let (bytes, n) = req.encode().map_err(bad_id)?;
        debug_assert_eq!(n, fds.len());
        fdpass::send(self.fd.as_fd(), &bytes, fds, self.deadline)
    }

    fn receive(&mut self) -> io::Result<Message> {
        match self.rx.receive_wait(self.fd.as_fd(), self.deadline) {
            Ok(Some(m)) => Ok(m),
            // The daemon hung up: refused by the rules, or it went away.
            Ok(None) => Err(err(libc::EPIPE)),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(err(libc::EPIPE)),
            Err(e) => Err(e),
        }
    }

    fn status(&mut self) -> io::Result<()> {
        let m = self.receive()?;
        protocol::decode_status(&m.data, m.fds.len(), 0).map_err(proto)?.map_err(refused)
    }

    /// Stores `fd` under `id` until `limit`.
    pub fn store(&mut self, fd: BorrowedFd<'_>, id: &[u8], limit: Tain) -> io::Result<()> {
        self.send(&Request::Store { limit, id }, &[fd])?;
        self.status()
    }

    /// Deletes the fd held under `id`.
    pub fn delete(&mut self, id: &[u8]) -> io::Result<()> {
        self.send(&Request::Delete { id }, &[])?;
        self.status()
    }

    /// Retrieves (a copy of) the fd held under `id`, deleting it from the daemon if `delete`.
    pub fn retrieve(&mut self, id: &[u8], delete: bool) -> io::Result<OwnedFd> {
        self.send(&Request::Retrieve { delete, id }, &[])?;
        let m = self.receive()?;
        protocol::decode_status(&m.data, m.fds.len(), 1).map_err(proto)?.map_err(refused)?;
        m.fds.into_iter().next().ok_or_else(|| err(libc::EPROTO))
    }

    /// The ids held.
    pub fn list(&mut self) -> io::Result<Vec<Vec<u8>>> {
        self.send(&Request::List, &[])?;
        let m = self.receive()?;
        let ids = protocol::decode_list(&m.data, m.fds.len()).map_err(proto)?.map_err(refused)?;
        Ok(ids.into_iter().map(<[u8]>::to_vec).collect())
    }

    /// Every fd held, with its id and limit.
    pub fn getdump(&mut self) -> io::Result<Vec<Dumped>> {
        self.send(&Request::GetDump, &[])?;
        let m = self.receive()?;
        let total = protocol::decode_getdump_head(&m.data, m.fds.len()).map_err(proto)?.map_err(refused)?;
        let mut out: Vec<Dumped> = Vec::new();
        for _ in 0..protocol::chunks(total) {
            let m = self.receive()?;
            if out.len() + m.fds.len() > total as usize {
                return Err(err(libc::EPROTO));
            }
            let entries = protocol::decode_entries(&m.data, m.fds.len()).map_err(proto)?;
            for (e, fd) in entries.iter().zip(m.fds) {
                out.push(Dumped { id: e.id.to_vec(), limit: e.limit, fd });
            }
        }
        if out.len() != total as usize {
            return Err(err(libc::EPROTO));
        }
        Ok(out)
    }

    /// Adds `entries` (id, limit, fd) to the daemon's fds, replacing those with the same ids.
    pub fn setdump(&mut self, entries: &[(&[u8], Tain, BorrowedFd<'_>)]) -> io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        for (id, _, _) in entries {
            protocol::check_id(id).map_err(|_| err(libc::EINVAL))?;
        }
        let count = u32::try_from(entries.len()).map_err(|_| err(libc::ENFILE))?;
        self.send(&Request::SetDump { count }, &[])?;
        let m = self.receive()?;
        protocol::decode_setdump_reply(&m.data, m.fds.len(), count).map_err(proto)?.map_err(refused)?;
        let n = entries.chunks(CHUNK).len();
        for (i, chunk) in entries.chunks(CHUNK).enumerate() {
            let req = Request::SetDumpData {
                entries: chunk.iter().map(|&(id, limit, _)| Entry { limit, id }).collect(),
            };
            let fds: Vec<BorrowedFd<'_>> = chunk.iter().map(|&(_, _, fd)| fd).collect();
            self.send(&req, &fds)?;
            let m = self.receive()?;
            let last = i + 1 == n;
            match protocol::decode_status(&m.data, m.fds.len(), 0).map_err(proto)? {
                Ok(()) if last => {}
                Err(e) if !last && e == i32::from(protocol::errno::EAGAIN) => {}
                // Done early, or "more" after the last chunk: the daemon counts otherwise.
                Ok(()) => return Err(err(libc::EPROTO)),
                Err(e) if e == i32::from(protocol::errno::EAGAIN) => return Err(err(libc::EPROTO)),
                Err(e) => return Err(refused(e)),
            }
        }
        Ok(())
    }
}

fn wait(fd: BorrowedFd<'_>, events: PollFlags, deadline: Deadline) -> io::Result<()> {
    loop {
        if s6rs_sys::event::poll(&mut [PollFd::new(fd, events)], deadline)? > 0 {
            return Ok(());
        }
        if deadline.passed() {
            return Err(err(libc::ETIMEDOUT));
        }
    }
}
