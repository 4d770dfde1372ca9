//! `s6-svunlink [ -X ] [ -t ms ] scandir name`: remove a service's link from the scan
//! directory of a running s6-svscan and wait until its supervisor (and its logger's) has
//! exited (upstream doc/s6-svunlink.html).
//!
//! It is a destructor: a timeout, or a supervisor that was not running, still exits 0.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use s6rs_sys::cli::{Fatal, Spec};
use s6rs_sys::deadline::Deadline;

use crate::link::{self, UNLINK_FLAGS};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-svunlink",
    operands: "scandir servicename",
    about: "Removes a service from the scan directory of a running s6-svscan and waits until \
            its supervisor has exited.",
    doc: "s6-svunlink.html",
    flags: &UNLINK_FLAGS,
};

/// Runs s6-svunlink.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (wait, timeout, ops) = link::parse_unlink(&SPEC, &args)?;
    if ops.len() < 2 {
        return Err(SPEC.usage_error());
    }
    let (scandir, name) = (&ops[0], &ops[1]);
    if matches!(name.as_bytes().first(), None | Some(b'.') | Some(b'/')) {
        return Err(Fatal::bad("invalid service name"));
    }
    link::unlink(Path::new(scandir), &[name.as_os_str()], wait, Deadline::from_ms(timeout)).map_err(|e| {
        Fatal::sys(
            format_args!(
                "prepare unlinking of service {} in scandir {}",
                name.to_string_lossy(),
                scandir.to_string_lossy()
            ),
            &e,
        )
    })?;
    Ok(0)
}
