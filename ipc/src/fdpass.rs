//! skalibs' unixmessage framing over a Unix stream socket, with fd passing (FORMATS.md §4.1):
//! each message is a 6-byte header (u32 BE payload length, u16 BE fd count) and the payload;
//! its fds ride as one `SCM_RIGHTS` control message on the `sendmsg` that carries the
//! header. s6-fdholderd and s6-sudod speak it.
//!
//! The sender puts header and payload in one `sendmsg(MSG_NOSIGNAL)` with the fds attached,
//! and after a short write sends the rest with plain writes. The receiver reads with
//! `recvmsg(MSG_DONTWAIT | MSG_CMSG_CLOEXEC)` into a byte buffer and an fd queue, and
//! matches fds to messages by count, so a message split over several reads is fine.
//!
//! Both go through nix's `sendmsg`/`recvmsg`. The receive side's control buffer is fixed
//! (on the stack, room for [`MAX_FDS`] fds); the kernel passes at most 253 fds
//! (`SCM_MAX_FD`) in one message and our sockets enable no other control message, so a
//! control message is never truncated (MSG_CTRUNC would be ENOBUFS).

use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{
    self as nix_socket, ControlMessage, ControlMessageOwned, MsgFlags, RecvMsg, UnixAddr,
};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{PollFd, PollFlags};

/// The largest payload a message may carry (skalibs `UNIXMESSAGE_MAXSIZE`).
pub const MAX_SIZE: usize = 1 << 28;
/// The most fds a message may carry (skalibs `UNIXMESSAGE_MAXFDS`).
pub const MAX_FDS: usize = 255;
/// The header length.
pub const HEADER_LEN: usize = 6;

/// Bytes read from the socket per `recvmsg` at most.
const BUF_SIZE: usize = 8192;

/// The control buffer's size: a `cmsghdr` and [`MAX_FDS`] fds, rounded up to whole words.
const CONTROL_LEN: usize = ((16 + MAX_FDS * 4).div_ceil(8) + 1) * 8;

/// The receive side's control buffer, aligned for `cmsghdr`.
#[repr(C, align(8))]
struct Control([u8; CONTROL_LEN]);

/// Packs a header. The caller keeps `len <= MAX_SIZE` and `nfds <= MAX_FDS`.
pub fn pack_header(len: usize, nfds: usize) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&(len as u32).to_be_bytes());
    h[4..].copy_from_slice(&(nfds as u16).to_be_bytes());
    h
}

/// Unpacks a header into (payload length, fd count).
pub fn unpack_header(h: &[u8; HEADER_LEN]) -> (usize, usize) {
    let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let nfds = u16::from_be_bytes([h[4], h[5]]) as usize;
    (len, nfds)
}

fn check_sizes(len: usize, nfds: usize) -> io::Result<()> {
    if len > MAX_SIZE || nfds > MAX_FDS {
        return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
    }
    Ok(())
}

/// One received message: its payload and the fds that came with it (close-on-exec).
#[derive(Debug)]
pub struct Message {
    /// The payload.
    pub data: Vec<u8>,
    /// The fds, in the order they were sent.
    pub fds: Vec<OwnedFd>,
}

/// One queued message: header and payload as they go on the wire, its fds (closed once
/// sent), and how many bytes have left.
#[derive(Debug)]
struct Pending {
    bytes: Vec<u8>,
    fds: Vec<OwnedFd>,
    sent: usize,
    /// How many of `fds` have left.
    fds_sent: usize,
}

/// The most fds Linux passes in one `sendmsg` (`SCM_MAX_FD`).
pub const SCM_MAX_FD: usize = 253;

/// A queue of outgoing messages for a (usually non-blocking) stream socket.
#[derive(Debug, Default)]
pub struct Sender {
    queue: VecDeque<Pending>,
}

impl Sender {
    /// An empty queue.
    pub fn new() -> Sender {
        Sender::default()
    }

