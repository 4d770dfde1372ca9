//! Access control: s6-ipcserver-access, s6-connlimit, the rules compilers, and interop with
//! real s6.

mod broken;
mod cdb_tools;
mod connlimit;
mod inprocess;
mod interop_access;
mod ip_rules;
mod ipcserver_access;
mod nowait;

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// How long any one program run may take.
pub const T: Duration = Duration::from_secs(10);

/// What a run gave: exit code (None if killed), stdout, stderr.
pub type Outcome = (Option<i32>, String, String);

/// The rules both the s6-ipcserver-access tests and the interop matrix start from: one
/// client per verdict path of the uid/gid check (allow with an environment, deny, both,
/// neither, a gid rule with an exec line, a gid deny).
pub const VERDICT_RULES: &[(&str, &[u8])] = &[
    ("uid/4000001/allow", b""),
    ("uid/4000001/env/FOO", b"bar  \nsecond line\n"),
    ("uid/4000001/env/GONE", b""),
    ("uid/4000001/env/NUL", b"a\0b\n"),
    ("uid/4000003/deny", b""),
    ("uid/4000004/allow", b""),
    ("uid/4000004/deny", b""),
    ("uid/4000005/exec", b"echo not a rule\n"),
    ("gid/4000010/allow", b""),
    ("gid/4000010/exec", b"echo from exec\n"),
    ("gid/4000011/deny", b""),
];

/// Writes a rules tree: each `(path, contents)` is a file under `dir`, parents created.
pub fn rules(dir: &Path, files: &[(&str, &[u8])]) {
    std::fs::create_dir_all(dir).unwrap();
    for (path, body) in files {
        let f = dir.join(path);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, body).unwrap();
    }
}

/// A listening Unix socket bound at `path`, to give a program as fd 0.
pub struct Sock {
    pub path: PathBuf,
    listener: UnixListener,
}

impl Sock {
    pub fn bind(path: PathBuf) -> Sock {
        let listener = UnixListener::bind(&path).unwrap();
        Sock { path, listener }
    }

    pub fn fd(&self) -> OwnedFd {
        OwnedFd::from(self.listener.try_clone().unwrap())
    }
}

/// A command with a clean environment: PATH (for `env`, `echo`, `execlineb`) plus `env`.
pub fn cmd(prog: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(prog);
    c.args(args).env_clear().env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs `c` with `stdin` as fd 0 (null if none), bounded by [`T`]; a run that overstays is
/// killed by its pid and fails the test.
pub fn outcome_on(mut c: Command, stdin: Option<OwnedFd>) -> Outcome {
    c.stdin(stdin.map_or_else(Stdio::null, Stdio::from)).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let deadline = Instant::now() + T;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("timed out: {c:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `c` with stdin from /dev/null.
pub fn outcome(c: Command) -> Outcome {
    outcome_on(c, None)
}

/// The environment of a client as s6-ipcserverd gives it, for `uid`:`gid`.
pub fn ipc_env(uid: u32, gid: u32) -> Vec<(String, String)> {
    vec![
        ("PROTO".into(), "IPC".into()),
        ("IPCREMOTEEUID".into(), uid.to_string()),
        ("IPCREMOTEEGID".into(), gid.to_string()),
        ("IPCREMOTEPATH".into(), String::new()),
        ("IPCCONNNUM".into(), "0".into()),
    ]
}

/// Runs s6-ipcserver-access (`prog`: ours or real) for a client `uid`:`gid` with `args`,
/// fd 0 being `sock`, extra environment `extra`.
pub fn access(
    prog: &Path,
    sock: &Sock,
    uid: u32,
    gid: u32,
    args: &[&str],
    extra: &[(&str, &str)],
) -> Outcome {
    let mut c = cmd(prog, args, &[]);
    for (k, v) in ipc_env(uid, gid) {
        c.env(k, v);
    }
    for (k, v) in extra {
        c.env(k, v);
    }
    outcome_on(c, Some(sock.fd()))
}

/// `pid N` replaced by `pid P`, so the lines of two runs compare.
pub fn unpid(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("pid ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push('P');
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// This process's effective ids (what `uid/self` and `gid/self` compare with).
pub fn self_ids() -> (u32, u32) {
    // SAFETY: geteuid/getegid cannot fail.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// Every file and directory under `dir` as sorted `(relative path, mode, contents)`.
pub fn tree(dir: &Path) -> Vec<(String, u32, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, u32, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let mode = md.permissions().mode();
            if md.is_dir() {
                out.push((rel, mode, Vec::new()));
                walk(base, &p, out);
            } else {
                out.push((rel, mode, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Every record of a cdb file, sorted (record order follows readdir, so compare as sets).
pub fn records(file: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let cdb = s6rs_access::cdbfile::Cdb::open(file).unwrap();
    let mut v: Vec<_> = cdb.records().map(|r| r.map(|(k, d)| (k.to_vec(), d.to_vec())).unwrap()).collect();
    v.sort();
    v
}

/// Temp files a compiler left next to `file`.
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(":s6-accessrules-cdb-from-fs:"))
        .collect()
}

/// Compiles `dir` into `file` with `prog` (ours or real), asserting success.
pub fn compile(prog: &Path, file: &Path, dir: &Path) {
    let o = outcome(cmd(prog, &[file.to_str().unwrap(), dir.to_str().unwrap()], &[]));
    assert_eq!(o.0, Some(0), "{} {}: {}", prog.display(), dir.display(), o.2);
}

/// A scratch dir with a bound socket in it.
pub fn setup(tag: &str) -> (TempDir, Sock) {
    let t = TempDir::new(tag);
    let sock = Sock::bind(t.join("sock"));
    (t, sock)
}
