//! `s6-svscanctl [ -zabhitqnN ] scandir`: send command letters to the s6-svscan running on
//! a scan directory (upstream doc/s6-svscanctl.html; meanings in INVENTORY.md §3.2).

use std::ffi::OsString;
use std::path::Path;

use s6rs_sys::cli::{errtext, Fatal, Getopt};

use crate::control::{self, SendError};

const USAGE: &str = "s6-svscanctl [ -zabhitqnN ] svscandir";

/// Letters getopt knows. `p r s 0 6 7 8` are leftovers of older versions: known, refused
/// with the usage message, as upstream does.
const SPEC: &str = "phratszbnNiq0678";

/// Upstream's command buffer size: more letters than this is an error.
const MAX_COMMANDS: usize = 64;

/// Runs s6-svscanctl.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = Getopt::new(&args, SPEC);
    let mut cmds = Vec::with_capacity(MAX_COMMANDS);
    while let Some(opt) = g.next() {
        match opt {
            Ok(o) if "zabhitqnN".contains(o.c) => {
                if cmds.len() >= MAX_COMMANDS {
                    return Err(Fatal::bad("too many commands"));
                }
                cmds.push(o.c as u8);
            }
            _ => return Err(Fatal::usage(USAGE)),
        }
    }
    let Some(dir) = g.operands().first() else { return Err(Fatal::usage(USAGE)) };
    let dir = Path::new(dir);
    match control::send(dir, ".s6-svscan", &cmds) {
        Ok(()) => Ok(0),
        Err(SendError::NotListening) => {
            Err(Fatal::bad(format!("unable to control {}: supervisor not listening", dir.display())))
        }
        Err(SendError::Broken(e)) => Err(Fatal::bad(format!(
            "something is wrong with the {}/.s6-svscan directory. errno reported: {}",
            dir.display(),
            errtext(&e)
        ))),
        Err(SendError::Io(e)) => Err(Fatal::sys(format_args!("control {}", dir.display()), &e)),
    }
}
