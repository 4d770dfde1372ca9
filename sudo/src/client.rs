//! The client side of the protocol, shared by s6-sudoc (on fds 6 and 7, behind
//! s6-ipcclient) and s6-sudo (on the connection it makes itself): read the banner, send
//! fds 0, 1, 2 with the arguments and environment, read the confirmation, wait for the
//! status. Messages and exit codes are upstream s6-sudoc's; the caller names the program.

use std::ffi::OsString;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

use s6rs_ipc::fdpass;
use s6rs_sys::cli::{self, Fatal};
use s6rs_sys::deadline::Deadline;

use crate::protocol::{self, Confirmation};
use crate::wire;

/// What the client sends and how long it waits.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The arguments appended to the server's command line.
    pub args: Vec<OsString>,
    /// The `NAME=value` entries offered to the server; `None` sends none (`-e`).
    pub env: Option<Vec<Vec<u8>>>,
    /// Milliseconds for banner, request and confirmation together (0: no limit).
    pub timeout_conn: u64,
    /// Milliseconds to wait for the program's status (0: no limit).
    pub timeout_run: u64,
}

/// The current environment as `NAME=value` entries, in order.
pub fn current_env() -> Vec<Vec<u8>> {
    std::env::vars_os()
        .map(|(n, v)| {
            let mut e = n.as_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect()
}

/// Runs one exchange with a server reached through `rd` and `wr` (the same socket or two
/// fds of it); returns the exit code for the server program's status. Both fds are made
/// non-blocking. Once the request has left, this process's fds 0 and 1 are closed, as
/// upstream's client closes them, so that only the server program holds them.
pub fn exchange(rd: BorrowedFd<'_>, wr: BorrowedFd<'_>, req: &Request) -> Result<u8, Fatal> {
    for fd in [rd, wr] {
        s6rs_sys::fd::set_nonblock(fd, true).map_err(|e| Fatal::sys("make socket non-blocking", &e))?;
    }
    let deadline = Deadline::from_ms(req.timeout_conn);
    let mut banner = [0u8; protocol::SERVER_BANNER.len()];
    if let Err(short) = wire::read_exact(rd, &mut banner, deadline) {
        if short.got == 0 {
            return Err(Fatal::new(
                cli::EXIT_SYS,
                "unable to connect to the s6-sudod server - check that you have appropriate permissions",
            ));
        }
        return Err(Fatal::sys("read banner from s6-sudod", &short.err));
    }
    if &banner != protocol::SERVER_BANNER {
        return Err(Fatal::bad("wrong banner - check that you are connecting to a s6-sudod server"));
    }
    let args: Vec<&[u8]> = req.args.iter().map(|a| a.as_bytes()).collect();
    let payload = protocol::encode_request(&args, req.env.as_deref());
    let stdio = [s6rs_sys::fd::stdin(), s6rs_sys::fd::stdout(), s6rs_sys::fd::stderr()];
    fdpass::send(wr, &payload, &stdio, deadline).map_err(|e| Fatal::sys("send args to server", &e))?;
    close_stdin_stdout();
    let mut c = [0u8; 1];
    wire::read_exact(rd, &mut c, deadline).map_err(|s| Fatal::sys("get confirmation from server", &s.err))?;
    if let Confirmation::Refused(errno) = Confirmation::from_byte(c[0]) {
        // Upstream's message has the separator twice: its text ends in ": " and the
        // error text comes after another.
        return Err(Fatal::new(
            cli::EXIT_SYS,
            format!(
                "unable to start privileged program: server answered: : {}",
                cli::strerror(i32::from(errno))
            ),
        ));
    }
    let mut st = [0u8; protocol::STATUS_LEN];
    wire::read_exact(rd, &mut st, Deadline::from_ms(req.timeout_run))
        .map_err(|s| Fatal::sys("get exit status from server", &s.err))?;
    Ok(protocol::exit_code(protocol::unpack_status(st)))
}

/// Closes fds 0 and 1 (the server program has its own copies now).
fn close_stdin_stdout() {
    for fd in [s6rs_sys::fd::stdin(), s6rs_sys::fd::stdout()] {
        if let Ok(owned) = s6rs_sys::fd::adopt(fd.as_raw_fd()) {
            drop(owned);
        }
    }
}
