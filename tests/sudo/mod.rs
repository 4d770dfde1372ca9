//! s6-sudo, s6-sudoc and s6-sudod: ours end to end, bad input against the server, the
//! s6-rs argument policy and audit trail, and interop with Debian's s6 2.11 both ways.

mod badinput;
mod interop_sudo;
mod policy;
mod programs;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub use crate::ipc::{alive, chain, wait_gone, Impl, Server, T};
pub use crate::support::*;

/// The environment every server and client starts with.
pub const PATH: (&str, &str) = ("PATH", "/usr/bin:/bin");

/// A sudo server: `s6-ipcserver-socketbinder` + `s6-ipcserverd -1 -v2` of `ipc`, running
/// `s6-sudod` of `sudod` with `opts` and `sargv`, in the environment `env` (plus PATH).
pub fn server(
    t: &TempDir,
    ipc: Impl,
    sudod: Impl,
    opts: &[&str],
    sargv: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let path = t.join("sock");
    let mut prog: Vec<String> = vec![sudod.path("s6-sudod").display().to_string()];
    prog.extend(opts.iter().map(|s| s.to_string()));
    prog.extend(sargv.iter().map(|s| s.to_string()));
    let prog: Vec<&str> = prog.iter().map(String::as_str).collect();
    let argv = chain(ipc, &path, &["-v2"], &prog);
    server_argv(&path, &argv, env)
}

/// Starts a server command line that binds `path` and signals readiness on stdout.
pub fn server_argv(path: &Path, argv: &[OsString], env: &[(&str, &str)]) -> Server {
    let env: Vec<(String, String)> = env.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    Server::start_with(path, argv, move |c| {
        c.env_clear().env(PATH.0, PATH.1).envs(env);
    })
}

/// Runs `argv` as a client with `env` (plus PATH), `stdin` as its input, to completion.
pub fn client(argv: &[OsString], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..]).env_clear().env(PATH.0, PATH.1).envs(env.iter().copied());
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn client");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("write client stdin");
    drop(input);
    finish(child)
}

/// Waits (bounded) for a client started with piped output, and collects it.
pub fn finish(child: Child) -> Output {
    crate::support::wait_output(child, T, "client")
}

/// `s6-sudo` of `imp` with `opts`, the socket, and `args`.
pub fn sudo(imp: Impl, opts: &[&str], sock: &Path, args: &[&str]) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![imp.path("s6-sudo").into()];
    v.extend(opts.iter().map(OsString::from));
    v.push(sock.into());
    v.extend(args.iter().map(OsString::from));
    v
}

/// `s6-ipcclient` of `ipc` running `s6-sudoc` of `sudoc`: the chain s6-sudo stands for.
pub fn sudoc(ipc: Impl, sudoc: Impl, opts: &[&str], sock: &Path, args: &[&str]) -> Vec<OsString> {
    let mut v: Vec<OsString> =
        vec![ipc.path("s6-ipcclient").into(), sock.into(), sudoc.path("s6-sudoc").into()];
    v.extend(opts.iter().map(OsString::from));
    v.extend(args.iter().map(OsString::from));
    v
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The output's exit code, stdout and stderr.
pub fn parts(o: &Output) -> (Option<i32>, String, String) {
    (o.status.code(), text(&o.stdout), text(&o.stderr))
}

/// Waits for the server to log the end of a handler (s6-sudod) with `how`
/// (`exitcode N` or `signal N`) and for its connection count to go back to zero: the
/// s6-sudod that served the last client is gone.
pub fn expect_end(s: &mut Server, how: &str) {
    let suffix = format!(" {how}");
    s.expect_line(how, |l| l.contains(": info: end pid ") && l.ends_with(&suffix));
}

/// A raw client: connected, the banner read and checked.
pub fn raw(s: &Server) -> UnixStream {
    let mut c = s.connect();
    let mut b = [0u8; 15];
    c.read_exact(&mut b).expect("read banner");
    assert_eq!(&b, b"s6-sudo b v1.0\n");
    c
}

/// Sends `payload` as one unixmessage with `nfds` fds (copies of /dev/null).
pub fn send_msg(c: &UnixStream, payload: &[u8], nfds: usize) {
    let null = std::fs::File::open("/dev/null").expect("open /dev/null");
    let fds: Vec<_> = (0..nfds).map(|_| null.as_fd()).collect();
    let far = s6rs_sys::deadline::Deadline::from_ms(10_000);
    s6rs_ipc::fdpass::send(c.as_fd(), payload, &fds, far).expect("send request");
}

/// Reads what the server sends until it closes (bounded by the stream's read timeout).
pub fn rest(mut c: UnixStream) -> Vec<u8> {
    let mut v = Vec::new();
    c.read_to_end(&mut v).expect("read until EOF");
    v
}

/// A scratch marker path that a server program creates if it ever runs.
pub fn marker(t: &TempDir) -> PathBuf {
    t.join("ran-mark")
}

/// A server command line that creates `marker` when it runs, then runs its arguments.
pub fn marking(marker: &Path) -> Vec<String> {
    vec!["sh".into(), "-c".into(), format!("touch {}; exec \"$@\"", marker.display()), "x".into()]
}
