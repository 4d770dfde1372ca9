//! `s6-ipcserverd` as users run it: upstream's server (`s6rs_ipc::cmd::ipcserverd`) with
//! s6-rs's in-process access check (`s6rs_access::check`) wired into its connection hook
//! (an extension; upstream doc/s6-ipcserverd.html for everything else).
//!
//! Upstream checks access by chaining `s6-ipcserver-access` in front of the handler, which
//! costs one more exec per connection. These options, given anywhere among the upstream
//! ones (before the first operand; `--` ends the options), make s6-ipcserverd run the same rules itself, through the very function
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
//! `s6-ipcserver` ([`super::ipcserver`]) accepts them the same way and passes them through
//! to s6-ipcserverd.
//!
//! The check runs inside the server's one thread, so nothing in it may wait: rule files
//! that are not regular files (a FIFO in `env/`, a cdb that is a FIFO or a device) are
//! refused at once, never opened for reading. A cdb is mapped, verified once, and the
//! mapping kept while the file is unchanged, so a check costs the same whatever the size
//! of the database (see [`Checker`]).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use s6rs_access::check::Checker;
use s6rs_access::{AccessOptions, PeerIds, RuleSource};
use s6rs_ipc::check::{Peer, Verdict};
use s6rs_ipc::cmd::ipcserverd;
use s6rs_sys::cli::{self, BadOpt, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::EnvMod;

/// The prefix every extension option has.
pub const PREFIX: &str = "--access-";

/// The extension options. The letters only name them here: none is a short option, and
/// none is a letter of s6-ipcserver's or s6-ipcserverd's own options (tested), so a parsed
/// option tells by its letter whose it is.
pub const ACCESS_FLAGS: [Flag; 5] = [
    Flag::arg('i', "dir", Show::LongOwn, "check clients against the rules in this directory (as -i)")
        .long("access-rules"),
    Flag::arg('x', "file", Show::LongOr, "check clients against the rules in this cdb file (as -x)")
        .long("access-cdb"),
    Flag::new('E', Show::LongOwn, "do not set the access variables (as -E)").long("access-noenv"),
    Flag::arg('l', "name", Show::LongOwn, "the IPCLOCALPATH value (as -l)").long("access-localname"),
    Flag::arg('V', "n", Show::LongOwn, "the check's verbosity (as -v; default 1)").long("access-verbosity"),
];

/// Upstream's command line plus the `--access-*` options, accepted anywhere among the
/// options.
pub const SPEC: Spec = Spec {
    name: "s6-ipcserverd",
    operands: ipcserverd::SPEC.operands,
    about: "Accepts clients on the listening Unix socket that is its stdin and runs prog for \
            each; --access-* options make it check each client as s6-ipcserver-access would.",
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

/// The access options of a command line, and the rest of it for upstream's parser.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sorted {
    /// The `--access-*` options, as `(letter, value)` in command-line order.
    pub access: Vec<(char, Option<OsString>)>,
    /// Upstream's options (one word per option, then one per argument), `--`, the operands.
    pub rest: Vec<OsString>,
}

/// Parses the options of `args` (up to the first operand; `--` ends them) with `spec`'s
/// table, upstream's options plus [`ACCESS_FLAGS`]: the `--access-*` ones wherever they
/// are, and the others spelled again for upstream's own parser.
pub fn sort(spec: &Spec, args: &[OsString]) -> Result<Sorted, Fatal> {
    let mut out = Sorted::default();
    let mut g = spec.getopt(args);
    while let Some(opt) = g.next_long() {
        match opt {
            Ok(o) if ACCESS_FLAGS.iter().any(|f| f.short == o.c) => out.access.push((o.c, o.arg)),
            Ok(o) => {
                out.rest.push(format!("-{}", o.c).into());
                out.rest.extend(o.arg);
            }
            Err(BadOpt::Boolean(w) | BadOpt::WithArg(w)) if w.starts_with(PREFIX) => {
                let name = w.split_once('=').map_or(w.as_str(), |(k, _)| k);
                return Err(Fatal::usage(format!("{name}: unknown access option or missing value")));
            }
            Err(_) => return Err(spec.usage_error()),
        }
    }
    out.rest.push("--".into());
    out.rest.extend_from_slice(g.operands());
    Ok(out)
}

/// `(letter, value)` as the option's own word, `--access-NAME[=VALUE]`.
pub fn respell(c: char, value: &Option<OsString>) -> OsString {
    let name = ACCESS_FLAGS.iter().find(|f| f.short == c).and_then(|f| f.long).unwrap_or_default();
    let mut w = OsString::from(format!("--{name}"));
    if let Some(v) = value {
        w.push("=");
        w.push(v);
    }
    w
}

/// Sorts `args` with [`SPEC`]: the check the `--access-*` options ask for (if any) and the
/// rest, for upstream's parser.
pub fn split(args: &[OsString]) -> Result<(Option<InProcess>, Vec<OsString>), Fatal> {
    let Sorted { access, rest } = sort(&SPEC, args)?;
    let mut rules = None;
    let mut opts = AccessOptions::default();
    for (c, value) in &access {
        let bad = || Fatal::usage(format!("{}: invalid value", respell(*c, value).to_string_lossy()));
        let text = || value.as_deref().and_then(OsStr::to_str).ok_or_else(bad);
        match c {
            'i' => rules = Some(RuleSource::Dir(value.clone().unwrap_or_default().into())),
            'x' => rules = Some(RuleSource::Cdb(value.clone().unwrap_or_default().into())),
            'E' => opts.doenv = false,
            'l' => opts.localname = value.clone(),
            'V' => opts.verbosity = cli::parse_uint(text()?).ok_or_else(bad)?,
            _ => return Err(bad()),
        }
    }
    let check = (!access.is_empty())
        .then(|| InProcess { checker: Checker::new(rules.unwrap_or(RuleSource::None), true), opts });
    Ok((check, rest))
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
    cli::err_line(format_args!("{}: {line}", cli::prog()));
}

/// Runs s6-ipcserverd, with the in-process check wired into ipc's hook when `--access-*`
/// options are given.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (check, rest) = split(&args)?;
    let opts = ipcserverd::parse(&rest)?;
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
    fn splits_access_options_anywhere_among_the_options() {
        let a = args(&["--access-rules=/r", "--access-noenv", "-v2", "--access-verbosity=2", "--", "prog"]);
        let (c, rest) = split(&a).unwrap();
        let c = c.unwrap();
        assert_eq!(c.checker.rules(), &RuleSource::Dir("/r".into()));
        assert!(!c.opts.doenv);
        assert_eq!(c.opts.verbosity, 2);
        assert_eq!(rest, args(&["-v", "2", "--", "prog"]));
        // After an option taking an argument, and clustered options.
        let a = args(&["-1Pc", "5", "--access-cdb=/c", "-C3", "prog", "x"]);
        let (c, rest) = split(&a).unwrap();
        assert_eq!(c.unwrap().checker.rules(), &RuleSource::Cdb("/c".into()));
        assert_eq!(rest, args(&["-1", "-P", "-c", "5", "-C", "3", "--", "prog", "x"]));
        // An option's argument is never taken for an access option.
        let a = args(&["-c", "--access-rules=/r", "prog"]);
        let (c, rest) = split(&a).unwrap();
        assert!(c.is_none());
        assert_eq!(rest, args(&["-c", "--access-rules=/r", "--", "prog"]));
    }

    #[test]
    fn usage_line_and_help_show_the_access_options() {
        assert_eq!(
            SPEC.usage(),
            format!(
                "{} [ --access-rules=dir | --access-cdb=file ] [ --access-noenv ] \
                 [ --access-localname=name ] [ --access-verbosity=n ] prog...",
                ipcserverd::SPEC.usage().trim_end_matches(" prog...")
            )
        );
        for f in &ACCESS_FLAGS {
            assert!(f.show.long_only());
            assert!(f.long.is_some_and(|l| l.starts_with(&PREFIX[2..])), "{f:?}");
            let ours = ipcserverd::FLAGS.iter().chain(&s6rs_ipc::cmd::ipcserver::FLAGS);
            assert!(ours.clone().all(|u| u.short != f.short), "{f:?}");
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
        assert_eq!(rest, args(&["-1", "--", "prog", "--access-rules=x"]));
        let a = args(&["--", "--access-rules=x"]);
        assert!(split(&a).unwrap().0.is_none());
    }

    #[test]
    fn bad_access_options_are_usage_errors() {
        for bad in ["--access-rules", "--access-nope=1", "--access-verbosity=x", "--access-noenv=1"] {
            assert_eq!(split(&args(&["-1", bad, "prog"])).unwrap_err().code, 100, "{bad}");
        }
        let e = split(&args(&["--access-nope=1", "prog"])).unwrap_err();
        assert_eq!(e.msg, "--access-nope: unknown access option or missing value");
    }
}
