//! `s6-fdholder-delete [ -t timeout ] path id`: make the daemon at `path` close the fd it
//! holds under `id` (upstream doc/s6-fdholder-delete.html). Exits 1 when the daemon refuses.
//! The message names the id, as 2.15 does (2.11 named the socket).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use s6rs_sys::cli::{self, Fatal, Spec};
use s6rs_sys::deadline::Deadline;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-delete",
    operands: "socket id",
    about: "Makes the fd-holder daemon at path close the fd it holds under id.",
    doc: "s6-fdholder-delete.html",
    flags: &[super::TIMEOUT_FLAG],
};

/// Runs s6-fdholder-delete.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (t, operands) = super::timeout_only(&SPEC, &args)?;
    let [path, id, ..] = operands else { return Err(SPEC.usage_error()) };
    let mut c = super::connect(path, "a", Deadline::from_ms(t))?;
    c.delete(id.as_bytes())
        .map_err(|e| super::failed(1, format_args!("delete fd for id {}", cli::show(id)), &e))?;
    Ok(0)
}
