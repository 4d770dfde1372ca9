//! Our s6-ipcserver-access with a rules directory (-i) and the same rules compiled (-x):
//! verdicts by uid, gid, self and default; environment; exec override; -E/-e/-l; -v.
//! Run without a server: the UCSPI variables come from the environment and fd 0 is a
//! socket bound in the test directory.

use std::ffi::OsString;
use std::path::Path;

use s6rs_access::{evaluate, AccessOptions, PeerIds, RuleSource};

use super::*;
use crate::support::*;

/// A client identity no test process runs as, so `uid/self`/`gid/self` stay out of the way.
const U: u32 = 4_000_001;
const G: u32 = 4_000_002;

/// The standard rule set of these tests.
fn standard(dir: &Path) {
    rules(dir, VERDICT_RULES);
    rules(dir, &[("uid/default/deny", b"")]);
}

/// The entries of `env -0` output.
fn entries(out: &str) -> Vec<String> {
    out.split('\0').filter(|e| !e.is_empty()).map(String::from).collect()
}

/// The two ways to give the same rules: `-i dir` and `-x cdb` (compiled by ours).
fn both_sources(t: &TempDir) -> [Vec<String>; 2] {
    let dir = t.join("rules");
    standard(&dir);
    let file = t.join("rules.cdb");
    compile(&bin("s6-accessrules-cdb-from-fs"), &file, &dir);
    [vec!["-i".into(), dir.to_str().unwrap().into()], vec!["-x".into(), file.to_str().unwrap().into()]]
}

fn run(sock: &Sock, uid: u32, gid: u32, opts: &[&str], src: &[String], prog: &[&str]) -> Outcome {
    let mut args: Vec<&str> = opts.to_vec();
    args.extend(src.iter().map(String::as_str));
    args.extend(prog);
    access(&bin("s6-ipcserver-access"), sock, uid, gid, &args, &[("GONE", "inherited"), ("KEEP", "kept")])
}

#[test]
fn allow_by_uid_with_env_and_localpath() {
    let (t, sock) = setup("acc-allow");
    for src in both_sources(&t) {
        let o = run(&sock, U, G, &[], &src, &["env", "-0"]);
        assert_eq!(o.0, Some(0), "{src:?}: {}", o.2);
        let got = entries(&o.1);
        let local = format!("IPCLOCALPATH={}", sock.path.display());
        let mut want = vec![
            "PATH=/usr/bin:/bin".to_owned(),
            "KEEP=kept".into(),
            "PROTO=IPC".into(),
            format!("IPCREMOTEEUID={U}"),
            format!("IPCREMOTEEGID={G}"),
            "IPCREMOTEPATH=".into(),
            "IPCCONNNUM=0".into(),
            "FOO=bar".into(),
            "NUL=a\nb".into(),
            local.clone(),
        ];
        let mut sorted = got.clone();
        want.sort();
        sorted.sort();
        assert_eq!(sorted, want, "{src:?}");
        // The local path is the last change, so it comes last (skalibs env_merge order).
        assert_eq!(got.last(), Some(&local));
        assert_eq!(unpid(&o.2), format!("s6-ipcserver-access: info: allow pid P uid {U} gid {G}\n"));
    }
}

#[test]
fn deny_rule_no_rule_and_default() {
    let (t, sock) = setup("acc-deny");
    for src in both_sources(&t) {
        // A deny rule.
        let o = run(&sock, 4_000_003, G, &["-v2"], &src, &["echo", "served"]);
        assert_eq!((o.0, o.1.as_str()), (Some(1), ""), "{src:?}");
        assert_eq!(
            unpid(&o.2),
            format!("s6-ipcserver-access: info: deny pid P uid 4000003 gid {G}: Permission denied\n")
        );
        // allow beats deny in the same rule.
        assert_eq!(run(&sock, 4_000_004, G, &["-v0"], &src, &["echo", "served"]).1, "served\n");
        // A rule with neither allow nor deny is no rule: down to uid/default (deny).
        let o = run(&sock, 4_000_005, G, &["-v2"], &src, &["echo", "served"]);
        assert_eq!((o.0, o.1.as_str()), (Some(1), ""), "{src:?}");
        assert!(o.2.ends_with("Permission denied\n"), "{}", o.2);
        // -v1 (the default) does not log refusals.
        assert_eq!(run(&sock, 4_000_003, G, &[], &src, &["echo"]).2, "");
    }
    // Without uid/default: no rule at all is "No such file or directory".
    let dir = t.join("nodefault");
    rules(&dir, &[("uid/1/allow", b"")]);
    let o = run(&sock, U, G, &["-v2"], &["-i".into(), dir.to_str().unwrap().into()], &["echo"]);
    assert_eq!(o.0, Some(1));
    assert_eq!(
        unpid(&o.2),
        format!("s6-ipcserver-access: info: deny pid P uid {U} gid {G}: No such file or directory\n")
    );
}

