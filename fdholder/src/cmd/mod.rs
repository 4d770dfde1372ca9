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

use std::ffi::OsStr;
use std::io;
use std::path::Path;

use s6rs_sys::cli::{self, Fatal, Spec};
use s6rs_sys::deadline::Deadline;

use crate::client::Client;

/// Parses a client's `-t timeout` (ms, 0 = none) into a deadline from now.
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
