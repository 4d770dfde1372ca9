//! `s6-ipcserver` as users run it: upstream's command-line rewrite
//! (`s6rs_ipc::cmd::ipcserver`), with leading `--access-*` options handed unchanged to the
//! s6-ipcserverd it execs, whose composition ([`super::ipcserverd`]) checks and uses them.
//! Upstream page: doc/s6-ipcserver.html.

use std::ffi::OsString;

use s6rs_ipc::cmd::ipcserver;
use s6rs_sys::cli::{Fatal, Spec};
use s6rs_sys::exec::chainload;

use super::ipcserverd;

/// The command line, as upstream's: the `--access-*` options are s6-ipcserverd's, listed
/// in its `--help`.
pub const SPEC: Spec = ipcserver::SPEC;

/// The command line s6-ipcserver execs into, for `args` (without argv\[0\]).
pub fn command_line(args: &[OsString]) -> Result<Vec<OsString>, Fatal> {
    let (access, rest) = args.split_at(ipcserverd::leading(args));
    ipcserver::command_line(rest, access)
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
    fn leading_access_options_go_to_ipcserverd_first() {
        let argv = command_line(&os(&["--access-rules=/r", "--access-bogus", "-1", "/s", "p"])).unwrap();
        let d = argv.iter().position(|a| a.to_string_lossy().ends_with("/s6-ipcserverd")).unwrap();
        assert_eq!(argv[d + 1..], os(&["--access-rules=/r", "--access-bogus", "-1", "--", "p"]));
        // Anywhere else they are not s6-ipcserver's options.
        assert!(command_line(&os(&["-1", "--access-rules=/r", "/s", "p"])).unwrap_err().usage);
        let argv = command_line(&os(&["/s", "p", "--access-rules=/r"])).unwrap();
        assert_eq!(argv[argv.len() - 2..], os(&["p", "--access-rules=/r"]));
    }
}
