//! s6-ipcserver-access: let a Unix-domain client through, or not, by its credentials.
//! Upstream page: `s6-ipcserver-access.html`; FORMATS.md §7.4.
//!
//! Runs under a UCSPI server: `PROTO`, `${PROTO}REMOTEEUID` and `${PROTO}REMOTEEGID` come
//! from the environment, fd 0 is the connection. The decision is [`crate::check::evaluate`];
//! this program prints its log lines, exits 1 (refused) or 111 (rules unreadable), or execs
//! the server program, or `execlineb -Pc EXEC` when the matching rule has an `exec`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use s6rs_sys::cli::{parse_uint, prog, Fatal, Flag, Show, Spec};

use crate::check::{evaluate, AccessOptions, PeerIds, RuleSource};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-ipcserver-access",
    operands: "prog...",
    about: "Under s6-ipcserver: checks the client's uid and gid against access rules, then \
            runs prog or refuses the client.",
    doc: "s6-ipcserver-access.html",
    flags: &[
        Flag::arg(
            'v',
            "verbosity",
            Show::Own,
            "0 errors only, 1 also warnings and accepted clients (the default), 2 more",
        ),
        Flag::new('e', Show::Own, "set the access variables in prog's environment (the default)"),
        Flag::new('E', Show::Or, "unset the UCSPI and access variables instead"),
        Flag::arg('l', "localname", Show::Own, "set IPCLOCALPATH to this, not to the socket's name"),
        Flag::arg('i', "rulesdir", Show::Own, "check against the rules in this directory"),
        Flag::arg('x', "rulesfile", Show::Or, "check against the rules in this cdb file"),
    ],
};

/// The program that runs a rule's `exec` line, looked up in PATH like any program.
const EXECLINEB: &str = "execlineb";

/// A required numeric variable: `NAME not set` or `invalid $NAME` (exit 100) otherwise.
fn id_var(name: &OsStr) -> Result<u32, Fatal> {
    let shown = name.to_string_lossy();
    let v = std::env::var_os(name).ok_or_else(|| Fatal::bad(format!("{shown} not set")))?;
    v.to_str().and_then(parse_uint).ok_or_else(|| Fatal::bad(format!("invalid ${shown}")))
}

/// Runs s6-ipcserver-access.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut opts = AccessOptions::default();
    let mut rules = RuleSource::None;
    let mut g = SPEC.getopt(&args);
    while let Some(o) = g.next() {
        let o = o.map_err(|_| SPEC.usage_error())?;
        match o.c {
            'v' => opts.verbosity = parse_uint(o.arg_str()).ok_or_else(|| SPEC.usage_error())?,
            'E' => opts.doenv = false,
            'e' => opts.doenv = true,
            'l' => opts.localname = o.arg,
            // The last of -i and -x wins, as upstream parses them.
            'i' => rules = RuleSource::Dir(PathBuf::from(o.arg.unwrap_or_default())),
            'x' => rules = RuleSource::Cdb(PathBuf::from(o.arg.unwrap_or_default())),
            _ => return Err(SPEC.usage_error()),
        }
    }
    let argv = g.operands();
    if argv.first().is_none_or(|a| a.is_empty()) {
        return Err(SPEC.usage_error());
    }
    let proto = std::env::var_os("PROTO").ok_or_else(|| Fatal::bad("PROTO not set"))?;
    let with = |suffix: &str| {
        let mut v = proto.clone();
        v.push(suffix);
        v
    };
    let uid = id_var(&with("REMOTEEUID"))?;
    let gid = id_var(&with("REMOTEEGID"))?;
    opts.proto = proto;

    // A cdb truncated while it is being read: a log line and exit 111, not a crash.
    crate::mapping::guard::install().map_err(|e| Fatal::sys("catch SIGBUS", &e))?;
    let decision = evaluate(&rules, PeerIds { uid, gid }, &opts);
    for line in &decision.log {
        s6rs_sys::cli::err_line(format_args!("{}: {line}", prog()));
    }
    if !decision.allow {
        return Ok(decision.code);
    }
    Err(match decision.exec {
        Some(script) => {
            let argv = [OsString::from(EXECLINEB), OsString::from("-Pc"), OsString::from_vec(script)];
            s6rs_sys::exec::chainload(&argv, &decision.env)
        }
        None => s6rs_sys::exec::chainload(argv, &decision.env),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use s6rs_sys::testing::args;

    #[test]
    fn usage_errors() {
        for bad in [&[][..], &["-v"], &["-vx", "prog"], &["-z", "prog"], &[""], &["-i", "d"]] {
            let f = run(args(bad)).unwrap_err();
            assert!(f.usage && f.code == 100, "{bad:?}");
        }
    }
}
