//! s6-tai64nlocal: replace a leading TAI64N label with `YYYY-MM-DD HH:MM:SS.nnnnnnnnn` in
//! local time, or GMT with `-g` (upstream page: s6-tai64nlocal.html). Other lines pass
//! through unchanged; an unterminated last line stays unterminated. Labels are read as
//! skalibs reads them: either case, and nanoseconds of 10^9 or more kept and shown as
//! upstream shows them (their first nine digits, `crate::stamp`).

use std::ffi::OsString;

use s6rs_sys::cli::{Fatal, Flag, Show, Spec};
use s6rs_sys::tai::Tain;

use crate::stamp::{Clock, MAX_LEN};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-tai64nlocal",
    operands: "",
    about: "Copies stdin to stdout, turning the TAI64N label that starts a line into a readable date.",
    doc: "s6-tai64nlocal.html",
    flags: &[Flag::new('g', Show::Own, "show the date in GMT, not local time")],
};

/// Runs s6-tai64nlocal.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut local = true;
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        match opt {
            Ok(o) if o.c == 'g' => local = false,
            _ => return Err(SPEC.usage_error()),
        }
    }
    crate::filter::default_sigpipe();
    let mut clock = Clock::new(local);
    let mut stamp = [0u8; MAX_LEN];
    crate::filter::lines(false, |line, terminated, out| {
        convert(&mut clock, &mut stamp, line, terminated, out)
    })?;
    Ok(0)
}

/// Appends `line` to `out` with a leading label replaced by its time, then the newline if
/// the line had one. `stamp` is scratch space. The per-line work of s6-tai64nlocal.
pub fn convert(
    clock: &mut Clock,
    stamp: &mut [u8; MAX_LEN],
    line: &[u8],
    terminated: bool,
    out: &mut Vec<u8>,
) {
    // Upstream converts only lines longer than the label, counting the newline.
    let mut rest = line;
    if line.len() + usize::from(terminated) > 25 {
        if let Some(n) = Tain::parse_label(line).and_then(|t| clock.format(t, stamp)) {
            out.extend_from_slice(&stamp[..n]);
            rest = &line[25..];
        }
    }
    out.extend_from_slice(rest);
    if terminated {
        out.push(b'\n');
    }
}
