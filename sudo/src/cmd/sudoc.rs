//! `s6-sudoc [ -e ] [ -t timeoutconn ] [ -T timeoutrun ] [ args... ]`: send this process's
//! fds 0, 1 and 2, `args` and the environment to the s6-sudod at the other end of the
//! socket on fds 6 (read) and 7 (write), and exit as the program it runs there exits
//! (upstream doc/s6-sudoc.html; FORMATS.md §6).
//!
//! The exit code is the program's, 128 + the signal if a signal killed it, and 128 for
//! codes of 128 and more (upstream's code; its page says the client kills itself with the
//! signal, which the code does not do).

use std::ffi::OsString;
use std::os::fd::BorrowedFd;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};

use crate::client::{self, Request};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-sudoc",
    operands: "[ args... ]",
    about: "Sends its stdin, stdout, stderr, arguments and environment to an s6-sudod over \
            the socket on fds 6 and 7, and exits as the program run there exits.",
    doc: "s6-sudoc.html",
    flags: &FLAGS,
};

/// The options s6-sudoc and s6-sudo share.
pub const FLAGS: [Flag; 3] = [
    Flag::new('e', Show::Own, "send no environment variables"),
    Flag::arg(
        't',
        "timeoutconn",
        Show::Own,
        "give up if the program has not started after this many ms (0: never)",
    ),
    Flag::arg(
        'T',
        "timeoutrun",
        Show::Own,
        "give up if the program has not exited after this many ms (0: never)",
    ),
];

/// The client-side settings the shared options give.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientOpts {
    /// `-e`.
    pub noenv: bool,
    /// `-t`.
    pub timeout_conn: u64,
    /// `-T`.
    pub timeout_run: u64,
}

impl ClientOpts {
    /// Applies one of [`FLAGS`]; false for any other letter or a bad number.
    pub fn apply(&mut self, c: char, arg: &str) -> bool {
        match c {
            'e' => self.noenv = true,
            't' => match cli::parse_uint(arg) {
                Some(n) => self.timeout_conn = n,
                None => return false,
            },
            'T' => match cli::parse_uint(arg) {
                Some(n) => self.timeout_run = n,
                None => return false,
            },
            _ => return false,
        }
        true
    }

    /// The request for `args`, with `env` sent unless `-e`.
    pub fn request(&self, args: &[OsString], env: Vec<Vec<u8>>) -> Request {
        Request {
            args: args.to_vec(),
            env: (!self.noenv).then_some(env),
            timeout_conn: self.timeout_conn,
            timeout_run: self.timeout_run,
        }
    }
}

/// Runs s6-sudoc.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut opts = ClientOpts::default();
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        if !opts.apply(opt.c, opt.arg_str()) {
            return Err(SPEC.usage_error());
        }
    }
    let req = opts.request(g.operands(), client::current_env());
    // Upstream's client takes the socket as it comes from s6-ipcclient; a closed fd fails
    // where upstream's first use of it fails.
    if !s6rs_sys::fd::is_open(6) || !s6rs_sys::fd::is_open(7) {
        let ebadf = std::io::Error::from_raw_os_error(libc::EBADF);
        return Err(Fatal::sys("make socket non-blocking", &ebadf));
    }
    // SAFETY: both fds are open (checked above), were given to us by our parent, and
    // nothing in this process closes them.
    let (rd, wr) = unsafe { (BorrowedFd::borrow_raw(6), BorrowedFd::borrow_raw(7)) };
    client::exchange(rd, wr, &req)
}
