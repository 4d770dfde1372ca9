//! `s6-mkfifodir [ -f ] [ -g gid ] fifodir`: create a fifodir, public (1733) or restricted
//! to a group (3730); `-f` fixes the mode of an existing one (upstream
//! doc/s6-mkfifodir.html, FORMATS.md §2.1).

use std::ffi::OsString;
use std::path::Path;

use s6rs_sys::cli::{parse_uint, Fatal, Getopt};

use crate::fifodir;

const USAGE: &str = "s6-mkfifodir [ -f ] [ -g gid ] fifodir";

/// Runs s6-mkfifodir.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut force = false;
    let mut gid = None;
    let mut g = Getopt::new(&args, "fg:");
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| Fatal::usage(USAGE))?;
        match opt.c {
            'f' => force = true,
            'g' => gid = Some(parse_uint::<u32>(opt.arg_str()).ok_or_else(|| Fatal::usage(USAGE))?),
            _ => return Err(Fatal::usage(USAGE)),
        }
    }
    let Some(dir) = g.operands().first() else { return Err(Fatal::usage(USAGE)) };
    let dir = Path::new(dir);
    fifodir::make(dir, gid, force)
        .map_err(|e| Fatal::sys(format_args!("create fifodir at {}", dir.display()), &e))?;
    Ok(0)
}
