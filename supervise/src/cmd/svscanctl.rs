//! `s6-svscanctl [ -zabhitqnN ] scandir`: send command letters to the s6-svscan running on
//! a scan directory (upstream doc/s6-svscanctl.html; meanings in INVENTORY.md §3.2).

use std::ffi::OsString;
use std::path::Path;

use s6rs_sys::cli::{errtext, Fatal, Flag, Show, Spec};

use crate::control::{self, ScanCommand, SendError};

/// The command line, as upstream's. Every letter is a [`ScanCommand`]'s byte, sent in
/// command-line order.
/// (Upstream's getopt also knows `p r s 0 6 7 8`, leftovers of older versions, only to
/// refuse them with the usage message, as an unknown letter is refused.)
pub const SPEC: Spec = Spec {
    name: "s6-svscanctl",
    operands: "svscandir",
    about: "Sends commands to the s6-svscan running on a scan directory.",
    doc: "s6-svscanctl.html",
    flags: &[
        Flag::new('z', Show::Own, "reap zombies now"),
        Flag::new('a', Show::Cluster, "rescan the scan directory now"),
        Flag::new('b', Show::Cluster, "abort: run the finish procedure, leaving supervisors alone"),
        Flag::new('h', Show::Cluster, "rescan and stop the supervisors of vanished services (as -an)"),
        Flag::new('i', Show::Cluster, "as -t"),
        Flag::new('t', Show::Cluster, "stop the tree cleanly: services get SIGTERM, loggers end on EOF"),
        Flag::new('q', Show::Cluster, "quit: SIGTERM to every supervisor, loggers included"),
        Flag::new('n', Show::Cluster, "stop the supervisors of services gone at the last scan"),
        Flag::new('N', Show::Cluster, "as -n, with SIGTERM for loggers too"),
    ],
};

/// Upstream's command buffer size: more letters than this is an error.
const MAX_COMMANDS: usize = 64;

/// Runs s6-svscanctl.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    let mut cmds = Vec::with_capacity(MAX_COMMANDS);
    while let Some(opt) = g.next() {
        let cmd = opt.ok().and_then(|o| ScanCommand::from_letter(o.c)).ok_or_else(|| SPEC.usage_error())?;
        if cmds.len() >= MAX_COMMANDS {
            return Err(Fatal::bad("too many commands"));
        }
        cmds.push(cmd.byte());
    }
    let Some(dir) = g.operands().first() else { return Err(SPEC.usage_error()) };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_letter_is_a_scan_command_and_back() {
        let letters: Vec<char> = SPEC.flags.iter().map(|f| f.short).collect();
        for &c in &letters {
            assert_eq!(ScanCommand::from_letter(c).map(|k| k.byte() as char), Some(c), "{c}");
        }
        let known = (0..=255u8).filter(|&b| ScanCommand::from_byte(b).is_some()).count();
        assert_eq!(known, letters.len());
    }
}