#[test]
fn gid_rules_and_exec_override() {
    let (t, sock) = setup("acc-gid");
    for src in both_sources(&t) {
        // uid unknown, gid allowed with an exec: the exec line replaces prog.
        let o = run(&sock, 4_000_020, 4_000_010, &["-v0"], &src, &["echo", "prog ran"]);
        assert_eq!((o.0, o.1.as_str(), o.2.as_str()), (Some(0), "from exec\n", ""), "{src:?}");
        // A uid rule wins over the gid rule.
        let o = run(&sock, U, 4_000_010, &["-v0"], &src, &["echo", "prog ran"]);
        assert_eq!(o.1, "prog ran\n", "{src:?}");
        // gid deny before uid/default.
        let o = run(&sock, 4_000_020, 4_000_011, &["-v2"], &src, &["echo"]);
        assert_eq!(o.0, Some(1));
    }
}

#[test]
fn self_rules_come_first() {
    let (t, sock) = setup("acc-self");
    let (eu, eg) = self_ids();
    let dir = t.join("rules");
    let (us, gs) = (format!("uid/{eu}/allow"), format!("gid/{eg}/allow"));
    rules(
        &dir,
        &[
            ("uid/self/allow", b""),
            ("uid/self/exec", b"echo uid self\n"),
            (&us, b""),
            ("gid/self/allow", b""),
            ("gid/self/exec", b"echo gid self\n"),
            (&gs, b""),
        ],
    );
    let src = ["-i".to_owned(), dir.to_str().unwrap().to_owned()];
    assert_eq!(run(&sock, eu, eg, &[], &src, &["echo", "plain"]).1, "uid self\n");
    assert_eq!(run(&sock, 4_000_030, eg, &[], &src, &["echo", "plain"]).1, "gid self\n");
    std::fs::remove_file(dir.join("uid/self/allow")).unwrap();
    assert_eq!(run(&sock, eu, eg, &[], &src, &["echo", "plain"]).1, "plain\n");
}

#[test]
fn env_options() {
    let (t, sock) = setup("acc-envopts");
    for src in both_sources(&t) {
        // -E: the UCSPI variables go, the rule's changes stay.
        let o = run(&sock, U, G, &["-E"], &src, &["env"]);
        assert!(!o.1.contains("GONE"), "{}", o.1);
        assert_eq!(o.0, Some(0), "{}", o.2);
        for gone in
            ["PROTO=", "IPCREMOTEEUID=", "IPCREMOTEEGID=", "IPCREMOTEPATH=", "IPCLOCALPATH=", "IPCCONNNUM="]
        {
            assert!(!o.1.lines().any(|l| l.starts_with(gone)), "{gone} in {}", o.1);
        }
        assert!(o.1.lines().any(|l| l == "FOO=bar"));
        // -e after -E: back to the default.
        let o = run(&sock, U, G, &["-E", "-e"], &src, &["env"]);
        assert!(o.1.lines().any(|l| l.starts_with("IPCLOCALPATH=")), "{}", o.1);
        // -l overrides getsockname.
        let o = run(&sock, U, G, &["-l", "given name"], &src, &["env"]);
        assert!(o.1.lines().any(|l| l == "IPCLOCALPATH=given name"), "{}", o.1);
    }
    // PROTO other than IPC names the variables.
    let dir = t.join("rules");
    let mut c = cmd(
        &bin("s6-ipcserver-access"),
        &["-i", dir.to_str().unwrap(), "env"],
        &[("PROTO", "UNIX"), ("UNIXREMOTEEUID", &U.to_string()), ("UNIXREMOTEEGID", &G.to_string())],
    );
    c.env("X", "1");
    let o = outcome_on(c, Some(sock.fd()));
    assert!(o.1.lines().any(|l| l == format!("UNIXLOCALPATH={}", sock.path.display())), "{}", o.1);
    // An unbound socket as fd 0 gives an empty local path.
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut c = cmd(&bin("s6-ipcserver-access"), &["-i", dir.to_str().unwrap(), "env"], &[]);
    for (k, v) in ipc_env(U, G) {
        c.env(k, v);
    }
    let o = outcome_on(c, Some(a.into()));
    assert!(o.1.lines().any(|l| l == "IPCLOCALPATH="), "{}", o.1);
}

#[test]
fn no_ruleset_allows_with_a_warning_at_v2() {
    let (_t, sock) = setup("acc-norules");
    let o = run(&sock, U, G, &["-v2"], &[], &["echo", "ok"]);
    assert_eq!(o.0, Some(0));
    assert_eq!(o.1, "ok\n");
    assert_eq!(
        unpid(&o.2),
        format!(
            "s6-ipcserver-access: warning: invoked without a ruleset!\ns6-ipcserver-access: info: allow pid P uid {U} gid {G}\n"
        )
    );
    assert_eq!(run(&sock, U, G, &["-v0"], &[], &["true"]).2, "");
}

