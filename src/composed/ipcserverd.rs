//! `s6-ipcserverd` as users run it: upstream's server (`s6rs_ipc::cmd::ipcserverd`) with
//! s6-rs's in-process access check (`s6rs_access::check`) wired into its connection hook
//! (an extension; upstream doc/s6-ipcserverd.html for everything else).
//!
//! Upstream checks access by chaining `s6-ipcserver-access` in front of the handler, which
//! costs one more exec per connection. These options, given **before** the upstream ones,
//! make s6-ipcserverd run the same rules itself, through the very function
//! s6-ipcserver-access uses ([`s6rs_access::evaluate`]), before it spawns anything:
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
//! `s6-ipcserver` ([`super::ipcserver`]) passes leading `--access-*` options through to
//! s6-ipcserverd.
//!
//! The check runs inside the server's one thread, so nothing in it may wait: rule files
//! that are not regular files (a FIFO in `env/`, a cdb that is a FIFO or a device) are
//! refused at once, never opened for reading. A cdb is mapped, verified once, and the
//! mapping kept while the file is unchanged, so a check costs the same whatever the size
//! of the database (see [`Checker`]).

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use s6rs_access::check::Checker;
use s6rs_access::{AccessOptions, PeerIds, RuleSource};
use s6rs_ipc::check::{Peer, Verdict};
use s6rs_ipc::cmd::ipcserverd;
use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::EnvMod;

/// The prefix every extension option has.
pub const PREFIX: &str = "--access-";

/// The extension options. The letters only name them here: none is a short option.
const ACCESS_FLAGS: [Flag; 5] = [
    Flag::arg('i', "dir", Show::LongOnly, "check clients against the rules in this directory (as -i)")
        .long("access-rules"),
    Flag::arg('x', "file", Show::LongOnly, "check clients against the rules in this cdb file (as -x)")
        .long("access-cdb"),
    Flag::new('E', Show::LongOnly, "do not set the access variables (as -E)").long("access-noenv"),
    Flag::arg('l', "name", Show::LongOnly, "the IPCLOCALPATH value (as -l)").long("access-localname"),
    Flag::arg('V', "n", Show::LongOnly, "the check's verbosity (as -v; default 1)").long("access-verbosity"),
];

/// Upstream's command line, then the `--access-*` options, which must come first and are
/// not part of upstream's usage line.
pub const SPEC: Spec = Spec {
    name: "s6-ipcserverd",
    operands: ipcserverd::SPEC.operands,
    about: "Accepts clients on the listening Unix socket that is its stdin and runs prog for \
            each; --access-* options first make it check each client as s6-ipcserver-access would.",
    doc: "s6-ipcserverd.html",
    flags: &[
        ipcserverd::FLAGS[0],
        ipcserverd::FLAGS[1],
        ipcserverd::FLAGS[2],
        ipcserverd::FLAGS[3],
        ipcserverd::FLAGS[4],
        ipcserverd::FLAGS[5],
        ACCESS_FLAGS[0],
        ACCESS_FLAGS[1],
        ACCESS_FLAGS[2],
        ACCESS_FLAGS[3],
        ACCESS_FLAGS[4],
    ],
};

/// The in-process check: its settings, and the rules as last read.
#[derive(Debug)]
pub struct InProcess {
    /// Where the rules are, with the verified cdb mapping kept across clients.
    pub checker: Checker,
    /// The options s6-ipcserver-access would have been given.
    pub opts: AccessOptions,
}

/// The text after [`PREFIX`], when `arg` is an extension option.
fn access_word(arg: &OsString) -> Option<&str> {
    arg.to_str()?.strip_prefix(PREFIX)
}

/// How many of `args` are leading `--access-*` words, valid or not: what s6-ipcserver
/// hands to s6-ipcserverd unchecked.
pub fn leading(args: &[OsString]) -> usize {
    args.iter().map_while(access_word).count()
}

/// Splits the leading `--access-*` options from `args`: the check they ask for (if any)
/// and the rest, for upstream's parser.
pub fn split(args: &[OsString]) -> Result<(Option<InProcess>, &[OsString]), Fatal> {
    let mut rules = None;
    let mut opts = AccessOptions::default();
    let n = leading(args);
    for opt in args.iter().map_while(access_word) {
        let (name, value) = match opt.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (opt, None),
        };
        let bad = || Fatal::usage(format!("{PREFIX}{name}: unknown access option or missing value"));
        let flag = ACCESS_FLAGS
            .iter()
            .find(|f| f.long.and_then(|l| l.strip_prefix(&PREFIX[2..])) == Some(name))
            .filter(|f| f.arg.is_some() == value.is_some())
            .ok_or_else(bad)?;
        match (flag.short, value) {
            ('i', Some(v)) => rules = Some(RuleSource::Dir(v.into())),
            ('x', Some(v)) => rules = Some(RuleSource::Cdb(v.into())),
            ('E', None) => opts.doenv = false,
            ('l', Some(v)) => opts.localname = Some(v.into()),
            ('V', Some(v)) => opts.verbosity = cli::parse_uint(v).ok_or_else(bad)?,
            _ => return Err(bad()),
        }
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

/// Runs s6-ipcserverd, with the in-process check wired into ipc's hook when `--access-*`
/// options lead.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (check, rest) = split(&args)?;
    let opts = ipcserverd::parse(rest)?;
    match check {
        None => ipcserverd::serve(&opts, None),
        Some(mut c) => {
            // A cdb rewritten in place under the kept mapping must cost a refused client,
            // not the server (see s6rs_access::mapping).
            s6rs_access::mapping::guard::install().map_err(|e| Fatal::sys("catch SIGBUS", &e))?;
            let mut f = |peer: &Peer<'_>, env: &mut Vec<EnvMod>| c.check(peer, env);
            ipcserverd::serve(&opts, Some(&mut f))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use s6rs_sys::testing::args;

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
    fn usage_line_is_upstreams_and_access_options_are_long_only() {
        assert_eq!(SPEC.usage(), ipcserverd::SPEC.usage());
        for f in &ACCESS_FLAGS {
            assert_eq!(f.show, Show::LongOnly);
            assert!(f.long.is_some_and(|l| l.starts_with(&PREFIX[2..])), "{f:?}");
        }
        let help = SPEC.help();
        assert!(help.contains("  --access-rules=dir "), "{help}");
        assert!(help.contains("  -v verbosity "), "{help}");
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
