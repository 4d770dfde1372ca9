//! The in-process access check of s6-ipcserverd (an s6-rs extension) gives exactly the
//! verdicts and handler environment of the chained s6-ipcserver-access, on the same rules.

use std::ffi::OsString;
use std::path::Path;

use crate::ipc::Server;
use crate::support::*;

const HANDLER: &str = "env | grep -E '^(PROTO|IPC|FOO|BAR)' | sort";

/// One server chained through our s6-ipcserver-access, one with the in-process check, both
/// on `rules` (a directory, or a cdb when `cdb`); what a client reads from each.
fn both(
    t: &TempDir,
    tag: &str,
    rules: &Path,
    cdb: bool,
    access_opts: &[&str],
    inproc_opts: &[&str],
) -> (String, String) {
    let chained_sock = t.join(&format!("{tag}-chained.sock"));
    let inproc_sock = t.join(&format!("{tag}-inproc.sock"));
    let sel = if cdb { "-x" } else { "-i" };
    let mut a: Vec<OsString> = vec![bin("s6-ipcserver").into(), "-1".into(), chained_sock.clone().into()];
    a.push(bin("s6-ipcserver-access").into());
    a.extend(access_opts.iter().map(OsString::from));
    a.extend([sel.into(), rules.into(), "sh".into(), "-c".into(), HANDLER.into()]);
    let chained = Server::start(&chained_sock, &a);

    let key = if cdb { "--access-cdb=" } else { "--access-rules=" };
    let mut b: Vec<OsString> = vec![bin("s6-ipcserver").into()];
    b.push(format!("{key}{}", rules.display()).into());
    b.extend(inproc_opts.iter().map(OsString::from));
    b.extend(["-1".into(), inproc_sock.clone().into(), "sh".into(), "-c".into(), HANDLER.into()]);
    let inproc = Server::start(&inproc_sock, &b);

    let norm = |s: String, sock: &Path| s.replace(&sock.display().to_string(), "SOCK");
    (norm(chained.request(), &chained_sock), norm(inproc.request(), &inproc_sock))
}

fn rules_dir(t: &TempDir, uid0: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = t.join("rules");
    let d = dir.join("uid/0");
    std::fs::create_dir_all(d.join("env")).unwrap();
    for (name, body) in uid0 {
        std::fs::write(d.join(name), body).unwrap();
    }
    dir
}

#[test]
fn allow_with_env_matches_chained_access() {
    let t = TempDir::new("inproc-allow");
    let rules = rules_dir(&t, &[("allow", ""), ("env/FOO", "from rules\n"), ("env/BAR", "")]);
    let (chained, inproc) = both(&t, "d", &rules, false, &[], &[]);
    assert!(chained.contains("FOO=from rules") && chained.contains("IPCLOCALPATH=SOCK"), "{chained}");
    assert_eq!(inproc, chained);

    // -E / --access-noenv: the UCSPI variables are removed the same way.
    let (chained, inproc) = both(&t, "e", &rules, false, &["-E"], &["--access-noenv"]);
    assert!(!chained.contains("PROTO="), "{chained}");
    assert_eq!(inproc, chained);
}

#[test]
fn access_options_after_upstream_options_are_accepted() {
    // s6-ipcserver -1 --access-rules=DIR ...: the access option need not come first (it
    // once had to, and this exited 100).
    let t = TempDir::new("inproc-order");
    let rules = rules_dir(&t, &[("allow", ""), ("env/FOO", "late\n")]);
    let sock = t.join("late.sock");
    let argv: Vec<OsString> = vec![
        bin("s6-ipcserver").into(),
        "-1".into(),
        "-c".into(),
        "4".into(),
        format!("--access-rules={}", rules.display()).into(),
        "--access-noenv".into(),
        sock.clone().into(),
        "sh".into(),
        "-c".into(),
        HANDLER.into(),
    ];
    let s = Server::start(&sock, &argv);
    let got = s.request();
    assert!(got.contains("FOO=late\n") && !got.contains("PROTO="), "{got}");
}

#[test]
fn deny_and_no_rule_refuse_like_chained_access() {
    let t = TempDir::new("inproc-deny");
    let rules = rules_dir(&t, &[("deny", "")]);
    let (chained, inproc) = both(&t, "deny", &rules, false, &[], &[]);
    assert_eq!((chained.as_str(), inproc.as_str()), ("", ""));

    let empty = t.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (chained, inproc) = both(&t, "none", &empty, false, &[], &[]);
    assert_eq!((chained.as_str(), inproc.as_str()), ("", ""));
}

#[test]
fn exec_override_and_cdb_match_chained_access() {
    let t = TempDir::new("inproc-exec");
    let rules = rules_dir(&t, &[("allow", ""), ("exec", "echo served by the rule\n")]);
    let (chained, inproc) = both(&t, "x", &rules, false, &[], &[]);
    assert_eq!(chained, "served by the rule\n");
    assert_eq!(inproc, chained);

    let rules = rules_dir(&t, &[("allow", ""), ("env/FOO", "cdb value\n")]);
    std::fs::remove_file(rules.join("uid/0/exec")).unwrap();
    let cdb = t.join("rules.cdb");
    let mut c = std::process::Command::new(bin("s6-accessrules-cdb-from-fs"));
    c.arg(&cdb).arg(&rules);
    assert_eq!(run(c, crate::access::T).status.code(), Some(0));
    let (chained, inproc) = both(&t, "c", &cdb, true, &[], &[]);
    assert!(chained.contains("FOO=cdb value"), "{chained}");
    assert_eq!(inproc, chained);
}