#[test]
fn usage_and_environment_errors() {
    let (_t, sock) = setup("acc-usage");
    let me = bin("s6-ipcserver-access");
    let usage = "s6-ipcserver-access: usage: s6-ipcserver-access [ -v verbosity ] [ -e | -E ] [ -l localname ] [ -i rulesdir | -x rulesfile ] prog...\n";
    for args in [&[][..], &["-v"], &["-vX", "true"], &["-q", "true"], &[""]] {
        let o = outcome(cmd(&me, args, &[]));
        assert_eq!((o.0, o.2.as_str()), (Some(100), usage), "{args:?}");
    }
    let o = outcome(cmd(&me, &["true"], &[]));
    assert_eq!((o.0, o.2.as_str()), (Some(100), "s6-ipcserver-access: fatal: PROTO not set\n"));
    let o = outcome(cmd(&me, &["true"], &[("PROTO", "IPC")]));
    assert_eq!(o.2, "s6-ipcserver-access: fatal: IPCREMOTEEUID not set\n");
    let o = outcome(cmd(&me, &["true"], &[("PROTO", "IPC"), ("IPCREMOTEEUID", "1x")]));
    assert_eq!(o.2, "s6-ipcserver-access: fatal: invalid $IPCREMOTEEUID\n");
    let o = outcome(cmd(&me, &["true"], &[("PROTO", "IPC"), ("IPCREMOTEEUID", "1"), ("IPCREMOTEEGID", "")]));
    assert_eq!(o.2, "s6-ipcserver-access: fatal: invalid $IPCREMOTEEGID\n");
    // A missing program: the chain-loader's 127.
    let o = access(&me, &sock, U, G, &["-v0", "/nonexistent/prog"], &[]);
    assert_eq!(o.0, Some(127));
    assert_eq!(
        o.2,
        "s6-ipcserver-access: fatal: unable to exec /nonexistent/prog: No such file or directory\n"
    );
}

/// The in-process check gives exactly what the program does: the same verdict, the same
/// environment (compared through `env` run by the program), the same exec override.
#[test]
fn evaluate_matches_the_program() {
    let (t, sock) = setup("acc-eval");
    for src in both_sources(&t) {
        let source = match src[0].as_str() {
            "-i" => RuleSource::Dir(src[1].clone().into()),
            _ => RuleSource::Cdb(src[1].clone().into()),
        };
        for (uid, gid) in
            [(U, G), (4_000_003, G), (4_000_020, 4_000_010), (4_000_020, 4_000_011), (4_000_005, 1)]
        {
            for doenv in [true, false] {
                let opts = AccessOptions {
                    verbosity: 2,
                    doenv,
                    localname: Some(OsString::from("here")),
                    proto: "IPC".into(),
                    log_pid: Some(7),
                };
                let d = evaluate(&source, PeerIds { uid, gid }, &opts);
                let mut flags = vec!["-v2", "-l", "here"];
                if !doenv {
                    flags.push("-E");
                }
                let o = run(&sock, uid, gid, &flags, &src, &["env", "-0"]);
                let lines: Vec<String> =
                    d.log.iter().map(|l| format!("s6-ipcserver-access: {l}\n")).collect();
                assert_eq!(unpid(&o.2), unpid(&lines.concat()), "{src:?} {uid}:{gid}");
                if !d.allow {
                    assert_eq!(o.0, Some(i32::from(d.code)));
                    continue;
                }
                if let Some(exec) = &d.exec {
                    assert_eq!(exec, b"echo from exec\n");
                    assert_eq!(o.1, "from exec\n");
                    continue;
                }
                // Apply the decision to the environment the program started with.
                let mut env: Vec<(String, String)> = vec![
                    ("PATH".into(), "/usr/bin:/bin".into()),
                    ("GONE".into(), "inherited".into()),
                    ("KEEP".into(), "kept".into()),
                ];
                env.extend(ipc_env(uid, gid));
                for (name, val) in &d.env {
                    let name = name.to_str().unwrap();
                    env.retain(|(n, _)| n != name);
                    if let Some(v) = val {
                        env.push((name.into(), v.to_str().unwrap().into()));
                    }
                }
                let mut want: Vec<String> = env.iter().map(|(n, v)| format!("{n}={v}")).collect();
                let mut got = entries(&o.1);
                want.sort();
                got.sort();
                assert_eq!(want, got, "{src:?} {uid}:{gid} -E={}", !doenv);
            }
        }
    }
}
