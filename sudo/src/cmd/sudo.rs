//! `s6-sudo [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] [ -e ] [ -t timeout ]
//! [ -T timeoutrun ] path [ args... ]`: run `args` through the s6-sudod listening at `path`
//! (upstream doc/s6-sudo.html).
//!
//! **s6-rs extension: s6-sudo connects by itself.** Upstream's s6-sudo only execs
//! `s6-ipcclient path s6-sudoc args...`; ours makes the connection and speaks the client
//! side in the same process ([`s6rs_ipc::cmd::ipcclient::connect`], then
//! [`crate::client::exchange`]), which saves two execs per call. What the server sees is
//! what the chain would send, environment included (`PROTO=IPC` and `IPCLOCALPATH`, which
//! s6-ipcclient sets before s6-sudoc reads its environment), and what the caller sees is
//! the chain's: same options, exit codes and messages, each message naming the program of
//! the chain that prints it (`s6-ipcclient:` for the connection, `s6-sudoc:` after).

use std::ffi::{OsStr, OsString};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

use s6rs_ipc::cmd::ipcclient;
use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};

use super::sudoc::{self, ClientOpts};
use crate::client;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-sudo",
    operands: "path [ args... ]",
    about: "Connects to the s6-sudod listening at path and runs args there with this process's \
            stdin, stdout, stderr and environment; exits as that program exits.",
    doc: "s6-sudo.html",
    flags: &[
        ipcclient::FLAGS[0],
        ipcclient::FLAGS[1],
        ipcclient::FLAGS[2],
        ipcclient::FLAGS[3],
        ipcclient::FLAGS[4],
        sudoc::FLAGS[0],
        Flag::arg('t', "timeout", Show::Own, sudoc::FLAGS[1].help),
        sudoc::FLAGS[2],
    ],
};

/// Runs s6-sudo.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut conn = ipcclient::Options::default();
    let mut opts = ClientOpts::default();
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        let c = opt.c;
        let arg = opt.arg_str().to_owned();
        if !conn.option(c, opt.arg) && !opts.apply(c, &arg) {
            return Err(SPEC.usage_error());
        }
    }
    let [path, rest @ ..] = g.operands() else { return Err(SPEC.usage_error()) };
    // Upstream hands -q to s6-ipcclient as -Q, and at most three -v.
    let ipc_verbosity = conn.verbosity.clamp(1, 4);
    cli::rename_prog("s6-ipcclient");
    let (sock, local) =
        ipcclient::connect(path, conn.bindpath.as_deref(), conn.localname.as_deref(), ipc_verbosity)?;
    cli::rename_prog("s6-sudoc");
    let mut env = client::current_env();
    merge(&mut env, b"PROTO", Some(b"IPC"));
    merge(&mut env, b"IPCLOCALPATH", local.as_deref().map(OsStr::as_bytes));
    let req = opts.request(rest, env);
    client::exchange(sock.as_fd(), sock.as_fd(), &req)
}

/// One environment change as s6-ipcclient's exec applies it (skalibs `env_merge`): the
/// first entry for `name` goes, the last entry taking its place, then the new one, if
/// any, is appended.
fn merge(env: &mut Vec<Vec<u8>>, name: &[u8], value: Option<&[u8]>) {
    let named = |e: &Vec<u8>| e.len() > name.len() && e.starts_with(name) && e[name.len()] == b'=';
    if let Some(i) = env.iter().position(named) {
        env.swap_remove(i);
    }
    if let Some(v) = value {
        env.push([name, b"=", v].concat());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_env_merge() {
        let mut env: Vec<Vec<u8>> =
            vec![b"A=1".to_vec(), b"PROTO=TCP".to_vec(), b"B=2".to_vec(), b"C=3".to_vec()];
        merge(&mut env, b"PROTO", Some(b"IPC"));
        assert_eq!(env, [&b"A=1"[..], b"C=3", b"B=2", b"PROTO=IPC"]);
        merge(&mut env, b"IPCLOCALPATH", None);
        assert_eq!(env.len(), 4);
        merge(&mut env, b"A", None);
        assert_eq!(env, [&b"PROTO=IPC"[..], b"C=3", b"B=2"]);
        // A longer name with the same prefix is another variable.
        let mut env = vec![b"PROTOCOL=x".to_vec()];
        merge(&mut env, b"PROTO", Some(b"IPC"));
        assert_eq!(env, [&b"PROTOCOL=x"[..], b"PROTO=IPC"]);
    }
}
