//! `s6-envdir [ -I | -i ] [ -n ] [ -f ] [ -L ] [ -c nullis ] dir prog...`: set and unset
//! variables from the files of `dir`, then chain-load `prog` (upstream doc/s6-envdir.html;
//! the reading rules are `s6rs_sys::envdir`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use s6rs_sys::cli::{Fatal, Flag, Show, Spec};
use s6rs_sys::envdir::{self, Options};
use s6rs_sys::exec::chainload;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-envdir",
    operands: "dir prog...",
    about: "Sets or unsets one environment variable per file of dir, then runs prog.",
    doc: "s6-envdir.html",
    flags: &[
        Flag::new('I', Show::Own, "loose: a missing dir leaves the environment as it is"),
        Flag::new('i', Show::Or, "strict: a missing dir is an error (the default)"),
        Flag::new('n', Show::Own, "keep trailing blanks (with -f, the final newline)"),
        Flag::new('f', Show::Own, "take the whole file as the value, not just its first line"),
        Flag::new('L', Show::Own, "read past the first 4096 bytes of a file"),
        Flag::arg(
            'c',
            "nullis",
            Show::Own,
            "turn NUL bytes into the first character of nullis, not newlines",
        ),
    ],
};

/// Runs s6-envdir.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    let mut strict = true;
    let mut opts = Options::default();
    while let Some(o) = g.next() {
        let o = o.map_err(|_| SPEC.usage_error())?;
        match o.c {
            'I' => strict = false,
            'i' => strict = true,
            'n' => opts.nochomp = true,
            'f' => opts.verbatim = true,
            'L' => opts.noclamp = true,
            // An empty nullis makes NUL the replacement, which the reader refuses (EINVAL).
            'c' => opts.nullis = o.arg.as_deref().and_then(|a| a.as_bytes().first().copied()).unwrap_or(0),
            _ => return Err(SPEC.usage_error()),
        }
    }
    let [dir, prog @ ..] = g.operands() else { return Err(SPEC.usage_error()) };
    if prog.is_empty() {
        return Err(SPEC.usage_error());
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
