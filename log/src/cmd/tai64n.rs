//! s6-tai64n: prefix every line with its TAI64N label and a space (upstream page:
//! s6-tai64n.html). An unterminated last line gets a newline. Output is flushed whenever a
//! read might block.

use std::ffi::OsString;

use s6rs_sys::cli::{Fatal, Spec};
use s6rs_sys::tai::Tain;

/// The command line: nothing, as upstream (arguments are ignored).
pub const SPEC: Spec = Spec {
    name: "s6-tai64n",
    operands: "",
    about: "Copies stdin to stdout, putting the current TAI64N label and a space before each line.",
    doc: "s6-tai64n.html",
    flags: &[],
};

/// Runs s6-tai64n. Like upstream, it takes no options and ignores its arguments.
pub fn run(_args: Vec<OsString>) -> Result<u8, Fatal> {
    crate::filter::default_sigpipe();
    crate::filter::lines(false, |line, _, out| {
        out.extend_from_slice(&Tain::now().label_bytes());
        out.push(b' ');
        out.extend_from_slice(line);
        out.push(b'\n');
    })?;
    Ok(0)
}
