//! `s6-ftrig-notify fifodir message`: send the bytes of message to every listener of
//! fifodir, in one write per listener, each byte being one event (upstream
//! doc/s6-ftrig-notify.html, FORMATS.md §2.3). A command line cannot carry NUL, so the
//! NUL event cannot be sent this way.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use s6rs_sys::cli::Fatal;

use crate::fifodir;

const USAGE: &str = "s6-ftrig-notify fifodir message";

/// Runs s6-ftrig-notify. Like upstream, it parses no options.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let [dir, message, ..] = &args[..] else { return Err(Fatal::usage(USAGE)) };
    let dir = Path::new(dir);
    fifodir::notify(dir, message.as_bytes())
        .map_err(|e| Fatal::sys(format_args!("notify {}", dir.display()), &e))?;
    Ok(0)
}
