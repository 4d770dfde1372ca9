//! `s6-envdir [ -I | -i ] [ -n ] [ -f ] [ -L ] [ -c nullis ] dir prog...`: set and unset
//! variables from the files of `dir`, then chain-load `prog` (upstream doc/s6-envdir.html;
//! the reading rules are `s6rs_sys::envdir`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use s6rs_sys::cli::{Fatal, Getopt};
use s6rs_sys::envdir::{self, Options};
use s6rs_sys::exec::chainload;

const USAGE: &str = "s6-envdir [ -I | -i ] [ -n ] [ -f ] [ -L ] [ -c nullis ] dir prog...";

/// Runs s6-envdir.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = Getopt::new(&args, "IinfLc:");
    let mut strict = true;
    let mut opts = Options::default();
    while let Some(o) = g.next() {
        let o = o.map_err(|_| Fatal::usage(USAGE))?;
        match o.c {
            'I' => strict = false,
            'i' => strict = true,
            'n' => opts.nochomp = true,
            'f' => opts.verbatim = true,
            'L' => opts.noclamp = true,
            // An empty nullis makes NUL the replacement, which the reader refuses (EINVAL).
            'c' => opts.nullis = o.arg.as_deref().and_then(|a| a.as_bytes().first().copied()).unwrap_or(0),
            _ => return Err(Fatal::usage(USAGE)),
        }
    }
    let [dir, prog @ ..] = g.operands() else { return Err(Fatal::usage(USAGE)) };
    if prog.is_empty() {
        return Err(Fatal::usage(USAGE));
    }
    let dir = Path::new(dir);
    let mods = match envdir::read(dir, &opts) {
        Ok(m) => m,
        // Loose mode forgives only a missing directory.
        Err(e) if !strict && e.raw_os_error() == Some(libc::ENOENT) => Vec::new(),
        Err(e) => return Err(Fatal::sys(format_args!("envdir {}", dir.display()), &e)),
    };
    Err(chainload(prog, &mods))
}
