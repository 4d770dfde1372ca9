//! `s6-svdt [ -S | -s ] [ -n maxlines ] servicedir`: print a service's death tally, one
//! line per death, oldest first (upstream doc/s6-svdt.html).
//!
//! Like upstream it does not ask whether a supervisor runs, and reading a missing or
//! malformed tally truncates it.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use s6rs_sys::cli::{parse_uint, Fatal, Flag, Show, Spec};

use crate::dtally::{self, Death};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-svdt",
    operands: "servicedir",
    about: "Prints the recent deaths of a service, oldest first, one per line.",
    doc: "s6-svdt.html",
    flags: &[
        Flag::new('S', Show::Own, "show signals by name (the default)"),
        Flag::new('s', Show::Or, "show signals by number"),
        Flag::arg('n', "maxentries", Show::Own, "show only the last maxentries deaths"),
    ],
};

/// One output line (without the newline): the TAI64N label, then `signal NAME` (or the
/// number with `numeric`), or `exitcode N`.
pub fn line(d: &Death, numeric: bool) -> String {
    let label = d.stamp.label();
    match d.sig {
        0 => format!("{label} exitcode {}", d.exitcode),
        s if numeric => format!("{label} signal {s}"),
        s => format!("{label} signal SIG{}", s6rs_sys::sig::short_name(i32::from(s)).unwrap_or("???")),
    }
}

/// Runs s6-svdt.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    let mut numeric = false;
    let mut max = dtally::MAX;
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            'S' => numeric = false,
            's' => numeric = true,
            'n' => max = parse_uint(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?,
            _ => return Err(SPEC.usage_error()),
        }
    }
    let Some(dir) = g.operands().first() else { return Err(SPEC.usage_error()) };
    let max = max.min(dtally::MAX);
    if max == 0 {
        return Ok(0);
    }
    let deaths = dtally::read(Path::new(dir), max).map_err(|e| {
        Fatal::sys(format_args!("read death tally for service {}", dir.to_string_lossy()), &e)
    })?;
    let mut out = String::with_capacity(deaths.len() * 48);
    for d in &deaths {
        out.push_str(&line(d, numeric));
        out.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Fatal::sys("write to stdout", &e))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::tai::Tain;

    #[test]
    fn lines() {
        let stamp = Tain { sec: 0x4000_0000_6b04_da7e, nano: 0x099c_cf0d };
        let d = Death { stamp, exitcode: 143, sig: 15 };
        assert_eq!(line(&d, false), "@400000006b04da7e099ccf0d signal SIGTERM");
        assert_eq!(line(&d, true), "@400000006b04da7e099ccf0d signal 15");
        let d = Death { stamp, exitcode: 3, sig: 0 };
        assert_eq!(line(&d, true), "@400000006b04da7e099ccf0d exitcode 3");
        let d = Death { stamp, exitcode: 162, sig: 34 };
        assert_eq!(line(&d, false), "@400000006b04da7e099ccf0d signal SIG???");
    }
}
