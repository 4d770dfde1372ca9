//! `s6-cleanfifodir fifodir`: remove listener fifos whose reader is gone, with 2.15's fixed
//! name check (2.11 never removed anything; FORMATS.md §2.4). Upstream doc/s6-cleanfifodir.html.

use std::ffi::OsString;
use std::path::Path;

use s6rs_sys::cli::{Fatal, Spec};

use crate::fifodir;

/// The command line: no options, as upstream.
pub const SPEC: Spec = Spec {
    name: "s6-cleanfifodir",
    operands: "fifodir",
    about: "Removes from fifodir the fifos no listener is reading any more.",
    doc: "s6-cleanfifodir.html",
    flags: &[],
};

/// Runs s6-cleanfifodir. Like upstream, it parses no options: the first word is the dir.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let Some(dir) = args.first() else { return Err(SPEC.usage_error()) };
    let dir = Path::new(dir);
    fifodir::clean(dir).map_err(|e| Fatal::sys(format_args!("clean up fifodir at {}", dir.display()), &e))?;
    Ok(0)
}
