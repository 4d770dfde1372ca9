//! `s6-ipcserver` as users run it: upstream's command-line rewrite
//! (`s6rs_ipc::cmd::ipcserver`), with the `--access-*` options, anywhere among the options,
//! handed to the s6-ipcserverd it execs, whose composition ([`super::ipcserverd`]) checks
//! and uses them. Upstream page: doc/s6-ipcserver.html.

use std::ffi::OsString;

use s6rs_ipc::cmd::ipcserver;
use s6rs_sys::cli::{Fatal, Spec};
use s6rs_sys::exec::chainload;

use super::ipcserverd::{self, ACCESS_FLAGS};

const F: [s6rs_sys::cli::Flag; 16] = ipcserver::FLAGS;

/// The command line: upstream's, plus s6-ipcserverd's `--access-*` options.
pub const SPEC: Spec = Spec {
    flags: &[
        F[0],
        F[1],
        F[2],
        F[3],
        F[4],
        F[5],
        F[6],
        F[7],
        F[8],
        F[9],
        F[10],
        F[11],
        F[12],
        F[13],
        F[14],
        F[15],
        ACCESS_FLAGS[0],
        ACCESS_FLAGS[1],
        ACCESS_FLAGS[2],
        ACCESS_FLAGS[3],
        ACCESS_FLAGS[4],
    ],
    ..ipcserver::SPEC
};

/// The command line s6-ipcserver execs into, for `args` (without argv\[0\]).
pub fn command_line(args: &[OsString]) -> Result<Vec<OsString>, Fatal> {
    let sorted = ipcserverd::sort(&SPEC, args)?;
    let access: Vec<OsString> = sorted.access.iter().map(|(c, v)| ipcserverd::respell(*c, v)).collect();
    ipcserver::command_line(&sorted.rest, &access)
}

/// Runs s6-ipcserver.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let argv = command_line(&args)?;
    Err(chainload(&argv, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn access_options_go_to_ipcserverd_first_wherever_they_are() {
        let argv = command_line(&os(&["-1", "--access-rules=/r", "-c", "4", "/s", "p"])).unwrap();
        let d = argv.iter().position(|a| a.to_string_lossy().ends_with("/s6-ipcserverd")).unwrap();
        assert_eq!(argv[d + 1..], os(&["--access-rules=/r", "-1", "-c", "4", "--", "p"]));
        let argv = command_line(&os(&["--access-noenv", "-1", "/s", "p"])).unwrap();
        let d = argv.iter().position(|a| a.to_string_lossy().ends_with("/s6-ipcserverd")).unwrap();
        assert_eq!(argv[d + 1..], os(&["--access-noenv", "-1", "--", "p"]));
        // Unknown ones are refused here, before anything is bound.
        assert_eq!(command_line(&os(&["--access-bogus", "/s", "p"])).unwrap_err().code, 100);
        // After the first operand they are the program's arguments.
        let argv = command_line(&os(&["/s", "p", "--access-rules=/r"])).unwrap();
        assert_eq!(argv[argv.len() - 2..], os(&["p", "--access-rules=/r"]));
        assert!(SPEC.usage().contains(" [ --access-rules=dir | --access-cdb=file ] "), "{}", SPEC.usage());
    }
}
