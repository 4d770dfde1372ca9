//! `s6-svdt-clear servicedir`: empty a service's death tally, atomically (upstream
//! doc/s6-svdt-clear.html).
//!
//! As upstream, only the first argument is looked at, and options are not parsed.

use std::ffi::OsString;
use std::path::Path;

use s6rs_sys::cli::{Fatal, Spec};

/// The command line: no options, as upstream.
pub const SPEC: Spec = Spec {
    name: "s6-svdt-clear",
    operands: "servicedir",
    about: "Forgets the recorded deaths of a service.",
    doc: "s6-svdt-clear.html",
    flags: &[],
};

/// Runs s6-svdt-clear.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let Some(dir) = args.first() else { return Err(SPEC.usage_error()) };
    s6rs_sys::fd::replace_file(&crate::dtally::path(Path::new(dir)), &[]).map_err(|e| {
        Fatal::sys(format_args!("clear death tally for service {}", dir.to_string_lossy()), &e)
    })?;
    Ok(0)
}
