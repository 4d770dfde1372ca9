//! `s6-fdholder-delete [ -t timeout ] path id`: make the daemon at `path` close the fd it
//! holds under `id` (upstream doc/s6-fdholder-delete.html). Exits 1 when the daemon refuses.
//! The message names the id, as 2.15 does (2.11 named the socket).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-delete",
    operands: "socket id",
    about: "Makes the fd-holder daemon at path close the fd it holds under id.",
    doc: "s6-fdholder-delete.html",
    flags: &[Flag::arg('t', "timeout", Show::Own, "give up after this many ms (0 = never)")],
};

/// Runs s6-fdholder-delete.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut t = 0u64;
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            't' => t = super::timeout(&SPEC, opt.arg_str())?,
            _ => return Err(SPEC.usage_error()),
        }
    }
    let [path, id, ..] = g.operands() else { return Err(SPEC.usage_error()) };
    let mut c = super::connect(path, "a", Deadline::from_ms(t))?;
    c.delete(id.as_bytes())
        .map_err(|e| super::failed(1, format_args!("delete fd for id {}", cli::show(id)), &e))?;
    Ok(0)
}
