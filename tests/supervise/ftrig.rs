//! Fifodirs and ftrig: s6-mkfifodir, s6-cleanfifodir, s6-ftrig-notify, s6-ftrig-wait,
//! s6-ftrig-listen1 and s6-ftrig-listen, ours against each other (2.15 behaviour).

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::clients_util::{err, ours, out, T};
use crate::support::*;

/// A program running in the background with its output captured; killed by PID if the
/// test ends before it does.
pub struct Bg {
    child: Option<Child>,
}

impl Bg {
    /// Starts `cmd` with stdout and stderr piped.
    pub fn start(mut cmd: Command) -> Bg {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        Bg { child: Some(cmd.spawn().expect("spawn")) }
    }

    /// Waits (bounded) for the program to exit and returns its output.
    pub fn finish(mut self) -> Output {
        let mut child = self.child.take().expect("child");
        let deadline = Instant::now() + T;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut o = Output { status, stdout: Vec::new(), stderr: Vec::new() };
                child.stdout.take().map(|mut s| s.read_to_end(&mut o.stdout));
                child.stderr.take().map(|mut s| s.read_to_end(&mut o.stderr));
                return o;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("background program did not exit within {T:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The live listener fifos in a fifodir.
pub fn listeners(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    let n = e.file_name();
                    n.len() == 39 && n.as_encoded_bytes().starts_with(b"ftrig1:@")
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `n` listeners are subscribed to `dir`: a listener started in the background
/// has no other way to say that it is ready.
pub fn wait_listeners(dir: &Path, n: usize) {
    assert!(wait_until(T, || listeners(dir).len() >= n), "no listener appeared in {}", dir.display());
}

fn cmd<S: AsRef<OsStr>>(prog: &Path, args: &[S]) -> Command {
    let mut c = Command::new(prog);
    c.args(args);
    c
}

fn fifodir(t: &TempDir, name: &str) -> PathBuf {
    let d = t.join(name);
    let o = ours("s6-mkfifodir", &[&d]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    d
}

#[test]
fn mkfifodir_public_restricted_and_force() {
    let t = TempDir::new("mkfifodir");
    let d = fifodir(&t, "pub");
    assert_eq!(mode(&d), 0o1733);
    // An existing fifodir is left alone without -f.
    let o = ours("s6-mkfifodir", &[OsStr::new("-g"), OsStr::new("1"), d.as_os_str()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(mode(&d), 0o1733);
    let o = ours("s6-mkfifodir", &[OsStr::new("-f"), OsStr::new("-g1"), d.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(mode(&d), 0o3730);
    assert_eq!(std::fs::metadata(&d).unwrap().gid(), 1);

    let o = ours::<&str>("s6-mkfifodir", &[]);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(err(&o), "s6-mkfifodir: usage: s6-mkfifodir [ -f ] [ -g gid ] fifodir\n");
    assert_eq!(ours("s6-mkfifodir", &["-g", "daemon", "x"]).status.code(), Some(100));
    let o = ours("s6-mkfifodir", &[t.join("no/such/dir")]);
    assert_eq!(o.status.code(), Some(111));
    assert!(err(&o).starts_with("s6-mkfifodir: fatal: unable to create fifodir at "), "{}", err(&o));
}

#[test]
fn notify_wait_round_trip_prints_the_whole_sequence() {
    let t = TempDir::new("ftrig-rt");
    let d = fifodir(&t, "fd");
    // The pattern only matches across several writes; 2.15 prints everything read.
    let w = Bg::start(cmd(&bin("s6-ftrig-wait"), &[d.as_os_str(), OsStr::new("a.*c")]));
    wait_listeners(&d, 1);
    assert_eq!(ours("s6-ftrig-notify", &[d.as_os_str(), OsStr::new("xab")]).status.code(), Some(0));
    assert_eq!(ours("s6-ftrig-notify", &[d.as_os_str(), OsStr::new("cd")]).status.code(), Some(0));
    let o = w.finish();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "xabcd\n");
    // The listener unsubscribed on its way out.
    assert!(listeners(&d).is_empty());

    // Anchors apply to the sequence read since the subscription.
    let w = Bg::start(cmd(&bin("s6-ftrig-wait"), &[d.as_os_str(), OsStr::new("^s.*u$")]));
    wait_listeners(&d, 1);
    ours("s6-ftrig-notify", &[d.as_os_str(), OsStr::new("sU")]);
    ours("s6-ftrig-notify", &[d.as_os_str(), OsStr::new("du")]);
    assert_eq!(out(&w.finish()), "sUdu\n");
}

#[test]
fn wait_timeouts_and_errors() {
    let t = TempDir::new("ftrig-to");
    let d = fifodir(&t, "fd");
    let o = ours("s6-ftrig-wait", &[OsStr::new("-t"), OsStr::new("100"), d.as_os_str(), OsStr::new("z")]);
    assert_eq!(o.status.code(), Some(99));
    assert_eq!(err(&o), "s6-ftrig-wait: fatal: unable to match regexp on z: Connection timed out\n");
    assert!(out(&o).is_empty());
    let o = ours("s6-ftrig-wait", &[OsStr::new("--timeout=100"), d.as_os_str(), OsStr::new("z")]);
    assert_eq!(o.status.code(), Some(99));
    let o = ours("s6-ftrig-wait", &[OsStr::new("-t"), OsStr::new("x"), d.as_os_str(), OsStr::new("z")]);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(err(&o), "s6-ftrig-wait: fatal: timeout must be an unsigned integer\n");
    assert_eq!(ours("s6-ftrig-wait", &[OsStr::new("--timeout"), d.as_os_str()]).status.code(), Some(100));
    assert_eq!(ours("s6-ftrig-wait", &[d.as_os_str()]).status.code(), Some(100));
    // A bad pattern is EINVAL, as upstream's helper reports it, and leaves no fifo.
    let o = ours("s6-ftrig-wait", &[d.as_os_str(), OsStr::new("[z-a]")]);
    assert_eq!(o.status.code(), Some(111));
    assert!(err(&o).ends_with("with regexp [z-a]: Invalid argument\n"), "{}", err(&o));
    assert!(listeners(&d).is_empty());
    let o = ours("s6-ftrig-wait", &[t.join("nope").as_os_str(), OsStr::new("a")]);
    assert_eq!(o.status.code(), Some(111));
    assert!(err(&o).contains("No such file or directory"), "{}", err(&o));
}

#[test]
fn notify_without_listeners_and_on_missing_dir() {
    let t = TempDir::new("ftrig-notify");
    let d = fifodir(&t, "fd");
    assert_eq!(ours("s6-ftrig-notify", &[d.as_os_str(), OsStr::new("abc")]).status.code(), Some(0));
    let o = ours("s6-ftrig-notify", &[t.join("nope").as_os_str(), OsStr::new("a")]);
    assert_eq!(o.status.code(), Some(111));
    assert!(err(&o).starts_with("s6-ftrig-notify: fatal: unable to notify "), "{}", err(&o));
    assert_eq!(ours("s6-ftrig-notify", &[d.as_os_str()]).status.code(), Some(100));
}

#[test]
fn cleanfifodir_removes_only_stale_fifos() {
    let t = TempDir::new("cleanfifodir");
    let d = fifodir(&t, "fd");
    let w = Bg::start(cmd(&bin("s6-ftrig-wait"), &[d.as_os_str(), OsStr::new("q")]));
    wait_listeners(&d, 1);
    let live = listeners(&d);
    // A fifo left by a listener that was killed: the right name, nobody reading.
    let stale = d.join("ftrig1:@400000006b04da63357c621b:s_6QAe");
    let c = std::ffi::CString::new(stale.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo on a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let o = ours("s6-cleanfifodir", &[&d]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(!stale.exists(), "2.15 removes stale fifos");
    assert_eq!(listeners(&d), live);
    ours("s6-ftrig-notify", &[d.as_os_str(), OsStr::new("q")]);
    assert_eq!(out(&w.finish()), "q\n");

    assert_eq!(ours("s6-cleanfifodir", &[t.join("nope")]).status.code(), Some(111));
    assert_eq!(ours::<&str>("s6-cleanfifodir", &[]).status.code(), Some(100));
}

#[test]
fn listen1_spawns_a_notifier_after_subscribing() {
    let t = TempDir::new("listen1");
    let d = fifodir(&t, "fd");
    let notify = bin("s6-ftrig-notify");
    let o = ours(
        "s6-ftrig-listen1",
        &[
            OsStr::new("-t5000"),
            d.as_os_str(),
            OsStr::new("U"),
            notify.as_os_str(),
            d.as_os_str(),
            OsStr::new("suU"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "suU\n");

    // Timeout: exit 1; the child is not waited for.
    let o = ours(
        "s6-ftrig-listen1",
        &[OsStr::new("--timeout=200"), d.as_os_str(), OsStr::new("U"), OsStr::new("true")],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(err(&o), "s6-ftrig-listen1: fatal: unable to get expected event: Connection timed out\n");
    let o = ours("s6-ftrig-listen1", &[d.as_os_str(), OsStr::new("U")]);
    assert_eq!(o.status.code(), Some(100));
    let o = ours("s6-ftrig-listen1", &[d.as_os_str(), OsStr::new("U"), OsStr::new("/nonexistent/prog")]);
    assert_eq!(o.status.code(), Some(111));
    assert!(err(&o).contains("unable to spawn /nonexistent/prog"), "{}", err(&o));
    assert!(listeners(&d).is_empty());
}

#[test]
fn listen_and_or() {
    let t = TempDir::new("listen");
    let a = fifodir(&t, "a");
    let b = fifodir(&t, "b");
    let notify = bin("s6-ftrig-notify");
    let both = format!("{n} {a} x; {n} {b} y", n = notify.display(), a = a.display(), b = b.display());
    let only_a = format!("{n} {a} x", n = notify.display(), a = a.display());
    let listen = |opts: &[&str], body: &str, block: &[&OsStr]| {
        let mut args: Vec<&OsStr> = opts.iter().map(OsStr::new).collect();
        args.extend_from_slice(block);
        args.extend([OsStr::new(""), OsStr::new("sh"), OsStr::new("-c"), OsStr::new(body)]);
        ours("s6-ftrig-listen", &args)
    };
    let block = [a.as_os_str(), OsStr::new("x"), b.as_os_str(), OsStr::new("y")];
    let o = listen(&["-t5000"], &both, &block);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).is_empty());
    // -a (the default) needs both.
    let o = listen(&["-a", "-t", "300"], &only_a, &block);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(err(&o), "s6-ftrig-listen: fatal: unable to get expected event: Connection timed out\n");
    // -o is satisfied by one; long options too.
    assert_eq!(listen(&["-o", "-t5000"], &only_a, &block).status.code(), Some(0));
    assert_eq!(listen(&["--or", "--timeout=5000"], &only_a, &block).status.code(), Some(0));
    assert_eq!(listen(&["--or", "--and", "--timeout=300"], &only_a, &block).status.code(), Some(1));
}

#[test]
fn listen_block_encoding() {
    let t = TempDir::new("listen-block");
    let a = fifodir(&t, "a");
    let notify = bin("s6-ftrig-notify");
    // execlineb's strict form: each block word starts with a space.
    let spaced = format!(" {}", a.display());
    let prog = [notify.as_os_str(), a.as_os_str(), OsStr::new("x")];
    let run_listen = |block: &[&OsStr], strict: Option<&str>| {
        let mut c = Command::new(bin("s6-ftrig-listen"));
        c.arg("-t5000").args(block).arg("").args(prog);
        match strict {
            Some(s) => c.env("EXECLINE_STRICT", s),
            None => c.env_remove("EXECLINE_STRICT"),
        };
        run(c, T)
    };
    let o = run_listen(&[OsStr::new(&spaced), OsStr::new(" x")], Some("2"));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // Unquoted words: accepted, warned about, or fatal.
    let plain = [a.as_os_str(), OsStr::new("x")];
    let o = run_listen(&plain, None);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(o.stderr.is_empty());
    let o = run_listen(&plain, Some("1"));
    assert_eq!(o.status.code(), Some(0));
    assert!(err(&o).contains("s6-ftrig-listen: warning: unquoted argument"), "{}", err(&o));
    let o = run_listen(&plain, Some("2"));
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(
        err(&o),
        format!("s6-ftrig-listen: fatal: unquoted argument {} at block 1 position 0\n", a.display())
    );

    // An odd or empty block, no prog, or no terminator: 100.
    let l = |args: &[&OsStr]| ours("s6-ftrig-listen", args);
    let (d, e, x, p) = (a.as_os_str(), OsStr::new(""), OsStr::new("x"), OsStr::new("true"));
    assert_eq!(l(&[d, x, d, e, p]).status.code(), Some(100));
    assert_eq!(l(&[e, p, p, p]).status.code(), Some(100));
    assert_eq!(l(&[d, x, d, x, e]).status.code(), Some(100));
    assert_eq!(l(&[d, x, d, x]).status.code(), Some(100));
    let o = l(&[d, x, d, x, d]);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(err(&o), "s6-ftrig-listen: fatal: unterminated fifodir+regex block\n");
}
