//! s6-accessrules-cdb-from-fs and s6-accessrules-fs-from-cdb: the encoding, modes, atomic
//! replacement, failures, and the fs → cdb → fs round trip.

use std::path::Path;

use super::*;
use crate::support::*;

/// The rule set dumped in FORMATS.md §7.2 from a cdb made by s6 2.11.3.2.
pub fn golden(dir: &Path) {
    rules(
        dir,
        &[
            ("uid/self/allow", b""),
            ("uid/1000/deny", b""),
            ("uid/0/allow", b""),
            ("uid/0/env/FOO", b"value1  \nsecond line\n"),
            ("uid/0/env/EMPTY", b""),
            ("uid/0/env/NUL", b"a\0b\n"),
            ("uid/0/exec", b"echo hi\n"),
            ("uid/default/deny", b""),
            ("ip4/127.0.0.1_32/allow", b""),
            ("gid/100/allow", b""),
            ("gid/100/env/S6_FDHOLDER_LIST", b"x\n"),
            // Neither allow nor deny: not stored.
            ("gid/200/exec", b"echo nothing\n"),
            // Dot entries are skipped at both levels.
            (".hidden/1/allow", b""),
            ("uid/.2/allow", b""),
        ],
    );
}

fn from_fs(args: &[&str]) -> Outcome {
    outcome(cmd(&bin("s6-accessrules-cdb-from-fs"), args, &[]))
}

fn to_fs(args: &[&str]) -> Outcome {
    outcome(cmd(&bin("s6-accessrules-fs-from-cdb"), args, &[]))
}

#[test]
fn encoding_matches_the_golden_dump() {
    let t = TempDir::new("cdb-golden");
    let dir = t.join("rules");
    golden(&dir);
    let file = t.join("rules.cdb");
    compile(&bin("s6-accessrules-cdb-from-fs"), &file, &dir);
    let got = records(&file);
    let env0 = b"FOO=value1\0EMPTY\0NUL=a\nb\0";
    let mut uid0 = vec![b'A', 0, env0.len() as u8];
    uid0.extend_from_slice(env0);
    uid0.extend_from_slice(b"\0\x08echo hi\n");
    // Envdir order follows readdir: compare uid/0's env as a set.
    let mut want: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (b"uid/self".to_vec(), b"A\0\0\0\0".to_vec()),
        (b"uid/1000".to_vec(), b"D".to_vec()),
        (b"uid/default".to_vec(), b"D".to_vec()),
        (b"ip4/127.0.0.1_32".to_vec(), b"A\0\0\0\0".to_vec()),
        (b"gid/100".to_vec(), b"A\0\x13S6_FDHOLDER_LIST=x\0\0\0".to_vec()),
    ];
    let (u0, rest): (Vec<_>, Vec<_>) = got.into_iter().partition(|(k, _)| k == b"uid/0");
    let mut rest = rest;
    want.sort();
    rest.sort();
    assert_eq!(rest, want);
    let v = &u0[0].1;
    assert_eq!(v.len(), uid0.len());
    assert_eq!(&v[..3], &uid0[..3]);
    let items = |b: &[u8]| {
        let mut i: Vec<Vec<u8>> = b.split(|&c| c == 0).map(<[u8]>::to_vec).collect();
        i.sort();
        i
    };
    assert_eq!(items(&v[3..3 + env0.len()]), items(env0));
    assert_eq!(&v[3 + env0.len()..], b"\0\x08echo hi\n");
}