    /// Queues a message. The fds are sent with it and closed once it has left (pass
    /// `try_clone()`s to keep your own). EMSGSIZE past [`MAX_SIZE`] or [`MAX_FDS`].
    pub fn put(&mut self, data: &[u8], fds: Vec<OwnedFd>) -> io::Result<()> {
        check_sizes(data.len(), fds.len())?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + data.len());
        bytes.extend_from_slice(&pack_header(data.len(), fds.len()));
        bytes.extend_from_slice(data);
        self.queue.push_back(Pending { bytes, fds, sent: 0, fds_sent: 0 });
        Ok(())
    }

    /// Whether everything queued has been sent.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Sends what it can: `Ok(true)` once the queue is empty, `Ok(false)` when the socket
    /// would block (wait for it to be writable and call again).
    pub fn flush(&mut self, sock: BorrowedFd<'_>) -> io::Result<bool> {
        while let Some(p) = self.queue.front_mut() {
            let left = p.fds.len() - p.fds_sent;
            let res = if left > 0 {
                // A message may carry more fds (up to 255) than one sendmsg may (253): each
                // group of fds rides on its own sendmsg, so a byte is kept back for each
                // group still to go. The receiver matches fds by count (FORMATS.md §4.1).
                let n = left.min(SCM_MAX_FD);
                let later = (left - n).div_ceil(SCM_MAX_FD);
                let end = p.bytes.len() - later;
                send_first(sock, &p.bytes[p.sent..end], &p.fds[p.fds_sent..p.fds_sent + n]).map(|k| (k, n))
            } else {
                write_rest(sock, &p.bytes[p.sent..]).map(|k| (k, 0))
            };
            match res {
                Ok((k, n)) => {
                    p.fds_sent += n;
                    if p.fds_sent == p.fds.len() {
                        // Every fd has left: close ours now.
                        p.fds.clear();
                        p.fds_sent = 0;
                    }
                    p.sent += k;
                    if p.sent == p.bytes.len() {
                        self.queue.pop_front();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// A `sendmsg` of `bytes` with `fds` (at most [`SCM_MAX_FD`]) as one SCM_RIGHTS.
fn send_first(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[OwnedFd]) -> io::Result<usize> {
    let mut raw = [0 as RawFd; MAX_FDS];
    let n = fds.len().min(MAX_FDS);
    for (d, fd) in raw.iter_mut().zip(fds) {
        *d = fd.as_raw_fd();
    }
    let rights = [ControlMessage::ScmRights(&raw[..n])];
    let cmsgs: &[ControlMessage<'_>] = if n == 0 { &[] } else { &rights };
    let iov = [IoSlice::new(bytes)];
    loop {
        match nix_socket::sendmsg::<UnixAddr>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// The rest of a message after a short write: plain bytes, no ancillary data.
fn write_rest(sock: BorrowedFd<'_>, bytes: &[u8]) -> io::Result<usize> {
    loop {
        match nix_socket::send(sock.as_raw_fd(), bytes, MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Waits until `fd` is ready for `events` or `deadline` passes (ETIMEDOUT).
fn wait_for(fd: BorrowedFd<'_>, events: PollFlags, deadline: Deadline) -> io::Result<()> {
    loop {
        if s6rs_sys::event::poll(&mut [PollFd::new(fd, events)], deadline)? > 0 {
            return Ok(());
        }
        if deadline.passed() {
            return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT));
        }
    }
}

/// Sends one message and waits until it has all left (or `deadline` passes: ETIMEDOUT).
/// Works on blocking and non-blocking sockets; our fds stay open.
pub fn send(sock: BorrowedFd<'_>, data: &[u8], fds: &[BorrowedFd<'_>], deadline: Deadline) -> io::Result<()> {
    let copies = fds.iter().map(|f| f.try_clone_to_owned()).collect::<io::Result<Vec<_>>>()?;
    let mut s = Sender::new();
    s.put(data, copies)?;
    while !s.flush(sock)? {
        wait_for(sock, PollFlags::POLLOUT, deadline)?;
    }
    Ok(())
}

/// What [`Receiver::receive`] found.
#[derive(Debug)]
pub enum Received {
    /// A whole message.
    Message(Message),
    /// Nothing complete yet: wait for the socket to be readable.
    WouldBlock,
    /// The peer closed the connection between messages.
    Eof,
}

/// Reassembles messages from a stream socket.
#[derive(Debug)]
pub struct Receiver {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    fds: VecDeque<OwnedFd>,
    accept_fds: bool,
    /// The longest payload accepted: [`MAX_SIZE`] unless the protocol has a smaller bound.
    max_len: usize,
    /// The message being assembled: its header values and the payload so far.
    want: Option<(usize, usize)>,
    data: Vec<u8>,
    got_fds: Vec<OwnedFd>,
}

impl Receiver {
    /// A receiver. Without `accept_fds`, a message announcing fds, or fds arriving, is a
    /// protocol error (EPROTO) and any fds received are closed.
    pub fn new(accept_fds: bool) -> Receiver {
        Receiver::with_max_len(accept_fds, MAX_SIZE)
    }

    /// A receiver for a protocol whose messages are at most `max_len` bytes: a header that
    /// announces more is EPROTO at once, so a peer cannot make the receiver buffer more
    /// than its protocol allows.
    pub fn with_max_len(accept_fds: bool, max_len: usize) -> Receiver {
        Receiver {
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            start: 0,
            end: 0,
            fds: VecDeque::new(),
            accept_fds,
            max_len: max_len.min(MAX_SIZE),
            want: None,
            data: Vec::new(),
            got_fds: Vec::new(),
        }
    }

    /// Whether nothing is buffered: no bytes, no fds, no message under way. An idle
    /// receiver of a closed connection can serve the next one (a server keeps it rather
    /// than allocate a buffer per connection).
    pub fn is_idle(&self) -> bool {
        self.start == self.end
            && self.fds.is_empty()
            && self.want.is_none()
            && self.data.is_empty()
            && self.got_fds.is_empty()
    }

    /// Whether bytes or fds are buffered (a message may be complete without reading).
    pub fn has_buffered(&self) -> bool {
        self.end > self.start || !self.fds.is_empty()
    }

    /// The next message, reading the socket without blocking as needed.
    pub fn receive(&mut self, sock: BorrowedFd<'_>) -> io::Result<Received> {
        loop {
            if let Some(m) = self.assemble()? {
                return Ok(Received::Message(m));
            }
            match self.fill(sock) {
                Ok(0) => {
                    if self.want.is_none() && self.end == self.start && self.fds.is_empty() {
                        return Ok(Received::Eof);
                    }
                    return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Received::WouldBlock),
                Err(e) => return Err(e),
            }
        }
    }

    /// The next message, waiting up to `deadline` (ETIMEDOUT); `None` at a clean EOF.
    pub fn receive_wait(&mut self, sock: BorrowedFd<'_>, deadline: Deadline) -> io::Result<Option<Message>> {
        loop {
            match self.receive(sock)? {
                Received::Message(m) => return Ok(Some(m)),
                Received::Eof => return Ok(None),
                Received::WouldBlock => wait_for(sock, PollFlags::POLLIN, deadline)?,
            }
        }
    }

    /// Moves buffered bytes and fds into the message being built; returns it once whole.
    fn assemble(&mut self) -> io::Result<Option<Message>> {
        if self.want.is_none() {
            if self.end - self.start < HEADER_LEN {
                return Ok(None);
            }
            let mut h = [0u8; HEADER_LEN];
            h.copy_from_slice(&self.buf[self.start..self.start + HEADER_LEN]);
            self.start += HEADER_LEN;
            let (len, nfds) = unpack_header(&h);
            let maxfds = if self.accept_fds { MAX_FDS } else { 0 };
            if len > self.max_len || nfds > maxfds {
                return Err(io::Error::from_raw_os_error(libc::EPROTO));
            }
            self.want = Some((len, nfds));
            // The header's length is the peer's word: reserve for what can arrive in one
            // read and grow with the bytes that do come, so that 6 bytes cannot make us
            // allocate 256 MiB.
            self.data = Vec::with_capacity(len.min(BUF_SIZE));
            self.got_fds = Vec::with_capacity(nfds);
        }
        let Some((len, nfds)) = self.want else { return Ok(None) };
        let n = (len - self.data.len()).min(self.end - self.start);
        self.data.extend_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        while self.got_fds.len() < nfds {
            match self.fds.pop_front() {
                Some(fd) => self.got_fds.push(fd),
                None => break,
            }
        }
        if self.data.len() < len || self.got_fds.len() < nfds {
            return Ok(None);
        }
        self.want = None;
        Ok(Some(Message { data: std::mem::take(&mut self.data), fds: std::mem::take(&mut self.got_fds) }))
    }

    /// Appends bytes as if they had been read from the socket, without fds; returns how
    /// many fit in the buffer (take messages out with [`Receiver::next_buffered`] to make
    /// room). The decoder without the socket: for tests and fuzzing.
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        self.compact();
        let n = bytes.len().min(self.buf.len() - self.end);
        self.buf[self.end..self.end + n].copy_from_slice(&bytes[..n]);
        self.end += n;
        n
    }

    /// The next message already whole in the buffer, without reading the socket: what
    /// [`Receiver::receive`] returns before it reads. A bad header is EPROTO.
    pub fn next_buffered(&mut self) -> io::Result<Option<Message>> {
        self.assemble()
    }

    /// Moves the unread bytes to the front of the buffer.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// One `recvmsg` into the free end of the buffer: the byte count (0 at EOF).
    fn fill(&mut self, sock: BorrowedFd<'_>) -> io::Result<usize> {
        self.compact();
        if self.end == self.buf.len() || self.fds.len() >= MAX_FDS {
            return Err(io::Error::from_raw_os_error(libc::ENOBUFS));
        }
        let mut control = Control([0; CONTROL_LEN]);
        let mut iov = [IoSliceMut::new(&mut self.buf[self.end..])];
        let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC;
        let (r, got) = loop {
            match nix_socket::recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut control.0), flags) {
                Ok(msg) => break (msg.bytes, take_fds(&msg)?),
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        };
        if !got.is_empty() && !self.accept_fds {
            return Err(io::Error::from_raw_os_error(libc::EPROTO));
        }
        self.fds.extend(got);
        self.end += r;
        Ok(r)
    }
}

/// The fds of every SCM_RIGHTS control message of `msg`, owned (so they close if dropped).
/// ENOBUFS if the kernel truncated the control data (see the module doc: it cannot).
fn take_fds(msg: &RecvMsg<'_, '_, ()>) -> io::Result<Vec<OwnedFd>> {
    let mut out = Vec::new();
    for cm in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cm {
            // SAFETY: this recvmsg installed each fd in this process; nothing else owns it.
            out.extend(fds.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    fn far() -> Deadline {
        Deadline::from_ms(5000)
    }

    #[test]
    fn a_length_over_the_protocols_bound_is_eproto() {
        let mut r = Receiver::with_max_len(true, 10);
        r.feed(&pack_header(10, 0));
        r.feed(&[1; 10]);
        assert_eq!(r.next_buffered().unwrap().unwrap().data, [1; 10]);
        r.feed(&pack_header(11, 0));
        assert_eq!(r.next_buffered().unwrap_err().raw_os_error(), Some(libc::EPROTO));
    }

    #[test]
    fn idle_only_between_whole_messages() {
        let mut r = Receiver::with_max_len(true, 10);
        assert!(r.is_idle());
        r.feed(&pack_header(3, 0)[..4]);
        assert!(!r.is_idle());
        r.feed(&pack_header(3, 0)[4..]);
        r.feed(b"ab");
        assert!(r.next_buffered().unwrap().is_none());
        assert!(!r.is_idle());
        r.feed(b"c");
        assert_eq!(r.next_buffered().unwrap().unwrap().data, b"abc");
        assert!(r.is_idle());
    }

    #[test]
    fn huge_announced_length_reserves_only_what_arrives() {
        // Found by the unixmessage fuzz target: a 6-byte header announcing a 256 MiB
        // payload made the receiver allocate all of it up front.
        let mut r = Receiver::new(false);
        assert_eq!(r.feed(&pack_header(MAX_SIZE, 0)), HEADER_LEN);
        assert!(r.next_buffered().unwrap().is_none());
        assert!(r.data.capacity() <= BUF_SIZE, "{}", r.data.capacity());
        let chunk = vec![7u8; 1000];
        for _ in 0..20 {
            assert_eq!(r.feed(&chunk), chunk.len());
            assert!(r.next_buffered().unwrap().is_none());
        }
        assert!(r.data.capacity() <= 2 * 20 * chunk.len() + BUF_SIZE);
        // A message still completes once all of it is there.
        let mut r = Receiver::new(false);
        r.feed(&pack_header(20_000, 0));
        for _ in 0..19 {
            r.feed(&chunk);
            assert!(r.next_buffered().unwrap().is_none());
        }
        r.feed(&chunk);
        assert_eq!(r.next_buffered().unwrap().unwrap().data, vec![7u8; 20_000]);
    }

    #[test]
    fn header_golden_bytes() {
        assert_eq!(pack_header(0x0102_0304, 0x0506), [1, 2, 3, 4, 5, 6]);
        assert_eq!(unpack_header(&[0, 0, 0, 3, 0, 2]), (3, 2));
    }

    #[test]
    fn wire_bytes_without_fds() {
        let (a, b) = s6rs_sys::socket::pair(false).unwrap();
        send(a.as_fd(), b"abc", &[], far()).unwrap();
        let mut buf = [0u8; 16];
        let n = s6rs_sys::fd::read(b.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"\0\0\0\x03\0\0abc");
    }

    #[test]
    fn fds_travel_with_their_message() {
        let (a, b) = s6rs_sys::socket::pair(false).unwrap();
        let (pr, pw) = s6rs_sys::fd::pipe().unwrap();
        send(a.as_fd(), b"one", &[pw.as_fd(), pr.as_fd()], far()).unwrap();
        send(a.as_fd(), b"", &[], far()).unwrap();
        drop(pw);
        let mut r = Receiver::new(true);
        let m = r.receive_wait(b.as_fd(), far()).unwrap().unwrap();
        assert_eq!(m.data, b"one");
        assert_eq!(m.fds.len(), 2);
        // The received write end works, and is close-on-exec.
        s6rs_sys::fd::write_all(m.fds[0].as_fd(), b"z").unwrap();
        let mut c = [0u8; 1];
        assert_eq!(s6rs_sys::fd::read(pr.as_fd(), &mut c).unwrap(), 1);
        assert!(s6rs_sys::fd::is_cloexec(m.fds[0].as_fd()).unwrap());
        let m2 = r.receive_wait(b.as_fd(), far()).unwrap().unwrap();
        assert!(m2.data.is_empty() && m2.fds.is_empty());
        drop(a);
        assert!(r.receive_wait(b.as_fd(), far()).unwrap().is_none());
    }

    #[test]
    fn a_message_with_more_fds_than_one_sendmsg_passes() {
        // Linux refuses more than 253 fds in one sendmsg (EINVAL), which made real s6's
        // getdump of a full 255-entry chunk fail: the fds go in two groups.
        let (a, b) = s6rs_sys::socket::pair(false).unwrap();
        let (pr, pw) = s6rs_sys::fd::pipe().unwrap();
        let fds: Vec<BorrowedFd<'_>> = (0..MAX_FDS).map(|_| pw.as_fd()).collect();
        let data = vec![9u8; 300];
        send(a.as_fd(), &data, &fds, far()).unwrap();
        send(a.as_fd(), b"next", &[pr.as_fd()], far()).unwrap();
        let mut r = Receiver::new(true);
        let m = r.receive_wait(b.as_fd(), far()).unwrap().unwrap();
        assert_eq!((m.data, m.fds.len()), (data, MAX_FDS));
        drop(m.fds);
        let m = r.receive_wait(b.as_fd(), far()).unwrap().unwrap();
        assert_eq!((m.data.as_slice(), m.fds.len()), (&b"next"[..], 1));
    }

    #[test]
    fn large_messages_cross_many_reads_on_a_nonblocking_pair() {
        let (a, b) = s6rs_sys::socket::pair(true).unwrap();
        let big: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let (_pr, pw) = s6rs_sys::fd::pipe().unwrap();
        let mut s = Sender::new();
        s.put(&big, vec![pw]).unwrap();
        s.put(b"tail", Vec::new()).unwrap();
        let mut r = Receiver::new(true);
        let mut got = Vec::new();
        let deadline = far();
        while got.len() < 2 {
            let done = s.flush(a.as_fd()).unwrap();
            match r.receive(b.as_fd()).unwrap() {
                Received::Message(m) => got.push(m),
                Received::WouldBlock => assert!(!deadline.passed() && (!done || got.len() < 2)),
                Received::Eof => panic!("eof"),
            }
        }
        assert_eq!(got[0].data, big);
        assert_eq!(got[0].fds.len(), 1);
        assert_eq!(got[1].data, b"tail");
        assert!(s.is_empty());
    }

    #[test]
    fn the_kernels_most_fds_in_one_message_arrive_whole() {
        // SCM_MAX_FD: what one sendmsg can carry. The fixed control buffer takes it all
        // (no MSG_CTRUNC), each fd close-on-exec, and no fd is left over.
        const SCM_MAX_FD: usize = 253;
        let (a, b) = s6rs_sys::socket::pair(false).unwrap();
        let (pr, pw) = s6rs_sys::fd::pipe().unwrap();
        let many: Vec<BorrowedFd<'_>> = (0..SCM_MAX_FD).map(|_| pw.as_fd()).collect();
        send(a.as_fd(), b"many", &many, far()).unwrap();
        let mut r = Receiver::new(true);
        let m = r.receive_wait(b.as_fd(), far()).unwrap().unwrap();
        assert_eq!((m.data.as_slice(), m.fds.len()), (&b"many"[..], SCM_MAX_FD));
        assert!(m.fds.iter().all(|fd| s6rs_sys::fd::is_cloexec(fd.as_fd()).unwrap()));
        s6rs_sys::fd::write_all(m.fds[SCM_MAX_FD - 1].as_fd(), b"z").unwrap();
        let mut c = [0u8; 1];
        assert_eq!(s6rs_sys::fd::read(pr.as_fd(), &mut c).unwrap(), 1);
        assert!(!r.has_buffered());
    }

    #[test]
    fn fds_are_refused_when_not_expected() {
        let (a, b) = s6rs_sys::socket::pair(false).unwrap();
        let (pr, _pw) = s6rs_sys::fd::pipe().unwrap();
        send(a.as_fd(), b"x", &[pr.as_fd()], far()).unwrap();
        let mut r = Receiver::new(false);
        let e = r.receive_wait(b.as_fd(), far()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPROTO));
    }

    #[test]
    fn oversized_header_is_a_protocol_error_and_sizes_are_checked() {
        let (a, b) = s6rs_sys::socket::pair(false).unwrap();
        s6rs_sys::fd::write_all(a.as_fd(), &pack_header(MAX_SIZE + 1, 0)).unwrap();
        let e = Receiver::new(true).receive_wait(b.as_fd(), far()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPROTO));
        let mut s = Sender::new();
        assert_eq!(
            s.put(&[], (0..256).map(|_| s6rs_sys::fd::pipe().unwrap().0).collect())
                .unwrap_err()
                .raw_os_error(),
            Some(libc::EMSGSIZE)
        );
    }

    #[test]
    fn truncated_message_at_eof_is_an_error() {
        let (a, b) = s6rs_sys::socket::pair(false).unwrap();
        s6rs_sys::fd::write_all(a.as_fd(), &[0, 0, 0, 9, 0, 0, b'a']).unwrap();
        drop(a);
        let e = Receiver::new(true).receive_wait(b.as_fd(), far()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
