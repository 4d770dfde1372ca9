//! `s6-setuidgid account prog...`: run `prog...` as `account` (upstream
//! doc/s6-setuidgid.html). An empty account changes nothing; `uid:gid` goes through
//! `s6-applyuidgid -u uid -g gid -G ""`; a name through `s6-envuidgid name s6-applyuidgid
//! -Uz`. Both are our sibling programs, never looked up in PATH.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use s6rs_sys::cli::{Fatal, Spec};
use s6rs_sys::exec::{chainload, sibling};

/// The command line: no options, as upstream.
pub const SPEC: Spec = Spec {
    name: "s6-setuidgid",
    operands: "username prog...",
    about: "Runs prog as the given account (a user name, or uid:gid), with its groups.",
    doc: "s6-setuidgid.html",
    flags: &[],
};

/// Runs s6-setuidgid.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let [account, prog @ ..] = &args[..] else { return Err(SPEC.usage_error()) };
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    if account.is_empty() {
        return Err(chainload(prog, &[]));
    }
    let sib = |name: &str| sibling(name).into_os_string();
    let mut argv: Vec<OsString> = Vec::with_capacity(prog.len() + 8);
    let bytes = account.as_bytes();
    match bytes.iter().position(|&b| b == b':') {
        Some(i) => {
            argv.push(sib("s6-applyuidgid"));
            argv.push("-u".into());
            argv.push(OsString::from_vec(bytes[..i].to_vec()));
            argv.push("-g".into());
            argv.push(OsString::from_vec(bytes[i + 1..].to_vec()));
            argv.push("-G".into());
            argv.push("".into());
        }
        None => {
            argv.push(sib("s6-envuidgid"));
            argv.push(account.clone());
            argv.push(sib("s6-applyuidgid"));
            argv.push("-Uz".into());
        }
    }
    argv.push("--".into());
    argv.extend_from_slice(prog);
    Err(chainload(&argv, &[]))
}
