//! `s6-fdholder-list [ -t timeout ] path`: print the ids the daemon at `path` holds, one per
//! line, quoted as s6 quotes them ([`protocol::quote_id`]) (upstream
//! doc/s6-fdholder-list.html). Exits 1 when the daemon refuses.

use std::ffi::OsString;

use s6rs_sys::cli::{Fatal, Spec};
use s6rs_sys::deadline::Deadline;

use crate::protocol;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-list",
    operands: "socket",
    about: "Prints the ids of the fds the fd-holder daemon at path holds, one per line.",
    doc: "s6-fdholder-list.html",
    flags: &[super::TIMEOUT_FLAG],
};

/// Runs s6-fdholder-list.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (t, operands) = super::timeout_only(&SPEC, &args)?;
    let [path, ..] = operands else { return Err(SPEC.usage_error()) };
    let mut c = super::connect(path, "a", Deadline::from_ms(t))?;
    let ids = c.list().map_err(|e| super::failed(1, "get fd list", &e))?;
    let mut out = Vec::new();
    for id in ids {
        out.extend_from_slice(&protocol::quote_id(&id));
        out.push(b'\n');
    }
    s6rs_sys::fd::write_all(s6rs_sys::fd::stdout(), &out).map_err(|e| Fatal::sys("write to stdout", &e))?;
    Ok(0)
}
