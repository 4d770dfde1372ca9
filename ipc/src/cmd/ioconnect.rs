//! `s6-ioconnect [ -t millisecs ] [ -r fdr ] [ -w fdw ]`: copy fd 0 to fd `fdw` (7) and fd
//! `fdr` (6) to fd 1 until both directions have seen EOF and are flushed (upstream
//! doc/s6-ioconnect.html). EOF is passed on by closing the writer, with `shutdown()` first
//! when it is a socket. Exit 0, or 1 after `-t` milliseconds without activity.
//!
//! It polls with `poll(2)`, not epoll, because its endpoints may be regular files.
//!
//! SIGTERM makes both readers behave as if they had reached EOF: what is buffered is
//! flushed and the program exits 0. (Upstream means to do this, but its reads then find
//! EAGAIN and it keeps running.)

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{PollFd, PollFlags};
use s6rs_sys::sig::Trap;
use s6rs_sys::socket::{self, Shut};

/// The command line, as upstream's; `-0 -1 -6 -7` are accepted and do nothing.
pub const SPEC: Spec = Spec {
    name: "s6-ioconnect",
    operands: "",
    about: "Copies stdin to a remote fd and a remote fd to stdout until both directions reach \
            end of file.",
    doc: "s6-ioconnect.html",
    flags: &[
        Flag::arg(
            't',
            "timeout",
            Show::Own,
            "exit 1 after this many milliseconds without traffic (0: never)",
        ),
        Flag::arg('r', "fdr", Show::Own, "read the remote side from this fd (default 6)"),
        Flag::arg('w', "fdw", Show::Own, "write the remote side to this fd (default 7)"),
        Flag::new('0', Show::Hidden, "obsolete, ignored (sockets are detected)"),
        Flag::new('1', Show::Hidden, "obsolete, ignored (sockets are detected)"),
        Flag::new('6', Show::Hidden, "obsolete, ignored (sockets are detected)"),
        Flag::new('7', Show::Hidden, "obsolete, ignored (sockets are detected)"),
    ],
};

const BUF_SIZE: usize = 8192;

/// One side of a copy: an fd and whether it is a socket (then EOF goes through shutdown).
struct End {
    fd: Option<OwnedFd>,
    num: i32,
    socket: bool,
}

impl End {
    fn open(num: i32, taken: &[i32]) -> Result<End, Fatal> {
        let fd = if taken.contains(&num) {
            // The same number on two ends: give this one its own copy, so that each end
            // owns what it closes.
            // SAFETY: the fd is open (adopted by the other end) and only borrowed here.
            let b = unsafe { BorrowedFd::borrow_raw(num) };
            s6rs_sys::fd::dup_min(b, 3)
        } else {
            s6rs_sys::fd::adopt(num)
        }
        .map_err(|e| Fatal::sys(format_args!("fstat fd {num}"), &e))?;
        let socket =
            socket::is_socket(fd.as_fd()).map_err(|e| Fatal::sys(format_args!("fstat fd {num}"), &e))?;
        s6rs_sys::fd::set_nonblock(fd.as_fd(), true)
            .map_err(|e| Fatal::sys(format_args!("set fd {num} non-blocking"), &e))?;
        Ok(End { fd: Some(fd), num, socket })
    }

    fn close(&mut self, how: Shut) {
        if let Some(fd) = self.fd.take() {
            if self.socket {
                let _ = socket::shutdown(fd.as_fd(), how);
            }
        }
    }
}

/// One direction: reader, writer and the bytes between them.
struct Pipe {
    r: End,
    w: End,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl Pipe {
    fn is_empty(&self) -> bool {
        self.start == self.end
    }

    fn close_both(&mut self) {
        self.r.close(Shut::Read);
        self.w.close(Shut::Write);
    }

    /// The reader reached EOF (or failed): stop reading; pass EOF on once flushed.
    fn reader_done(&mut self) {
        self.r.close(Shut::Read);
        if self.is_empty() {
            self.w.close(Shut::Write);
        }
    }

    /// Reads what is there into the buffer.
    fn fill(&mut self) {
        let Some(fd) = &self.r.fd else { return };
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            return;
        }
        match s6rs_sys::fd::read(fd.as_fd(), &mut self.buf[self.end..]) {
            Ok(0) => self.reader_done(),
            Ok(n) => self.end += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                if e.raw_os_error() != Some(libc::EPIPE) {
                    cli::warn_sys(format_args!("read from fd {}", self.r.num), &e);
                }
                self.reader_done();
            }
        }
    }

    /// Writes what it can; the writer is closed once empty after the reader's EOF, or on
    /// an error (returned, with both ends closed).
    fn flush(&mut self) -> io::Result<()> {
        let Some(fd) = &self.w.fd else { return Ok(()) };
        while !self.is_empty() {
            match s6rs_sys::fd::write(fd.as_fd(), &self.buf[self.start..self.end]) {
                Ok(n) => self.start += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => {
                    self.close_both();
                    return Err(e);
                }
            }
        }
        self.start = 0;
        self.end = 0;
        if self.r.fd.is_none() {
            self.w.close(Shut::Write);
        }
        Ok(())
    }
}

