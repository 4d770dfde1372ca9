//! The event loop: mio over epoll, wrapped once. Sources are raw fds registered with a
//! token; readiness is edge-triggered, so handlers read until `WouldBlock`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::errno::Errno;
use nix::poll::PollTimeout;
/// What [`poll`] waits on: an fd and the events asked for, and what it found.
pub use nix::poll::{PollFd, PollFlags};

use crate::deadline::Deadline;

/// What a source is watched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// Readable (or hung up).
    Read,
    /// Writable.
    Write,
}

/// One readiness report: the token given at registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready {
    /// The registration token.
    pub token: usize,
    /// Readable, or the peer hung up / an error is pending.
    pub readable: bool,
    /// Writable.
    pub writable: bool,
    /// An error is pending or the fd hung up in both directions (poll's POLLERR/POLLHUP):
    /// for a listening socket, it is no longer listening.
    pub broken: bool,
}

/// An epoll instance with a fixed-size event buffer (no growth per event).
#[derive(Debug)]
pub struct EventLoop {
    poll: Poll,
    events: Events,
}

impl EventLoop {
    /// A loop that reports at most `capacity` events per wait.
    pub fn new(capacity: usize) -> io::Result<EventLoop> {
        Ok(EventLoop { poll: Poll::new()?, events: Events::with_capacity(capacity.max(1)) })
    }

    /// Starts watching `fd` under `token`.
    pub fn add(&self, fd: BorrowedFd<'_>, token: usize, watch: Watch) -> io::Result<()> {
        let raw = fd.as_raw_fd();
        self.poll.registry().register(&mut SourceFd(&raw), Token(token), interest(watch))
    }

    /// Stops watching `fd`.
    pub fn remove(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        let raw = fd.as_raw_fd();
        self.poll.registry().deregister(&mut SourceFd(&raw))
    }

    /// Waits until a source is ready or `deadline` passes, then calls `f` for every
    /// readiness report. EINTR counts as a wake-up with no reports.
    ///
    /// A deadline already passed means "look without sleeping" (timeout 0): that is how a
    /// caller with work left asks for events between two pieces of it. So a caller must
    /// drop or move on a deadline once it has acted on it; waiting again on a stale one
    /// turns the loop into a busy poll.
    pub fn wait(&mut self, deadline: Deadline, mut f: impl FnMut(Ready)) -> io::Result<()> {
        match self.poll.poll(&mut self.events, deadline.remaining()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        for ev in self.events.iter() {
            f(Ready {
                token: ev.token().0,
                readable: ev.is_readable() || ev.is_read_closed() || ev.is_error(),
                writable: ev.is_writable() || ev.is_write_closed(),
                broken: ev.is_error() || (ev.is_read_closed() && ev.is_write_closed()),
            });
        }
        Ok(())
    }

    /// Waits as [`EventLoop::wait`] does and says which of the tokens `0..N` were reported
    /// (reports for other tokens are dropped): for a loop over a few sources numbered from 0
    /// that handles each kind of source once per wake-up.
    pub fn wait_tokens<const N: usize>(&mut self, deadline: Deadline) -> io::Result<[bool; N]> {
        let mut seen = [false; N];
        self.wait(deadline, |r| {
            if let Some(s) = seen.get_mut(r.token) {
                *s = true;
            }
        })?;
        Ok(seen)
    }
}

/// `poll(2)` until one of `fds` is ready or `deadline` passes: the number of fds with
/// events. 0 means the deadline passed or a signal interrupted the wait (EINTR): callers
/// tell them apart with [`Deadline::passed`]. Unlike the epoll
/// loop, this works on every kind of fd, regular files included (skalibs `iopause`).
///
/// On EINTR the kernel reports no events: every `revents` reads empty.
pub fn poll(fds: &mut [PollFd<'_>], deadline: Deadline) -> io::Result<usize> {
    let timeout = PollTimeout::try_from(deadline.poll_ms()).unwrap_or(PollTimeout::NONE);
    match nix::poll::poll(fds, timeout) {
        Ok(n) => Ok(n as usize),
        Err(Errno::EINTR) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

fn interest(w: Watch) -> Interest {
    match w {
        Watch::Read => Interest::READABLE,
        Watch::Write => Interest::WRITABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn pipe_becomes_readable() {
        let (r, w) = crate::fd::pipe_nb().unwrap();
        let mut lp = EventLoop::new(4).unwrap();
        lp.add(r.as_fd(), 7, Watch::Read).unwrap();
        let mut seen = Vec::new();
        lp.wait(Deadline::from_ms(1), |ev| seen.push(ev.token)).unwrap();
        assert!(seen.is_empty());
        crate::fd::write_all(w.as_fd(), b"x").unwrap();
        lp.wait(Deadline::from_ms(5000), |ev| seen.push(ev.token)).unwrap();
        assert_eq!(seen, vec![7]);
    }

    #[test]
    fn wait_tokens_marks_the_ready_ones() {
        let (r0, w0) = crate::fd::pipe_nb().unwrap();
        let (r1, _w1) = crate::fd::pipe_nb().unwrap();
        let (r9, w9) = crate::fd::pipe_nb().unwrap();
        let mut lp = EventLoop::new(4).unwrap();
        lp.add(r0.as_fd(), 0, Watch::Read).unwrap();
        lp.add(r1.as_fd(), 1, Watch::Read).unwrap();
        lp.add(r9.as_fd(), 9, Watch::Read).unwrap();
        crate::fd::write_all(w9.as_fd(), b"x").unwrap();
        crate::fd::write_all(w0.as_fd(), b"x").unwrap();
        assert_eq!(lp.wait_tokens::<2>(Deadline::from_ms(5000)).unwrap(), [true, false]);
    }

    #[test]
    fn poll_sees_a_readable_pipe_and_times_out() {
        let (r, w) = crate::fd::pipe().unwrap();
        let mut fds = [PollFd::new(r.as_fd(), PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, Deadline::from_ms(1)).unwrap(), 0);
        crate::fd::write_all(w.as_fd(), b"x").unwrap();
        assert_eq!(poll(&mut fds, Deadline::from_ms(5000)).unwrap(), 1);
        assert!(fds[0].revents().unwrap().contains(PollFlags::POLLIN));
    }
}
