//! Timed reads and writes of the protocol's unframed parts (banner, confirmation byte,
//! status) on non-blocking sockets: every wait is bounded by an absolute deadline.

use std::io;
use std::os::fd::BorrowedFd;

use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{PollFd, PollFlags};

fn timed_out() -> io::Error {
    io::Error::from_raw_os_error(libc::ETIMEDOUT)
}

/// Waits until `fd` is ready for `events`, or fails with ETIMEDOUT once `deadline` passes.
fn wait_for(fd: BorrowedFd<'_>, events: PollFlags, deadline: Deadline) -> io::Result<()> {
    loop {
        if s6rs_sys::event::poll(&mut [PollFd::new(fd, events)], deadline)? > 0 {
            return Ok(());
        }
        if deadline.passed() {
            return Err(timed_out());
        }
    }
}

/// Why [`read_exact`] stopped short: how many bytes it got, and the error (EPIPE at end of
/// file, as skalibs reports it; ETIMEDOUT at the deadline).
#[derive(Debug)]
pub struct Short {
    /// The bytes read before the failure.
    pub got: usize,
    /// What stopped the read.
    pub err: io::Error,
}

/// Fills `buf` from a non-blocking `fd` before `deadline`, never reading past it.
pub fn read_exact(fd: BorrowedFd<'_>, buf: &mut [u8], deadline: Deadline) -> Result<(), Short> {
    let mut got = 0;
    while got < buf.len() {
        match s6rs_sys::fd::read(fd, &mut buf[got..]) {
            Ok(0) => return Err(Short { got, err: io::Error::from_raw_os_error(libc::EPIPE) }),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait_for(fd, PollFlags::POLLIN, deadline).map_err(|err| Short { got, err })?
            }
            Err(err) => return Err(Short { got, err }),
        }
    }
    Ok(())
}

/// Writes all of `buf` to a non-blocking `fd` before `deadline`.
pub fn write_all(fd: BorrowedFd<'_>, buf: &[u8], deadline: Deadline) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        done += s6rs_sys::fd::write_nb(fd, &buf[done..])?;
        if done < buf.len() {
            wait_for(fd, PollFlags::POLLOUT, deadline)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn reads_exactly_and_reports_short_reads() {
        let (a, b) = s6rs_sys::socket::pair(true).unwrap();
        write_all(a.as_fd(), b"abcdef", Deadline::from_ms(5000)).unwrap();
        let mut buf = [0u8; 4];
        read_exact(b.as_fd(), &mut buf, Deadline::from_ms(5000)).unwrap();
        assert_eq!(&buf, b"abcd");
        // Two bytes left, then nothing: the deadline ends the wait.
        let e = read_exact(b.as_fd(), &mut buf, Deadline::from_ms(50)).unwrap_err();
        assert_eq!((e.got, e.err.raw_os_error()), (2, Some(libc::ETIMEDOUT)));
        drop(a);
        let e = read_exact(b.as_fd(), &mut buf, Deadline::from_ms(5000)).unwrap_err();
        assert_eq!((e.got, e.err.raw_os_error()), (0, Some(libc::EPIPE)));
    }
}
