//! Damaged rules never let a client in: a corrupt, truncated, empty or missing cdb, a
//! missing or unsearchable rules directory, garbage where rule files should be. Each gives
//! a refusal (prog never runs) and exactly one log line, even at -v0.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

use s6rs_access::{evaluate, AccessOptions, PeerIds, RuleSource};

use super::*;
use crate::support::*;

const U: u32 = 4_000_001;
const G: u32 = 4_000_002;

/// Runs ours with `-v0 SRC FILE echo served` and checks: refused with `code`, nothing run,
/// one line `fatal: unable to WHAT FILE: ERR`.
fn refused(sock: &Sock, flag: &str, path: &Path, code: i32, what: &str, err: &str) {
    let o = access(
        &bin("s6-ipcserver-access"),
        sock,
        U,
        G,
        &["-v0", flag, path.to_str().unwrap(), "echo", "served"],
        &[],
    );
    let line = format!("s6-ipcserver-access: fatal: unable to {what} {}: {err}\n", path.display());
    assert_eq!(o, (Some(code), String::new(), line), "{flag} {}", path.display());
}

/// A valid cdb allowing the client (uid rule) and everyone else (uid/default).
fn good_cdb(t: &TempDir) -> Vec<u8> {
    let dir = t.join("rules");
    rules(
        &dir,
        &[
            ("uid/4000001/allow", b""),
            ("uid/4000001/env/FOO", b"bar\n"),
            ("gid/4000002/allow", b""),
            ("uid/default/allow", b""),
        ],
    );
    let file = t.join("good.cdb");
    compile(&bin("s6-accessrules-cdb-from-fs"), &file, &dir);
    std::fs::read(&file).unwrap()
}

#[test]
fn truncated_cdb_is_refused_at_every_length() {
    let (t, sock) = setup("broken-trunc");
    let full = good_cdb(&t);
    let cut = t.join("cut.cdb");
    // In-process, every length.
    let opts = AccessOptions { verbosity: 0, localname: Some("x".into()), ..Default::default() };
    for n in 1..full.len() {
        std::fs::write(&cut, &full[..n]).unwrap();
        let d = evaluate(&RuleSource::Cdb(cut.clone()), PeerIds { uid: U, gid: G }, &opts);
        assert!(!d.allow && d.code == 111 && d.log.len() == 1, "length {n}: {d:?}");
    }
    // The program, at a sample of lengths (header, records, tables).
    for n in [1, 100, 2047, 2048, 2049, 2060, full.len() - 100, full.len() - 8, full.len() - 1] {
        std::fs::write(&cut, &full[..n]).unwrap();
        refused(&sock, "-x", &cut, 111, "check cdb ruleset in", "Invalid argument");
    }
    // The whole file works.
    std::fs::write(&cut, &full).unwrap();
    let o = access(
        &bin("s6-ipcserver-access"),
        &sock,
        U,
        G,
        &["-v0", "-x", cut.to_str().unwrap(), "echo", "served"],
        &[],
    );
    assert_eq!(o.1, "served\n");
}

#[test]
fn corrupt_empty_and_missing_cdb() {
    let (t, sock) = setup("broken-cdb");
    let full = good_cdb(&t);
    let f = t.join("bad.cdb");
    std::fs::write(&f, b"").unwrap();
    refused(&sock, "-x", &f, 111, "cdb_init", "Invalid argument");
    refused(&sock, "-x", &t.join("none.cdb"), 111, "cdb_init", "No such file or directory");
    refused(&sock, "-x", t.path(), 111, "cdb_init", "Is a directory");
    // Garbage the size of a real file.
    let garbage: Vec<u8> = (0..full.len()).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&f, &garbage).unwrap();
    refused(&sock, "-x", &f, 111, "check cdb ruleset in", "Invalid argument");
    // A structurally sound file whose rule value is damaged.
    let mut w = s6rs_access::cdbfile::Writer::new();
    w.add(format!("uid/{U}").as_bytes(), b"A\x00\x09FOO=bar\x00\x00\x00").unwrap();
    std::fs::write(&f, w.finish().unwrap()).unwrap();
    refused(&sock, "-x", &f, 111, "check cdb ruleset in", "Invalid argument");
    // An allow whose env part is not NUL-terminated.
    let mut w = s6rs_access::cdbfile::Writer::new();
    w.add(format!("uid/{U}").as_bytes(), b"A\x00\x07FOO=bar\x00\x00").unwrap();
    std::fs::write(&f, w.finish().unwrap()).unwrap();
    refused(&sock, "-x", &f, 111, "check cdb ruleset in", "Invalid argument");
}

#[test]
fn garbage_in_a_rules_directory() {
    let (t, sock) = setup("broken-fs");
    let d = t.join("rulefile");
    rules(&d, &[(&format!("uid/{U}"), b"\x00\x01garbage"), ("uid/default/allow", b"")]);
    refused(&sock, "-i", &d, 111, "check fs ruleset in", "Not a directory");
    let d = t.join("envfile");
    rules(
        &d,
        &[
            (&format!("uid/{U}/allow"), b""),
            (&format!("uid/{U}/env"), b"garbage"),
            ("uid/default/allow", b""),
        ],
    );
    refused(&sock, "-i", &d, 111, "check fs ruleset in", "Not a directory");
    let d = t.join("envsubdir");
    rules(
        &d,
        &[
            (&format!("uid/{U}/allow"), b""),
            (&format!("uid/{U}/env/SUB/x"), b"1"),
            ("uid/default/allow", b""),
        ],
    );
    refused(&sock, "-i", &d, 111, "check fs ruleset in", "Is a directory");
    let d = t.join("execdir");
    rules(
        &d,
        &[(&format!("uid/{U}/allow"), b""), (&format!("uid/{U}/exec/x"), b"1"), ("uid/default/allow", b"")],
    );
    refused(&sock, "-i", &d, 111, "check fs ruleset in", "Is a directory");
    // The rules "directory" is a file, or missing.
    let f = t.join("plain");
    std::fs::write(&f, b"uid/0/allow").unwrap();
    refused(&sock, "-i", &f, 111, "check fs ruleset in", "Not a directory");
    refused(&sock, "-i", &t.join("none"), 111, "check fs ruleset in", "No such file or directory");
}

#[test]
fn unsearchable_rules_directory() {
    let (t, sock) = setup("broken-perm");
    let d = t.join("rules");
    rules(&d, &[("uid/default/allow", b"")]);
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    // Make everything else reachable for the unprivileged run.
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut c = cmd(&bin("s6-ipcserver-access"), &["-v0", "-i", d.to_str().unwrap(), "echo", "served"], &[]);
    for (k, v) in ipc_env(U, G) {
        c.env(k, v);
    }
    if self_ids().0 == 0 {
        // Root searches anything: run as nobody.
        c.uid(65534).gid(65534);
    } else {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let o = outcome_on(c, Some(sock.fd()));
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let line = format!(
        "s6-ipcserver-access: fatal: unable to check fs ruleset in {}: Permission denied\n",
        d.display()
    );
    assert_eq!(o, (Some(111), String::new(), line));
}
