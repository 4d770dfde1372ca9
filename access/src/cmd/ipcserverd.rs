//! `s6-ipcserverd` with s6-rs's in-process access check (an extension; upstream
//! doc/s6-ipcserverd.html for everything else).
//!
//! Upstream checks access by chaining `s6-ipcserver-access` in front of the handler, which
//! costs one more exec per connection. These options, given **before** the upstream ones,
//! make s6-ipcserverd run the same rules itself, through the very function
//! s6-ipcserver-access uses ([`crate::evaluate`]), before it spawns anything:
//!
//! | option | chained equivalent |
//! |---|---|
//! | `--access-rules=DIR` | `s6-ipcserver-access -i DIR` |
//! | `--access-cdb=FILE` | `s6-ipcserver-access -x FILE` |
//! | `--access-noenv` | `-E` (the default adds `IPCLOCALPATH`, as `-e`) |
//! | `--access-localname=NAME` | `-l NAME` |
//! | `--access-verbosity=N` | `-v N` (default 1) |
//!
//! A refused client's connection is closed without a handler; an allowed one gets exactly
//! the environment the chained program would give its `prog`, and a rule's `exec` replaces
//! the handler with `execlineb -Pc EXEC`. Log lines are the access program's, prefixed with
//! `s6-ipcserverd:`; the pid they name is the server's (the handler does not exist yet).
//! `s6-ipcserver` passes leading `--access-*` options through to s6-ipcserverd.
//!
//! The check runs inside the server's one thread, so nothing in it may wait: rule files
//! that are not regular files (a FIFO in `env/`, a cdb that is a FIFO or a device) are
//! refused at once, never opened for reading. A cdb is mapped, verified once, and the
//! mapping kept while the file is unchanged, so a check costs the same whatever the size
//! of the database (see [`crate::check::Checker`]).

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use s6rs_ipc::check::{Peer, Verdict};
use s6rs_ipc::cmd::ipcserverd;
use s6rs_sys::cli::{self, Fatal};
use s6rs_sys::exec::EnvMod;

use crate::check::Checker;
use crate::{AccessOptions, PeerIds, RuleSource};

/// The prefix every extension option has.
pub const PREFIX: &str = "--access-";

/// The in-process check: its settings, and the rules as last read.
#[derive(Debug)]
pub struct InProcess {
    /// Where the rules are, with the verified cdb mapping kept across clients.
    pub checker: Checker,
    /// The options s6-ipcserver-access would have been given.
    pub opts: AccessOptions,
}

/// Splits the leading `--access-*` options from `args`: the check they ask for (if any)
/// and the rest, for upstream's parser.
pub fn split(args: &[OsString]) -> Result<(Option<InProcess>, &[OsString]), Fatal> {
    let mut rules = None;
    let mut opts = AccessOptions::default();
    let mut n = 0;
    for a in args {
        let Some(opt) = a.to_str().and_then(|s| s.strip_prefix(PREFIX)) else { break };
        let (name, value) = match opt.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (opt, None),
        };
        let bad = || Fatal::usage(format!("{PREFIX}{name}: unknown access option or missing value"));
        match (name, value) {
            ("rules", Some(v)) => rules = Some(RuleSource::Dir(v.into())),
            ("cdb", Some(v)) => rules = Some(RuleSource::Cdb(v.into())),
            ("noenv", None) => opts.doenv = false,
            ("localname", Some(v)) => opts.localname = Some(v.into()),
            ("verbosity", Some(v)) => opts.verbosity = cli::parse_uint(v).ok_or_else(bad)?,
            _ => return Err(bad()),
        }
        n += 1;
    }
    let check =
        (n > 0).then(|| InProcess { checker: Checker::new(rules.unwrap_or(RuleSource::None), true), opts });
    Ok((check, &args[n..]))
}

impl InProcess {
    /// Decides on one client as the chained s6-ipcserver-access would.
    pub fn check(&mut self, peer: &Peer<'_>, env: &mut Vec<EnvMod>) -> Verdict {
        let Some(creds) = peer.creds else {
            // Under -P there are no credentials, so s6-ipcserver-access would die for want
            // of ${PROTO}REMOTEEUID: refuse, and say so.
            log_line("warning: no client credentials (-P): refusing the connection");
            return Verdict::Deny;
        };
        let d = self.checker.evaluate(PeerIds { uid: creds.uid, gid: creds.gid }, &self.opts);
        for line in &d.log {
            log_line(line);
        }
        if !d.allow {
            return Verdict::Deny;
        }
        env.extend(d.env);
        let argv = d.exec.map(|e| {
            vec![OsString::from("execlineb"), OsString::from("-Pc"), OsStr::from_bytes(&e).to_owned()]
        });
        Verdict::Allow { argv }
    }
}

fn log_line(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}: {line}", cli::prog());
}

/// Runs s6-ipcserverd, with the in-process check when `--access-*` options lead.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (check, rest) = split(&args)?;
    let opts = ipcserverd::parse(rest)?;
    match check {
        None => ipcserverd::serve(&opts, None),
        Some(mut c) => {
            // A cdb rewritten in place under the kept mapping must cost a refused client,
            // not the server (see crate::mapping).
            crate::mapping::guard::install().map_err(|e| Fatal::sys("catch SIGBUS", &e))?;
            let mut f = |peer: &Peer<'_>, env: &mut Vec<EnvMod>| c.check(peer, env);
            ipcserverd::serve(&opts, Some(&mut f))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn splits_leading_access_options() {
        let a = args(&["--access-rules=/r", "--access-noenv", "--access-verbosity=2", "-v2", "--", "prog"]);
        let (c, rest) = split(&a).unwrap();
        let c = c.unwrap();
        assert_eq!(c.checker.rules(), &RuleSource::Dir("/r".into()));
        assert!(!c.opts.doenv);
        assert_eq!(c.opts.verbosity, 2);
        assert_eq!(rest, &a[3..]);
    }

    #[test]
    fn no_access_options_no_check() {
        let a = args(&["-1", "prog", "--access-rules=x"]);
        let (c, rest) = split(&a).unwrap();
        assert!(c.is_none());
        assert_eq!(rest.len(), 3);
    }

    #[test]
    fn bad_access_options_are_usage_errors() {
        for bad in ["--access-rules", "--access-nope=1", "--access-verbosity=x", "--access-noenv=1"] {
            assert_eq!(split(&args(&[bad, "prog"])).unwrap_err().code, 100, "{bad}");
        }
    }
}