/// Runs s6-ioconnect.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (mut timeout, mut fdr, mut fdw) = (0u64, 6i32, 7i32);
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        let arg = opt.arg_str();
        match opt.c {
            // Deprecated: sockets are recognised by themselves now.
            '0' | '1' | '6' | '7' => {}
            't' => timeout = cli::parse_uint(arg).ok_or_else(|| SPEC.usage_error())?,
            'r' => fdr = parse_int(arg).ok_or_else(|| SPEC.usage_error())?,
            'w' => fdw = parse_int(arg).ok_or_else(|| SPEC.usage_error())?,
            _ => return Err(SPEC.usage_error()),
        }
    }
    if fdr < 3 || fdw < 3 {
        return Err(SPEC.usage_error());
    }
    let r0 = End::open(0, &[])?;
    let w0 = End::open(fdw, &[0])?;
    let r1 = End::open(fdr, &[0, fdw])?;
    let w1 = End::open(1, &[0, fdw, fdr])?;
    let new = |r, w| Pipe { r, w, buf: vec![0; BUF_SIZE].into_boxed_slice(), start: 0, end: 0 };
    let mut pipes = [new(r0, w0), new(r1, w1)];
    s6rs_sys::sig::ignore(libc::SIGPIPE).map_err(|e| Fatal::sys("ignore SIGPIPE", &e))?;
    let trap = Trap::new(&[libc::SIGTERM]).map_err(|e| Fatal::sys("trap SIGTERM", &e))?;
    let tto = std::time::Duration::from_millis(timeout);
    loop {
        let idle = pipes.iter().all(Pipe::is_empty);
        let deadline = if timeout > 0 && idle { Deadline::after(tto) } else { Deadline::Never };
        let mut fds: [PollFd<'_>; 5] = std::array::from_fn(|_| PollFd::new(trap.as_fd(), PollFlags::POLLIN));
        // (pipe, is-writer) of each pollfd after the first.
        let mut who = [(0usize, false); 4];
        let mut n = 1;
        for (i, p) in pipes.iter().enumerate() {
            if let Some(fd) = p.r.fd.as_ref().filter(|_| p.end - p.start < p.buf.len()) {
                fds[n] = PollFd::new(fd.as_fd(), PollFlags::POLLIN);
                who[n - 1] = (i, false);
                n += 1;
            }
            if let Some(fd) = &p.w.fd {
                let events = if p.is_empty() { PollFlags::empty() } else { PollFlags::POLLOUT };
                fds[n] = PollFd::new(fd.as_fd(), events);
                who[n - 1] = (i, true);
                n += 1;
            }
        }
        if n == 1 {
            return Ok(0);
        }
        if s6rs_sys::event::poll(&mut fds[..n], deadline).map_err(|e| Fatal::sys("iopause", &e))? == 0 {
            if deadline.passed() {
                return Ok(1);
            }
            continue;
        }
        // What poll found, taken out so that the pipes can change.
        let revents: [PollFlags; 5] = std::array::from_fn(|k| fds[k].revents().unwrap_or(PollFlags::empty()));
        if revents[0].contains(PollFlags::POLLIN) {
            while let Some(sig) = trap.next().map_err(|e| Fatal::sys("read signalfd", &e))? {
                if sig == libc::SIGTERM {
                    pipes.iter_mut().for_each(Pipe::reader_done);
                }
            }
        }
        let except = PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL;
        for (k, &(i, writer)) in who[..n - 1].iter().enumerate() {
            let rev = revents[k + 1];
            if !writer || rev.is_empty() {
                continue;
            }
            let p = &mut pipes[i];
            if rev.intersects(except) {
                // The reader of this writer is gone: what is left cannot be delivered.
                let num = p.w.num;
                if let Err(e) = p.flush() {
                    cli::warn_sys(format_args!("write to fd {num}"), &e);
                }
                p.close_both();
            } else if rev.contains(PollFlags::POLLOUT) {
                // A failed write closes both ends, silently, as upstream does.
                let _ = p.flush();
            }
        }
        for (k, &(i, writer)) in who[..n - 1].iter().enumerate() {
            if !writer && revents[k + 1].intersects(PollFlags::POLLIN | except) {
                pipes[i].fill();
            }
        }
        // Data read now is written on the next round, when poll says the writer can take it.
    }
}

/// skalibs `int0_scan`: an optional sign and decimal digits, nothing else.
fn parse_int(s: &str) -> Option<i32> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    cli::parse_uint::<u32>(digits)?;
    s.parse().ok()
}
