//! The programs: the daemon, its command-line wrapper and the clients. Each module is one
//! program with its `SPEC` and `run(args)`.

pub mod fdholder_daemon;
pub mod fdholder_delete;
pub mod fdholder_getdump;
pub mod fdholder_list;
pub mod fdholder_listenfds;
pub mod fdholder_retrieve;
pub mod fdholder_setdump;
pub mod fdholder_store;
pub mod fdholder_transferdump;
pub mod fdholderd;

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::Path;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;

use crate::client::Client;

/// A client's `-t timeout`.
pub(crate) const TIMEOUT_FLAG: Flag =
    Flag::arg('t', "timeout", Show::Own, "give up after this many ms (0 = never)");

/// Parses the command line of a client whose one option is [`TIMEOUT_FLAG`] (`spec`'s
/// table): the timeout (ms, 0 = none; the clock starts at the connection) and the operands.
pub(crate) fn timeout_only<'a>(spec: &'a Spec, args: &'a [OsString]) -> Result<(u64, &'a [OsString]), Fatal> {
    let mut t = 0u64;
    let mut g = spec.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| spec.usage_error())?;
        match opt.c {
            't' => t = timeout(spec, opt.arg_str())?,
            _ => return Err(spec.usage_error()),
        }
    }
    Ok((t, g.operands()))
}

/// Parses a client's `-t timeout` (ms, 0 = none).
pub(crate) fn timeout(spec: &Spec, arg: &str) -> Result<u64, Fatal> {
    cli::parse_uint::<u32>(arg).map(u64::from).ok_or_else(|| spec.usage_error())
}

/// Connects to the daemon at `path`, or dies as s6's tools do (exit 111), naming the
/// daemon as `which` ("a", "a source", "a destination").
pub(crate) fn connect(path: &OsStr, which: &str, deadline: Deadline) -> Result<Client, Fatal> {
    Client::connect(Path::new(path), deadline).map_err(|e| {
        Fatal::sys(format_args!("connect to {which} fd-holder daemon at {}", cli::show(path)), &e)
    })
}

/// The fatal error for an operation the daemon refused or that failed on the way (exit
/// `code`, 1 for most tools).
pub(crate) fn failed(code: u8, what: impl std::fmt::Display, e: &io::Error) -> Fatal {
    Fatal::sys_code(code, what, e)
}
