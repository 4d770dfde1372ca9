//! `s6-mkfifodir [ -f ] [ -g gid ] fifodir`: create a fifodir, public (1733) or restricted
//! to a group (3730); `-f` fixes the mode of an existing one (upstream
//! doc/s6-mkfifodir.html, FORMATS.md §2.1).

use std::ffi::OsString;
use std::path::Path;

use s6rs_sys::cli::{parse_uint, Fatal, Flag, Show, Spec};

use crate::fifodir;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-mkfifodir",
    operands: "fifodir",
    about: "Creates a fifodir, where listeners subscribe to events.",
    doc: "s6-mkfifodir.html",
    flags: &[
        Flag::new('f', Show::Own, "if fifodir exists, fix its mode instead of failing"),
        Flag::arg('g', "gid", Show::Own, "only members of this group may subscribe (default: anyone)"),
    ],
};

/// Runs s6-mkfifodir.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut force = false;
    let mut gid = None;
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            'f' => force = true,
            'g' => gid = Some(parse_uint::<u32>(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?),
            _ => return Err(SPEC.usage_error()),
        }
    }
    let Some(dir) = g.operands().first() else { return Err(SPEC.usage_error()) };
    let dir = Path::new(dir);
    fifodir::make(dir, gid, force)
        .map_err(|e| Fatal::sys(format_args!("create fifodir at {}", dir.display()), &e))?;
    Ok(0)
}
