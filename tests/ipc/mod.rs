//! The super-server tools (s6-ipcserver and its chain, s6-ipcclient, s6-ioconnect) and the
//! uid/gid chain-loaders: our programs, and interop with Debian's s6 2.11.

mod interop_ipc;
mod server;
mod tools;
mod uidgid;

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use crate::support::*;

/// The bound on every wait in these tests.
pub const T: Duration = Duration::from_secs(10);

/// A minimal, fixed environment for servers, so that handler environments compare.
pub const BASE_ENV: &[(&str, &str)] = &[("PATH", "/usr/bin:/bin"), ("S6RS_TEST", "ipc")];

/// Which implementation of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    Ours,
    Real,
}

impl Impl {
    pub fn path(self, name: &str) -> PathBuf {
        match self {
            Impl::Ours => bin(name),
            Impl::Real => real(name),
        }
    }
}

/// Waits until `fd` is readable, at most `timeout`: whether it is.
pub fn readable(fd: &impl AsRawFd, timeout: Duration) -> bool {
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, timeout.as_millis() as i32) };
    n > 0
}

/// A running server: its pid, the socket path, and its stderr as a stream of lines.
pub struct Server {
    pub tree: Tree,
    pub pid: u32,
    pub path: PathBuf,
    lines: Receiver<String>,
    /// Every stderr line seen so far.
    pub seen: Vec<String>,
    /// How many of `seen` an `expect` has already matched or passed over.
    cursor: usize,
}

impl Server {
    /// Starts `argv`, a command line that binds `path` and ends in a server run with `-1`
    /// (its stdout is a pipe), and waits for the readiness newline.
    pub fn start<S: AsRef<OsStr>>(path: &Path, argv: &[S]) -> Server {
        Server::start_with(path, argv, |_| {})
    }

    /// [`Server::start`], with a chance to adjust the command (environment, uid).
    pub fn start_with<S: AsRef<OsStr>>(path: &Path, argv: &[S], adjust: impl FnOnce(&mut Command)) -> Server {
        let mut c = Command::new(argv[0].as_ref());
        c.args(&argv[1..]).env_clear().envs(BASE_ENV.iter().copied());
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        adjust(&mut c);
        let mut tree = Tree::new();
        let mut child = c.spawn().expect("spawn server");
        let pid = child.id();
        let mut out: ChildStdout = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        tree.add(child);
        assert!(readable(&out, T), "server {argv0:?} never became ready", argv0 = argv[0].as_ref());
        let mut nl = [0u8; 2];
        let n = out.read(&mut nl).expect("read readiness");
        assert_eq!(&nl[..n], b"\n", "readiness line");
        Server { tree, pid, path: path.to_owned(), lines, seen: Vec::new(), cursor: 0 }
    }

    /// Connects a client.
    pub fn connect(&self) -> UnixStream {
        let s = UnixStream::connect(&self.path).expect("connect");
        s.set_read_timeout(Some(T)).expect("timeout");
        s
    }

    /// Connects, reads until the handler closes the connection, and returns what it wrote.
    pub fn request(&self) -> String {
        read_all(self.connect())
    }

    /// Waits for a stderr line satisfying `pred`, after the last one an earlier call matched,
    /// and returns it.
    pub fn expect_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        if let Some(i) = self.seen[self.cursor..].iter().position(|l| pred(l)) {
            self.cursor += i + 1;
            return self.seen[self.cursor - 1].clone();
        }
        self.cursor = self.seen.len();
        let deadline = Instant::now() + T;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    self.cursor = self.seen.len();
                    if pred(&l) {
                        return l;
                    }
                }
                Err(_) => panic!("no stderr line {what}; saw {:#?}", self.seen),
            }
        }
    }

    /// Waits for the line `line` exactly.
    pub fn expect(&mut self, line: &str) {
        self.expect_line(line, |l| l == line);
    }

    /// Every stderr line until the server exits (it must exit within the bound).
    pub fn drain(&mut self) -> Vec<String> {
        let deadline = Instant::now() + T;
        while let Ok(l) = self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            self.seen.push(l);
        }
        self.seen.clone()
    }

    /// Signals the server.
    pub fn signal(&self, sig: i32) {
        self.tree.signal(self.pid, sig);
    }

    /// Waits for the server to exit: its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        self.tree.wait_exit(self.pid, T).expect("server did not exit").code()
    }
}

/// Reads a stream to EOF (bounded by its read timeout).
pub fn read_all(mut s: UnixStream) -> String {
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read from server");
    out
}

/// Reads one line from a stream (byte by byte, so nothing after it is consumed).
pub fn read_line(s: &mut UnixStream) -> String {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match s.read(&mut b) {
            Ok(1) if b[0] != b'\n' => line.push(b[0]),
            Ok(_) => break,
            // A signal for the test process (a child's end) is no reason to fail.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read line: {e:?}"),
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// Our server chain: `s6-ipcserver-socketbinder path s6-ipcserverd -1 dopts... prog...`.
pub fn chain(imp: Impl, path: &Path, dopts: &[&str], prog: &[&str]) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![
        imp.path("s6-ipcserver-socketbinder").into(),
        path.into(),
        imp.path("s6-ipcserverd").into(),
        "-1".into(),
    ];
    v.extend(dopts.iter().map(OsString::from));
    v.extend(prog.iter().map(OsString::from));
    v
}

/// Whether process `pid` exists.
pub fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Waits (bounded) for `pid` to be gone or a zombie. Handlers are the server's children,
/// not ours, so there is no exit event to wait on from here: /proc is polled.
pub fn wait_gone(pid: i32) -> bool {
    wait_until(T, || !alive(pid) || zombie(pid))
}

fn zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')))
        .unwrap_or(true)
}
