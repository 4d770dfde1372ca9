//! `s6-svok servicedir`: exit 0 if a supervisor holds `supervise/lock`, 1 if not
//! (upstream doc/s6-svok.html).
//!
//! As upstream, options are not parsed and only the first argument is looked at.

use std::ffi::OsString;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use s6rs_sys::cli::{Fatal, Spec};

/// The command line: no options, as upstream.
pub const SPEC: Spec = Spec {
    name: "s6-svok",
    operands: "servicedir",
    about: "Exits 0 if an s6-supervise process is running on servicedir, 1 if not.",
    doc: "s6-svok.html",
    flags: &[],
};

/// Runs s6-svok.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let Some(dir) = args.first() else { return Err(SPEC.usage_error()) };
    let supervised = is_supervised(Path::new(dir))
        .map_err(|e| Fatal::sys(format_args!("check {}", dir.to_string_lossy()), &e))?;
    Ok(u8::from(!supervised))
}

/// Whether a supervisor runs on `dir`: `supervise/lock` exists and is locked.
pub fn is_supervised(dir: &Path) -> io::Result<bool> {
    match s6rs_sys::fd::open_read_nb(&dir.join("supervise/lock")) {
        Ok(f) => s6rs_sys::lock::is_locked(f.as_fd()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
