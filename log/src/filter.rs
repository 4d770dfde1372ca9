//! The shape shared by the line filters (s6-tai64n, s6-tai64nlocal, ucspilogd): read stdin
//! in large chunks, transform each line into an output buffer, and write that buffer before
//! every read, so output is flushed whenever reading might block (skalibs' `buffer_0f1`).

use std::io;
use std::os::fd::BorrowedFd;

use s6rs_sys::cli::Fatal;

const CHUNK: usize = 64 << 10;

/// Restores the default SIGPIPE disposition: a filter whose reader went away dies quietly,
/// as the C programs do, instead of reporting EPIPE.
pub(crate) fn default_sigpipe() {
    let _ = s6rs_sys::sig::default(libc::SIGPIPE);
}

/// Reads stdin to its end and calls `f(line, terminated, out)` for every line. A line ends
/// at `\n`, or also at NUL when `nul_ends` is set; `line` excludes the terminator, and the
/// last line may be unterminated. `out` is written to stdout before each read.
pub(crate) fn lines(nul_ends: bool, mut f: impl FnMut(&[u8], bool, &mut Vec<u8>)) -> Result<(), Fatal> {
    let (fd0, fd1) = (s6rs_sys::fd::stdin(), s6rs_sys::fd::stdout());
    let mut buf = vec![0u8; CHUNK];
    let mut out = Vec::with_capacity(CHUNK + CHUNK / 2);
    let (mut start, mut end) = (0usize, 0usize);
    loop {
        if !out.is_empty() {
            s6rs_sys::fd::write_all(fd1, &out).map_err(|e| Fatal::sys("write to stdout", &e))?;
            out.clear();
        }
        if start == end {
            start = 0;
            end = 0;
        } else if end == buf.len() {
            if start > 0 {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            } else {
                buf.resize(buf.len() * 2, 0);
            }
        }
        let n = match s6rs_sys::fd::read(fd0, &mut buf[end..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // A non-blocking stdin: wait for it rather than spin.
                wait_readable(fd0);
                continue;
            }
            Err(e) => return Err(Fatal::sys("read from stdin", &e)),
        };
        if n == 0 {
            if start < end {
                f(&buf[start..end], false, &mut out);
            }
            if !out.is_empty() {
                s6rs_sys::fd::write_all(fd1, &out).map_err(|e| Fatal::sys("write to stdout", &e))?;
            }
            return Ok(());
        }
        end += n;
        loop {
            let window = &buf[start..end];
            let found =
                if nul_ends { memchr::memchr2(b'\n', 0, window) } else { memchr::memchr(b'\n', window) };
            let Some(i) = found else { break };
            f(&window[..i], true, &mut out);
            start += i + 1;
        }
    }
}

fn wait_readable(fd: BorrowedFd<'_>) {
    use s6rs_sys::event::{PollFd, PollFlags};
    // An error just means we read again.
    let _ =
        s6rs_sys::event::poll(&mut [PollFd::new(fd, PollFlags::POLLIN)], s6rs_sys::deadline::Deadline::Never);
}
