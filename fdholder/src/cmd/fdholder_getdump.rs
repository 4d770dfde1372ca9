//! `s6-fdholder-getdump [ -t timeout ] path prog...`: get a copy of every fd the daemon at
//! `path` holds and chain-load `prog...` with them open and described by `S6_FD#`,
//! `S6_FD_i`, `S6_FDID_i` and `S6_FDLIMIT_i` ([`protocol::dump_env`]) (upstream
//! doc/s6-fdholder-getdump.html). Exits 1 when the daemon refuses.

use std::ffi::OsString;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStringExt;

use s6rs_sys::cli::{Fatal, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::exec::{chainload, EnvMod};
use s6rs_sys::tai::Tain;

use crate::protocol::{self, EnvEntry};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-getdump",
    operands: "socket prog...",
    about: "Gets every fd the fd-holder daemon at path holds, then runs prog with them open and \
            described in its environment.",
    doc: "s6-fdholder-getdump.html",
    flags: &[super::TIMEOUT_FLAG],
};

/// Runs s6-fdholder-getdump.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (t, operands) = super::timeout_only(&SPEC, &args)?;
    let [path, prog @ ..] = operands else { return Err(SPEC.usage_error()) };
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let mut c = super::connect(path, "a", Deadline::from_ms(t))?;
    let dump = c.getdump().map_err(|e| super::failed(1, "get dump", &e))?;
    drop(c);
    let mut entries = Vec::with_capacity(dump.len());
    for d in dump {
        s6rs_sys::fd::set_cloexec(d.fd.as_fd(), false).map_err(|e| Fatal::sys("uncoe", &e))?;
        entries.push(EnvEntry { fd: d.fd.as_raw_fd(), id: d.id, limit: d.limit });
        // The fd is prog's from here on.
        std::mem::forget(d.fd);
    }
    let env: Vec<EnvMod> = protocol::dump_env(&entries, Tain::now())
        .into_iter()
        .map(|(k, v)| (OsString::from(k), v.map(OsString::from_vec)))
        .collect();
    Err(chainload(prog, &env))
}