#[test]
fn modes_and_atomic_replacement() {
    let t = TempDir::new("cdb-modes");
    let dir = t.join("rules");
    golden(&dir);
    let file = t.join("rules.cdb");
    let f = file.to_str().unwrap();
    let d = dir.to_str().unwrap();
    std::fs::write(&file, b"old contents").unwrap();
    assert_eq!(from_fs(&[f, d]).0, Some(0));
    assert_eq!(mode(&file), 0o600);
    assert_ne!(std::fs::read(&file).unwrap(), b"old contents");
    assert_eq!(from_fs(&["-m", "0644", f, d]).0, Some(0));
    assert_eq!(mode(&file), 0o644);
    // The mode is exact, not filtered by the umask.
    assert_eq!(from_fs(&["--mode=4751", f, d]).0, Some(0));
    assert_eq!(mode(&file), 0o4751);
    assert_eq!(from_fs(&["-m640", f, d]).0, Some(0));
    assert_eq!(mode(&file), 0o640);
    assert!(leftovers(t.path()).is_empty());
    let o = from_fs(&["-m", "8", f, d]);
    assert_eq!(
        (o.0, o.2.as_str()),
        (Some(100), "s6-accessrules-cdb-from-fs: fatal: mode needs to be an unsigned integer (in octal)\n")
    );
    let o = from_fs(&[f]);
    assert_eq!(
        (o.0, o.2.as_str()),
        (
            Some(100),
            "s6-accessrules-cdb-from-fs: usage: s6-accessrules-cdb-from-fs [ -m mode ] cdbfile dir\n"
        )
    );
}

#[test]
fn compile_failures_leave_nothing_behind() {
    let t = TempDir::new("cdb-fail");
    let file = t.join("out.cdb");
    let f = file.to_str().unwrap();
    let fail = |dir: &Path, code: i32, msg: String| {
        let o = from_fs(&[f, dir.to_str().unwrap()]);
        assert_eq!((o.0, o.2), (Some(code), msg), "{}", dir.display());
        assert!(!file.exists());
        assert!(leftovers(t.path()).is_empty());
    };
    let p = |d: &Path| d.display().to_string();
    let none = t.join("none");
    fail(
        &none,
        111,
        format!(
            "s6-accessrules-cdb-from-fs: fatal: unable to opendir {}: No such file or directory\n",
            p(&none)
        ),
    );
    let d = t.join("classfile");
    rules(&d, &[("uid", b"")]);
    fail(
        &d,
        111,
        format!("s6-accessrules-cdb-from-fs: fatal: unable to opendir {}/uid: Not a directory\n", p(&d)),
    );
    let d = t.join("rulefile");
    rules(&d, &[("uid/0", b"")]);
    fail(
        &d,
        111,
        format!(
            "s6-accessrules-cdb-from-fs: fatal: unable to access {}/uid/0/allow: Not a directory\n",
            p(&d)
        ),
    );
    let d = t.join("envfile");
    rules(&d, &[("uid/0/allow", b""), ("uid/0/env", b"")]);
    fail(
        &d,
        111,
        format!("s6-accessrules-cdb-from-fs: fatal: unable to envdir {}/uid/0/env: Not a directory\n", p(&d)),
    );
    let d = t.join("bigenv");
    let big = vec![b'x'; 1000];
    rules(
        &d,
        &[
            ("uid/0/allow", b""),
            ("uid/0/env/A", &big),
            ("uid/0/env/B", &big),
            ("uid/0/env/C", &big),
            ("uid/0/env/D", &big),
            ("uid/0/env/E", &big),
        ],
    );
    fail(&d, 100, format!("s6-accessrules-cdb-from-fs: fatal: {}/uid/0/env too big\n", p(&d)));
    let d = t.join("execdir");
    rules(&d, &[("uid/0/allow", b"")]);
    std::fs::create_dir(d.join("uid/0/exec")).unwrap();
    fail(
        &d,
        111,
        format!(
            "s6-accessrules-cdb-from-fs: fatal: unable to openreadnclose {}/uid/0/exec: Is a directory\n",
            p(&d)
        ),
    );
}

#[test]
fn long_exec_is_truncated_with_a_warning() {
    let t = TempDir::new("cdb-longexec");
    let d = t.join("rules");
    rules(&d, &[("uid/0/allow", b""), ("uid/0/exec", &vec![b'y'; 5000])]);
    let file = t.join("r.cdb");
    let o = from_fs(&[file.to_str().unwrap(), d.to_str().unwrap()]);
    assert_eq!(o.0, Some(0));
    assert_eq!(
        o.2,
        format!("s6-accessrules-cdb-from-fs: warning: possibly truncated file {}/uid/0/exec\n", d.display())
    );
    let r = records(&file);
    assert_eq!(r[0].1.len(), 5 + 4096);
}

