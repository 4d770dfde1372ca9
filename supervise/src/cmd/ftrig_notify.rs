//! `s6-ftrig-notify fifodir message`: send the bytes of message to every listener of
//! fifodir, in one write per listener, each byte being one event (upstream
//! doc/s6-ftrig-notify.html, FORMATS.md §2.3). A command line cannot carry NUL, so the
//! NUL event cannot be sent this way.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use s6rs_sys::cli::{Fatal, Spec};

use crate::fifodir;

/// The command line: no options, as upstream.
pub const SPEC: Spec = Spec {
    name: "s6-ftrig-notify",
    operands: "fifodir message",
    about: "Sends each byte of message as an event to every listener of fifodir.",
    doc: "s6-ftrig-notify.html",
    flags: &[],
};

/// Runs s6-ftrig-notify. Like upstream, it parses no options.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let [dir, message, ..] = &args[..] else { return Err(SPEC.usage_error()) };
    let dir = Path::new(dir);
    fifodir::notify(dir, message.as_bytes())
        .map_err(|e| Fatal::sys(format_args!("notify {}", dir.display()), &e))?;
    Ok(0)
}
