//! `s6-svdt-clear servicedir`: empty a service's death tally, atomically (upstream
//! doc/s6-svdt-clear.html).
//!
//! As upstream, only the first argument is looked at, and options are not parsed.

use std::ffi::OsString;
use std::path::Path;

use s6rs_sys::cli::Fatal;

const USAGE: &str = "s6-svdt-clear servicedir";

/// Runs s6-svdt-clear.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let Some(dir) = args.first() else { return Err(Fatal::usage(USAGE)) };
    s6rs_sys::fd::replace_file(&crate::dtally::path(Path::new(dir)), &[]).map_err(|e| {
        Fatal::sys(format_args!("clear death tally for service {}", dir.to_string_lossy()), &e)
    })?;
    Ok(0)
}
