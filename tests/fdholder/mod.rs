//! The fd holder: our s6-fdholderd (through s6-fdholder-daemon) and its clients, every
//! request and error code, the daemon's limits and signals, bad input, and interop with
//! Debian's s6 2.11 both ways.

mod daemon;
mod interop;
mod listenfds;
mod malformed;
mod zero_downtime;

use std::ffi::OsString;
pub use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};

use s6rs_fdholder::client::Client;
use s6rs_sys::deadline::Deadline;

pub use crate::ipc::{Impl, Server, T};
use crate::support::*;

/// Every right, for a rule that should allow everything.
pub const ALL: &[(&str, &str)] = &[
    ("S6_FDHOLDER_STORE_REGEX", "."),
    ("S6_FDHOLDER_RETRIEVE_REGEX", "."),
    ("S6_FDHOLDER_LIST", "1"),
    ("S6_FDHOLDER_GETDUMP", "1"),
    ("S6_FDHOLDER_SETDUMP", "1"),
];

/// Writes a rules directory at `dir` allowing every uid with the environment `env`
/// (files with these contents, a newline added unless the value is empty).
pub fn rules(dir: &Path, env: &[(&str, &str)]) {
    let rule = dir.join("uid/default");
    std::fs::create_dir_all(rule.join("env")).expect("mkdir rules");
    std::fs::write(rule.join("allow"), "").expect("allow");
    for (k, v) in env {
        let body = if v.is_empty() { String::new() } else { format!("{v}\n") };
        std::fs::write(rule.join("env").join(k), body).expect("env file");
    }
}

/// Starts an fd-holder daemon (`imp`'s s6-fdholder-daemon, `-1`, then `opts`) on `t/NAME`,
/// with a rules directory granting `env` unless `opts` names rules itself.
pub fn daemon(imp: Impl, t: &TempDir, name: &str, env: &[(&str, &str)], opts: &[&str]) -> Server {
    let path = t.join(name);
    let mut argv: Vec<OsString> = vec![imp.path("s6-fdholder-daemon").into(), "-1".into()];
    argv.extend(opts.iter().map(OsString::from));
    if !opts.iter().any(|o| *o == "-i" || *o == "-x") {
        let r = t.join(&format!("{name}.rules"));
        rules(&r, env);
        argv.extend(["-i".into(), r.into()]);
    }
    argv.push(path.clone().into());
    Server::start(&path, &argv)
}

/// What a client program did: exit code, stdout, stderr.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub out: String,
    pub err: String,
}

/// Runs `imp`'s `prog args...`, stdin from /dev/null, bounded.
pub fn tool(imp: Impl, prog: &str, args: &[&str]) -> Ran {
    tool_with(imp, prog, args, |_| {})
}

/// [`tool`], with a chance to adjust the command first.
pub fn tool_with(imp: Impl, prog: &str, args: &[&str], adjust: impl FnOnce(&mut Command)) -> Ran {
    let mut c = Command::new(imp.path(prog));
    c.args(args).env_clear().env("PATH", "/usr/bin:/bin");
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    adjust(&mut c);
    let o = run_as_set(c);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ran { code: o.status.code(), out: text(&o.stdout), err: text(&o.stderr) }
}

/// Runs `cmd` to completion (bounded by [`T`]) with the stdio it was given.
fn run_as_set(mut cmd: Command) -> std::process::Output {
    let mut child = cmd.spawn().expect("spawn");
    // Our copies of its stdio (a stored pipe's read end) must not outlive the spawn.
    drop(cmd);
    let deadline = std::time::Instant::now() + T;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("output");
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("command timed out; stderr: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Stores a fresh pipe's read end (through `imp`'s s6-fdholder-store) under `id`: the
/// write end, to check later that what comes back is the same pipe.
pub fn store_pipe(imp: Impl, path: &Path, id: &str, extra: &[&str]) -> (Ran, OwnedFd) {
    let (r, w) = s6rs_sys::fd::pipe().expect("pipe");
    let mut args: Vec<&str> = extra.to_vec();
    let p = path.to_str().expect("utf-8 path");
    args.extend([p, id]);
    let ran = tool_with(imp, "s6-fdholder-store", &args, |c| {
        c.stdin(Stdio::from(r));
    });
    (ran, w)
}

/// `s6-fdholder-list` output as a list of lines (asserting success).
pub fn list(imp: Impl, path: &Path) -> Vec<String> {
    let r = tool(imp, "s6-fdholder-list", &[path.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "list: {}", r.err);
    let mut v: Vec<String> = r.out.lines().map(str::to_owned).collect();
    v.sort();
    v
}

/// Retrieves `id` with `imp`'s s6-fdholder-retrieve into `head -c N` and returns what it
/// read, after `msg` was written into `w` (the write end of the stored pipe).
pub fn retrieve_reads(imp: Impl, path: &Path, id: &str, w: &OwnedFd, msg: &str) -> Ran {
    s6rs_sys::fd::write_all(w.as_fd(), msg.as_bytes()).expect("write into the pipe");
    let n = msg.len().to_string();
    tool(imp, "s6-fdholder-retrieve", &[path.to_str().unwrap(), id, "head", "-c", &n])
}

/// An in-process client connected to `path`.
pub fn client(path: &Path) -> Client {
    Client::connect(path, Deadline::from_ms(T.as_millis() as u64)).expect("connect to the daemon")
}

/// A raw connection, for messages no client would send.
pub fn raw(path: &Path) -> UnixStream {
    let s = UnixStream::connect(path).expect("connect");
    s.set_read_timeout(Some(T)).expect("timeout");
    s
}

/// Whether the daemon closed `s` (EOF) rather than answering.
pub fn closed_by_daemon(s: &mut UnixStream) -> bool {
    use std::io::Read;
    let mut b = [0u8; 64];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => return false,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return e.raw_os_error() == Some(libc::ECONNRESET),
        }
    }
}

/// The s6 errno text of a refused operation, as the tools print it.
pub fn refused(prog: &str, what: &str, text: &str) -> String {
    format!("{prog}: fatal: unable to {what}: {text}\n")
}
