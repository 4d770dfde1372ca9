//! `s6-fdholder-setdump [ -t timeout ] path`: give the daemon at `path` the fds described by
//! `S6_FD#`, `S6_FD_i`, `S6_FDID_i` and `S6_FDLIMIT_i`, as s6-fdholder-getdump sets them
//! ([`protocol::parse_dump_env`]); the daemon adds them to what it holds, an incoming id
//! replacing a held one (upstream doc/s6-fdholder-setdump.html). Exits 1 when the daemon
//! refuses, 100 for an environment it cannot use.

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;

use s6rs_sys::cli::{Fatal, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::tai::Tain;

use crate::protocol::{self, EnvError};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-setdump",
    operands: "socket",
    about: "Gives the fd-holder daemon at path the fds described in the environment, as \
            s6-fdholder-getdump sets it.",
    doc: "s6-fdholder-setdump.html",
    flags: &[super::TIMEOUT_FLAG],
};

fn var(name: &str) -> Option<Vec<u8>> {
    std::env::var_os(name).map(OsString::into_vec)
}

fn env_fatal(e: EnvError) -> Fatal {
    Fatal::bad(e.to_string())
}

/// Runs s6-fdholder-setdump.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (t, operands) = super::timeout_only(&SPEC, &args)?;
    let [path, ..] = operands else { return Err(SPEC.usage_error()) };
    // As s6: the count is checked before connecting, the entries after.
    protocol::dump_count(var("S6_FD#").as_deref()).map_err(env_fatal)?;
    let mut c = super::connect(path, "a", Deadline::from_ms(t))?;
    let entries = protocol::parse_dump_env(var, Tain::now()).map_err(env_fatal)?;
    // Numbers that are not open fail as sending them would: EBADF.
    let fds: Vec<OwnedFd> = entries
        .iter()
        .map(|e| s6rs_sys::fd::adopt(e.fd))
        .collect::<std::io::Result<_>>()
        .map_err(|e| super::failed(1, "set dump", &e))?;
    let list: Vec<_> = entries.iter().zip(&fds).map(|(e, fd)| (&e.id[..], e.limit, fd.as_fd())).collect();
    let res = c.setdump(&list);
    drop(list);
    // The fds are the caller's: never close them here.
    fds.into_iter().for_each(std::mem::forget);
    res.map_err(|e| super::failed(1, "set dump", &e))?;
    Ok(0)
}