#[test]
fn round_trip_fs_cdb_fs() {
    let t = TempDir::new("cdb-roundtrip");
    // A canonical tree (what the decompiler writes): empty allow/deny, env values ending
    // in a newline, empty files for unsets, directories 02755 or as the parent gives.
    let dir = t.join("rules");
    rules(
        &dir,
        &[
            ("uid/0/allow", b""),
            ("uid/0/env/FOO", b"value1\n"),
            ("uid/0/env/EMPTY", b""),
            ("uid/0/exec", b"echo hi\n"),
            ("uid/1000/deny", b""),
            ("gid/100/allow", b""),
            ("ip6/::_0/deny", b""),
            ("reversedns/@/allow", b""),
        ],
    );
    let file = t.join("r.cdb");
    compile(&bin("s6-accessrules-cdb-from-fs"), &file, &dir);
    let back = t.join("back");
    let o = to_fs(&[back.to_str().unwrap(), file.to_str().unwrap()]);
    assert_eq!(o.0, Some(0), "{}", o.2);
    // Same files, same contents (modes: directories 02755 less what mkdir drops).
    let strip = |v: Vec<(String, u32, Vec<u8>)>| {
        v.into_iter().map(|(p, m, c)| (p, m & 0o170000, c)).collect::<Vec<_>>()
    };
    assert_eq!(strip(tree(&back)), strip(tree(&dir)));
    for (p, m, _) in tree(&back) {
        let want = if back.join(&p).is_dir() { 0o755 } else { 0o666 & !umask() };
        assert_eq!(m & 0o777, want, "{p}");
    }
    // And compiling the decompiled tree gives the same records.
    let again = t.join("again.cdb");
    compile(&bin("s6-accessrules-cdb-from-fs"), &again, &back);
    assert_eq!(records(&again), records(&file));
    // The target must not exist.
    let o = to_fs(&[back.to_str().unwrap(), file.to_str().unwrap()]);
    assert_eq!(
        (o.0, o.2),
        (
            Some(111),
            format!("s6-accessrules-fs-from-cdb: fatal: unable to mkdir {}: File exists\n", back.display())
        )
    );
}

/// This process's umask, read without changing it (tests run in parallel threads).
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line[6..].trim(), 8).unwrap()
}

#[test]
fn decompile_failures_remove_the_tree() {
    let t = TempDir::new("cdb-badfs");
    let out = t.join("out");
    let o = to_fs(&[out.to_str().unwrap(), t.join("none.cdb").to_str().unwrap()]);
    assert_eq!(
        (o.0, o.2.as_str()),
        (Some(111), "s6-accessrules-fs-from-cdb: fatal: unable to cdb_init: No such file or directory\n")
    );
    assert!(!out.exists());
    // A valid record then an invalid one: what was written goes too.
    let mut w = s6rs_access::cdbfile::Writer::new();
    w.add(b"uid/0", b"A\0\0\0\0").unwrap();
    w.add(b"uid/1", b"A\0\x09FOO=bar\0\0\0").unwrap();
    let bad = t.join("bad.cdb");
    std::fs::write(&bad, w.finish().unwrap()).unwrap();
    let o = to_fs(&[out.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(
        (o.0, o.2),
        (Some(111), format!("s6-accessrules-fs-from-cdb: fatal: unable to handle cdb record: {} does not contain valid accessrules data\n", bad.display()))
    );
    assert!(!out.exists());
    // A truncated file.
    let good = t.join("good.cdb");
    let dir = t.join("rules");
    golden(&dir);
    compile(&bin("s6-accessrules-cdb-from-fs"), &good, &dir);
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&bad, &bytes[..2048 + 20]).unwrap();
    let o = to_fs(&[out.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(
        (o.0, o.2.as_str()),
        (Some(111), "s6-accessrules-fs-from-cdb: fatal: unable to cdb_traverse_next: invalid cdb\n")
    );
    assert!(!out.exists());
    // A key that would escape the tree.
    let mut w = s6rs_access::cdbfile::Writer::new();
    w.add(b"uid/../../escape", b"D").unwrap();
    std::fs::write(&bad, w.finish().unwrap()).unwrap();
    assert_eq!(to_fs(&[out.to_str().unwrap(), bad.to_str().unwrap()]).0, Some(111));
    assert!(!out.exists() && !t.path().parent().unwrap().join("escape").exists());
}
