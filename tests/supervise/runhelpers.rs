//! The run-script chain-loaders on their own: s6-envdir, s6-softlimit, s6-setsid,
//! s6-setlock, s6-fghack and s6-background-watch (the last one has no 2.11 counterpart, so it
//! is checked against its 2.15 documentation here). Side-by-side comparisons with Debian's
//! programs are in `interop_runhelpers`.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

pub const T: Duration = Duration::from_secs(10);

/// A command for `prog` with `args`.
pub fn cmd<S: AsRef<OsStr>>(prog: impl AsRef<OsStr>, args: &[S]) -> Command {
    let mut c = Command::new(prog);
    c.args(args);
    c
}

/// Runs to completion: exit code, stdout, stderr.
pub fn outcome(c: Command) -> (Option<i32>, String, String) {
    let o = run(c, T);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The final program of most tests: prints its own stat, status and limits.
pub const PROBE: &[&str] = &["cat", "/proc/self/stat", "/proc/self/status", "/proc/self/limits"];

/// What [`PROBE`] printed about the process that ran it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    pub tpgid: i32,
    pub sig_ign: String,
    pub sig_blk: String,
    pub limits: Vec<String>,
}

impl Probe {
    pub fn parse(out: &str) -> Probe {
        let stat = out.lines().next().expect("stat line");
        let after = &stat[stat.rfind(')').expect("comm") + 2..];
        let f: Vec<i32> = after.split(' ').skip(1).take(5).map(|x| x.parse().expect("stat field")).collect();
        let field = |name: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
                .unwrap_or_else(|| panic!("no {name} in {out}"))
        };
        let limits =
            out.lines().skip_while(|l| !l.starts_with("Limit ")).map(|l| l.trim_end().to_owned()).collect();
        Probe {
            pid: 0,
            ppid: f[0],
            pgrp: f[1],
            session: f[2],
            tpgid: f[4],
            sig_ign: field("SigIgn:"),
            sig_blk: field("SigBlk:"),
            limits,
        }
        .with_pid(stat)
    }

    fn with_pid(mut self, stat: &str) -> Probe {
        self.pid = stat.split(' ').next().and_then(|p| p.parse().ok()).expect("pid");
        self
    }

    /// The limits line for a resource, e.g. "Max open files".
    pub fn limit(&self, name: &str) -> String {
        self.limits.iter().find(|l| l.starts_with(name)).cloned().unwrap_or_else(|| panic!("no limit {name}"))
    }

    /// Soft and hard values of a resource as printed.
    pub fn soft_hard(&self, name: &str) -> (String, String) {
        let l = self.limit(name);
        let mut w = l[name.len()..].split_whitespace();
        (w.next().unwrap().to_owned(), w.next().unwrap().to_owned())
    }
}

/// Runs `c` (whose final program is [`PROBE`]) and parses what it printed; panics with its
/// stderr if it failed.
pub fn probe(c: Command) -> Probe {
    let (code, out, err) = outcome(c);
    assert_eq!(code, Some(0), "probe failed: {err}");
    Probe::parse(&out)
}

/// A command line: `prog args... PROBE`.
pub fn probing(prog: impl AsRef<OsStr>, args: &[&str]) -> Command {
    let mut c = cmd(prog, args);
    c.args(PROBE);
    c
}

/// Reads one line from a child's stdout, waiting at most `timeout`.
pub fn line_within(child: &mut Child, timeout: Duration) -> Option<String> {
    let out = child.stdout.as_mut().expect("piped stdout");
    let fd = out.as_raw_fd();
    let deadline = Instant::now() + timeout;
    let mut line = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, left.as_millis() as i32) };
        if n <= 0 {
            return None;
        }
        let mut b = [0u8; 1];
        match out.read(&mut b) {
            Ok(1) if b[0] == b'\n' => return Some(String::from_utf8_lossy(&line).into_owned()),
            Ok(1) => line.push(b[0]),
            _ => return None,
        }
    }
}

/// A child that reads its stdin until EOF (e.g. a lock holder running `cat`): [`Held::release`]
/// closes the stdin and reaps it; dropping it unreleased (a failed test) kills it by PID.
pub struct Held(Option<Child>);

impl Held {
    /// Starts `c` with piped stdin and stdout.
    pub fn start(mut c: Command) -> Held {
        c.stdin(Stdio::piped()).stdout(Stdio::piped());
        Held(Some(c.spawn().expect("spawn")))
    }

    pub fn pid(&self) -> u32 {
        self.0.as_ref().expect("running").id()
    }

    pub fn line(&mut self, timeout: Duration) -> Option<String> {
        line_within(self.0.as_mut().expect("running"), timeout)
    }

    /// Closes its stdin and reaps it (bounded).
    pub fn release(mut self) {
        let mut child = self.0.take().expect("running");
        drop(child.stdin.take());
        let deadline = Instant::now() + T;
        while child.try_wait().expect("try_wait").is_none() {
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("child {} did not exit after its stdin closed", child.id());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts a lock holder: `prog args... sh -c 'echo ready; exec cat'`, which keeps the lock
/// until its stdin closes. Returns once it said `ready`.
pub fn hold(prog: &Path, args: &[&str]) -> Held {
    let mut c = cmd(prog, args);
    c.args(["sh", "-c", "echo ready; exec cat"]);
    let mut h = Held::start(c);
    assert_eq!(h.line(T).as_deref(), Some("ready"), "holder {args:?} never got the lock");
    h
}

/// A process the test did not start directly (a daemon behind a watcher): killed by PID at
/// drop unless [`Stray::gone`] says it already died.
pub struct Stray(Option<i32>);

impl Stray {
    pub fn new(pid: i32) -> Stray {
        Stray(Some(pid))
    }

    /// The process is known dead (and reaped): its pid may be reused, never kill it.
    pub fn gone(&mut self) {
        self.0 = None;
    }
}

impl Drop for Stray {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            // SAFETY: kill of a pid this test caused to exist and has not seen die.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Reads a pipe until EOF, waiting at most `timeout` in all.
pub fn read_all_within(fd: OwnedFd, timeout: Duration) -> Vec<u8> {
    let deadline = Instant::now() + timeout;
    let mut f = File::from(fd);
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut p = libc::pollfd { fd: f.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, left.as_millis() as i32) };
        assert!(n > 0, "no EOF within {timeout:?}; got {out:?}");
        let mut b = [0u8; 64];
        match f.read(&mut b).expect("read") {
            0 => return out,
            k => out.extend_from_slice(&b[..k]),
        }
    }
}

/// Who holds a conflicting lock on `path`, asked with F_GETLK for `kind`: `(type, pid)`.
pub fn lock_owner(path: &Path, kind: i32) -> Option<(i32, i32)> {
    let f = File::options().read(true).write(true).open(path).expect("open lock file");
    // SAFETY: flock is plain data.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: valid fd and flock pointer.
    let rc = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETLK, &mut fl) };
    assert_eq!(rc, 0, "F_GETLK");
    (i32::from(fl.l_type) != libc::F_UNLCK).then_some((i32::from(fl.l_type), fl.l_pid))
}

/// An envdir with the golden cases of FORMATS.md §0.7 and a few more.
pub fn golden_envdir(t: &TempDir) -> PathBuf {
    let d = t.join("env");
    std::fs::create_dir_all(&d).unwrap();
    let files: &[(&str, &[u8])] = &[
        ("FOO", b"value1  \nsecond line\n"),
        ("EMPTY", b""),
        ("NUL", b"a\0b\n"),
        ("CR", b"x \t\r\n"),
        ("NL", b"\n"),
        ("TAB", b"\tlead\t\n"),
        ("NONL", b"abc"),
        ("HOME", b"/elsewhere\n"),
        (".hidden", b"no\n"),
        ("A=B", b"no\n"),
    ];
    for (n, b) in files {
        std::fs::write(d.join(n), b).unwrap();
    }
    d
}

/// The variables `env -0` printed, as a map.
pub fn env_map(out: &str) -> std::collections::BTreeMap<String, String> {
    out.split('\0')
        .filter(|s| !s.is_empty())
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

// --- s6-envdir ---

#[test]
fn envdir_sets_and_unsets_per_file() {
    let t = TempDir::new("envdir");
    let d = golden_envdir(&t);
    let mut c = cmd(bin("s6-envdir"), &[d.to_str().unwrap(), "env", "-0"]);
    c.env("EMPTY", "was set").env("KEEP", "kept");
    let (code, out, err) = outcome(c);
    assert_eq!(code, Some(0), "{err}");
    let m = env_map(&out);
    assert_eq!(m["FOO"], "value1");
    assert!(!m.contains_key("EMPTY"));
    assert_eq!(m["NUL"], "a\nb");
    assert_eq!(m["CR"], "x");
    assert_eq!(m["NL"], "");
    assert_eq!(m["TAB"], "\tlead");
    assert_eq!(m["NONL"], "abc");
    assert_eq!(m["HOME"], "/elsewhere");
    assert_eq!(m["KEEP"], "kept");
    assert!(!m.contains_key(".hidden") && !m.contains_key("A"));
}

#[test]
fn envdir_options_n_f_l_c() {
    let t = TempDir::new("envdir-opts");
    let d = golden_envdir(&t);
    std::fs::write(d.join("LONG"), vec![b'z'; 5000]).unwrap();
    let ds = d.to_str().unwrap();
    let env = |opts: &[&str]| {
        let mut a: Vec<&str> = opts.to_vec();
        a.extend([ds, "env", "-0"]);
        let (code, out, err) = outcome(cmd(bin("s6-envdir"), &a));
        assert_eq!(code, Some(0), "{err}");
        env_map(&out)
    };
    let m = env(&["-n"]);
    assert_eq!(m["FOO"], "value1  ");
    assert_eq!(m["CR"], "x \t\r");
    let m = env(&["-f"]);
    assert_eq!(m["FOO"], "value1  \nsecond line");
    let m = env(&["-fn"]);
    assert_eq!(m["FOO"], "value1  \nsecond line\n");
    let m = env(&["-c", "_"]);
    assert_eq!(m["NUL"], "a_b");
    let m = env(&["-c_x"]);
    assert_eq!(m["NUL"], "a_b");
    assert_eq!(env(&[])["LONG"].len(), 4095);
    let m = env(&["-L"]);
    assert_eq!(m["LONG"].len(), 5000);
    assert_eq!(m["NONL"], "abc", "the documented -L value, not upstream's empty one");
    let (code, _, err) = outcome(cmd(bin("s6-envdir"), &["-c", "", ds, "true"]));
    assert_eq!(
        (code, err.as_str()),
        (Some(111), format!("s6-envdir: fatal: unable to envdir {ds}: Invalid argument\n").as_str())
    );
}

#[test]
fn envdir_missing_dir_strict_and_loose() {
    let t = TempDir::new("envdir-missing");
    let nd = t.join("nope");
    let nds = nd.to_str().unwrap();
    let (code, _, err) = outcome(cmd(bin("s6-envdir"), &[nds, "true"]));
    assert_eq!(code, Some(111));
    assert_eq!(err, format!("s6-envdir: fatal: unable to envdir {nds}: No such file or directory\n"));
    let (code, _, _) = outcome(cmd(bin("s6-envdir"), &["-i", nds, "true"]));
    assert_eq!(code, Some(111));
    let (code, out, _) = outcome(cmd(bin("s6-envdir"), &["-I", nds, "sh", "-c", "echo ran"]));
    assert_eq!((code, out.as_str()), (Some(0), "ran\n"));
    // -I forgives only a missing directory.
    let f = t.join("file");
    std::fs::write(&f, "x").unwrap();
    let (code, _, err) = outcome(cmd(bin("s6-envdir"), &["-I", f.to_str().unwrap(), "true"]));
    assert_eq!(code, Some(111), "{err}");
    assert!(err.ends_with(": Not a directory\n"), "{err}");
}

#[test]
fn envdir_unreadable_entries_are_fatal() {
    let t = TempDir::new("envdir-bad");
    let d = t.join("env");
    std::fs::create_dir_all(d.join("SUBDIR")).unwrap();
    let ds = d.to_str().unwrap();
    let (code, _, err) = outcome(cmd(bin("s6-envdir"), &["-I", ds, "true"]));
    assert_eq!(
        (code, err),
        (Some(111), format!("s6-envdir: fatal: unable to envdir {ds}: Is a directory\n"))
    );
    std::fs::remove_dir(d.join("SUBDIR")).unwrap();
    // A dangling symlink vanishes between listing and opening: EIDRM, never "no such dir".
    std::os::unix::fs::symlink(t.join("nowhere"), d.join("GONE")).unwrap();
    let (code, _, err) = outcome(cmd(bin("s6-envdir"), &["-I", ds, "true"]));
    assert_eq!(code, Some(111), "{err}");
    assert!(err.ends_with(": Identifier removed\n"), "{err}");
}

#[test]
fn chainloaders_exec_failures_are_127_and_126() {
    let t = TempDir::new("execfail");
    let d = t.join("env");
    std::fs::create_dir_all(&d).unwrap();
    let ds = d.to_str().unwrap();
    let lock = t.join("lock");
    let ls = lock.to_str().unwrap();
    let noexec = t.join("noexec");
    std::fs::write(&noexec, "#!/bin/sh\n").unwrap();
    let ns = noexec.to_str().unwrap();
    let cases: &[(&str, Vec<&str>)] = &[
        ("s6-envdir", vec![ds]),
        ("s6-softlimit", vec!["-o", "100"]),
        ("s6-setsid", vec!["-q"]),
        ("s6-setlock", vec![ls]),
    ];
    for (prog, pre) in cases {
        let mut a = pre.clone();
        a.push("nosuchprog");
        let (code, _, err) = outcome(cmd(bin(prog), &a));
        assert_eq!(code, Some(127), "{prog}");
        assert_eq!(err, format!("{prog}: fatal: unable to exec nosuchprog: No such file or directory\n"));
        let mut a = pre.clone();
        a.push(ns);
        let (code, _, err) = outcome(cmd(bin(prog), &a));
        assert_eq!(code, Some(126), "{prog}");
        assert_eq!(err, format!("{prog}: fatal: unable to exec {ns}: Permission denied\n"));
    }
}

#[test]
fn usage_errors_are_100() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "s6-envdir",
            &["dir"],
            "s6-envdir: usage: s6-envdir [ -I | -i ] [ -n ] [ -f ] [ -L ] [ -c nullis ] dir prog...\n",
        ),
        ("s6-envdir", &["-x", "d", "p"], ""),
        ("s6-softlimit", &["-o", "100"], ""),
        ("s6-softlimit", &["-o", "many", "true"], ""),
        ("s6-softlimit", &["-o", "", "true"], ""),
        (
            "s6-setsid",
            &[],
            "s6-setsid: usage: s6-setsid [ -s | -b | -f | -g ] [ -i | -I | -q ] [ -d ctty ] prog...\n",
        ),
        ("s6-setsid", &["-d", "x", "true"], ""),
        ("s6-setsid", &["-z", "true"], "s6-setsid: fatal: unrecognized short option: z\n"),
        ("s6-setsid", &["--sesion", "true"], "s6-setsid: fatal: unrecognized boolean option: --sesion\n"),
        ("s6-setsid", &["--ctty", "true"], "s6-setsid: fatal: unrecognized boolean option: --ctty\n"),
        ("s6-setsid", &["-P", "true"], "s6-setsid: fatal: unrecognized short option: P\n"),
        (
            "s6-setlock",
            &["file"],
            "s6-setlock: usage: s6-setlock [ -n | -N ] [ -t timeout ] [ -d fd ] [ -r | -w ] file prog...\n",
        ),
        ("s6-setlock", &["-t", "soon", "f", "true"], ""),
        ("s6-setlock", &["-d", "-1", "f", "true"], ""),
        ("s6-fghack", &[], "s6-fghack: usage: s6-fghack prog...\n"),
        (
            "s6-background-watch",
            &["pidfile"],
            "s6-background-watch: usage: s6-background-watch [ -t timeout ] [ -d notif ] pidfile prog...\n",
        ),
        ("s6-background-watch", &["-t", "x", "p", "true"], ""),
        (
            "s6-background-watch",
            &["--timeout-ready", "p", "true"],
            "s6-background-watch: fatal: unrecognized boolean option: --timeout-ready\n",
        ),
        (
            "s6-background-watch",
            &["-d", "2", "p", "true"],
            "s6-background-watch: fatal: notification-fd must be 3 or more\n",
        ),
    ];
    for (prog, args, want) in cases {
        let (code, _, err) = outcome(cmd(bin(prog), args));
        assert_eq!(code, Some(100), "{prog} {args:?}: {err}");
        if !want.is_empty() {
            assert_eq!(&err, want, "{prog} {args:?}");
        }
    }
}

// --- s6-softlimit ---

#[test]
fn softlimit_every_letter() {
    // (option, value, /proc/self/limits names it sets). Values leave room to exec `cat`.
    const G: &str = "1073741824";
    let cases: &[(&str, &str, &[&str])] = &[
        ("-a", G, &["Max address space"]),
        ("-c", "0", &["Max core file size"]),
        ("-d", G, &["Max data size"]),
        ("-f", G, &["Max file size"]),
        ("-l", "65536", &["Max locked memory"]),
        ("-m", G, &["Max data size", "Max stack size", "Max locked memory", "Max address space"]),
        ("-o", "64", &["Max open files"]),
        ("-P", "0", &["Max realtime priority"]),
        ("-p", "1000", &["Max processes"]),
        ("-r", G, &["Max resident set"]),
        ("-s", "4194304", &["Max stack size"]),
        ("-t", "100", &["Max cpu time"]),
    ];
    let before = probe(cmd("cat", &PROBE[1..]));
    for (opt, val, names) in cases {
        let p = probe(probing(bin("s6-softlimit"), &[opt, val]));
        for l in &before.limits[1..] {
            let name = l[..26].trim_end();
            let now = p.limits.iter().find(|x| x.starts_with(name)).unwrap();
            if names.contains(&name) {
                let (soft, hard) = p.soft_hard(name);
                let old_hard = before.soft_hard(name).1;
                let want = match old_hard.parse::<u64>() {
                    Ok(h) => val.parse::<u64>().unwrap().min(h).to_string(),
                    Err(_) => val.to_string(),
                };
                assert_eq!(soft, want, "{opt} {name}");
                assert_eq!(hard, old_hard, "{opt} {name}: hard untouched");
            } else {
                assert_eq!(now, l, "{opt} changed {name}");
            }
        }
    }
}

#[test]
fn softlimit_clamps_to_hard_and_equals_means_hard() {
    let before = probe(cmd("cat", &PROBE[1..]));
    let (_, hard) = before.soft_hard("Max open files");
    let p = probe(probing(bin("s6-softlimit"), &["-o", "99999999999"]));
    assert_eq!(p.soft_hard("Max open files"), (hard.clone(), hard.clone()));
    let p = probe(probing(bin("s6-softlimit"), &["-o", "64", "-o", "="]));
    assert_eq!(p.soft_hard("Max open files"), (hard.clone(), hard.clone()));
    // Options apply in order: -h only affects what follows it.
    let p = probe(probing(bin("s6-softlimit"), &["-o", "64", "-h", "-c", "1000"]));
    assert_eq!(p.soft_hard("Max open files").0, "64");
    assert_eq!(p.soft_hard("Max core file size").1, "1000");
}

#[test]
fn softlimit_hard_options() {
    let p = probe(probing(bin("s6-softlimit"), &["-H", "-o", "300"]));
    assert_eq!(p.soft_hard("Max open files"), ("300".into(), "300".into()));
    let p = probe(probing(bin("s6-softlimit"), &["-h", "-o", "500", "-H", "-c", "="]));
    let (soft, hard) = p.soft_hard("Max open files");
    assert_eq!(hard, "500");
    assert!(soft.parse::<u64>().unwrap() <= 500);
    assert_eq!(p.soft_hard("Max core file size"), ("unlimited".into(), "unlimited".into()));
    // Lowering the hard limit under the soft one lowers the soft one (documented behaviour).
    let p = probe(probing(bin("s6-softlimit"), &["-o", "200", "-h", "-o", "100"]));
    assert_eq!(p.soft_hard("Max open files"), ("100".into(), "100".into()));
    // -h = asks for an infinite hard limit (already infinite here: raising one takes
    // CAP_SYS_RESOURCE); the soft limit stays.
    let p = probe(probing(bin("s6-softlimit"), &["-c", "10", "-h", "-c", "="]));
    assert_eq!(p.soft_hard("Max core file size"), ("10".into(), "unlimited".into()));
}

#[test]
fn softlimit_system_errors_are_111_and_unknown_options_are_skipped() {
    // NOFILE cannot go beyond fs.nr_open, even for root.
    let (code, _, err) = outcome(cmd(bin("s6-softlimit"), &["-H", "-o", "=", "true"]));
    assert_eq!(code, Some(111));
    assert_eq!(err, "s6-softlimit: fatal: unable to setrlimit: Operation not permitted\n");
    let (code, out, _) = outcome(cmd(bin("s6-softlimit"), &["-x", "sh", "-c", "echo ran"]));
    assert_eq!((code, out.as_str()), (Some(0), "ran\n"));
}

// --- s6-setsid ---

#[test]
fn setsid_session_and_background_group() {
    let me = std::process::id() as i32;
    let p = probe(probing(bin("s6-setsid"), &[]));
    assert_eq!((p.session, p.pgrp), (p.pid, p.pid), "default -s: session leader");
    let p = probe(probing(bin("s6-setsid"), &["--session"]));
    assert_eq!((p.session, p.pgrp), (p.pid, p.pid));
    for opt in ["-b", "--background-process-group", "--process-group", "-sb"] {
        let p = probe(probing(bin("s6-setsid"), &[opt]));
        assert_eq!(p.pgrp, p.pid, "{opt}: group leader");
        assert_ne!(p.session, p.pid, "{opt}: not a session leader");
        assert_eq!(p.ppid, me);
    }
    // -b then -s: the last one wins.
    let p = probe(probing(bin("s6-setsid"), &["-b", "-s"]));
    assert_eq!(p.session, p.pid);
    // --foreground alone sets no process-group flag: a session, as upstream's flag table gives.
    let p = probe(probing(bin("s6-setsid"), &["--foreground"]));
    assert_eq!(p.session, p.pid);
}

/// A command that runs as a process-group leader, where setsid() fails with EPERM.
fn as_group_leader(prog: &Path, args: &[&str]) -> Command {
    let mut c = cmd(prog, args);
    c.process_group(0);
    c
}

#[test]
fn setsid_failure_modes_i_big_i_q() {
    let (code, out, err) = outcome(as_group_leader(&bin("s6-setsid"), &["sh", "-c", "echo ran"]));
    assert_eq!((code, out.as_str()), (Some(0), "ran\n"));
    assert_eq!(err, "s6-setsid: warning: unable to setsid: Operation not permitted\n");
    let (code, _, err) = outcome(as_group_leader(&bin("s6-setsid"), &["-i", "true"]));
    assert_eq!(
        (code, err.as_str()),
        (Some(111), "s6-setsid: fatal: unable to setsid: Operation not permitted\n")
    );
    let (code, _, err) = outcome(as_group_leader(&bin("s6-setsid"), &["--strict", "true"]));
    assert_eq!((code, err.is_empty()), (Some(111), false));
    let (code, _, err) = outcome(as_group_leader(&bin("s6-setsid"), &["-q", "true"]));
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let (code, _, err) = outcome(as_group_leader(&bin("s6-setsid"), &["--quiet", "-I", "true"]));
    assert_eq!((code, err.as_str()), (Some(0), ""), "-I does not undo -q");
    // 2.15: -i wins over -q.
    let (code, _, _) = outcome(as_group_leader(&bin("s6-setsid"), &["-i", "-q", "true"]));
    assert_eq!(code, Some(111));
    let (code, _, err) = outcome(as_group_leader(&bin("s6-setsid"), &["-i", "--no-strict", "true"]));
    assert_eq!((code, err.is_empty()), (Some(0), false));
}

/// A pseudo-terminal: the master stays open while the test runs; the slave is the
/// controlling terminal of the commands given it through `setsid -c`.
pub struct Pty {
    // Held open: closing the master would hang up the slave.
    _master: OwnedFd,
    pub slave: PathBuf,
}

impl Pty {
    pub fn new() -> Pty {
        // SAFETY: plain libc pty calls; the name is copied out of libc's buffer at once.
        unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(m >= 0, "posix_openpt");
            assert_eq!(libc::grantpt(m), 0);
            assert_eq!(libc::unlockpt(m), 0);
            let mut buf = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()), 0);
            let name = std::ffi::CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned();
            Pty { _master: OwnedFd::from_raw_fd(m), slave: PathBuf::from(name) }
        }
    }

    /// `setsid -c sh -c SCRIPT` with the slave as stdin: sh leads a session whose
    /// controlling terminal is the pty, and runs SCRIPT in its (foreground) group.
    pub fn session(&self, script: &str) -> Command {
        let slave = File::options().read(true).write(true).open(&self.slave).expect("open pty slave");
        let mut c = cmd("setsid", &["-w", "-c", "sh", "-c", script]);
        c.stdin(slave);
        c
    }

    /// Runs a [`Pty::session`] command and parses its [`PROBE`] output.
    pub fn probe(&self, script: &str) -> Probe {
        let mut c = self.session(script);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn setsid");
        let deadline = Instant::now() + T;
        while child.try_wait().expect("try_wait").is_none() {
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("pty session timed out: {script}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let o = child.wait_with_output().expect("output");
        assert!(o.status.success(), "{script}: {}", String::from_utf8_lossy(&o.stderr));
        Probe::parse(&String::from_utf8_lossy(&o.stdout))
    }
}

#[test]
fn setsid_foreground_groups_take_the_terminal() {
    let pty = Pty::new();
    let b = bin("s6-setsid");
    let b = b.to_str().unwrap();
    // -g ignores SIGTTOU, so a background group may take the terminal; prog inherits that.
    for opt in ["-g", "--foreground-process-group-grab", "--process-group --foreground --grab"] {
        let p = pty.probe(&format!(
            "exec 0</dev/null; {b} {opt} cat /proc/self/stat /proc/self/status /proc/self/limits"
        ));
        assert_eq!((p.pgrp, p.tpgid), (p.pid, p.pid), "{opt}: foreground group leader via /dev/tty");
        assert_ne!(p.session, p.pid);
        let ign = u64::from_str_radix(&p.sig_ign, 16).unwrap();
        assert_ne!(ign & 1 << (libc::SIGTTOU - 1), 0, "{opt}: SIGTTOU stays ignored");
    }
    // -f with -d naming the terminal's fd; the shell ignores SIGTTOU so nothing stops.
    let p = pty.probe(&format!("trap '' TTOU; exec 5<&0 0</dev/null; {b} -f -d 5 cat /proc/self/stat /proc/self/status /proc/self/limits"));
    assert_eq!((p.pgrp, p.tpgid), (p.pid, p.pid));
    let p = pty.probe(&format!("trap '' TTOU; {b} --foreground-process-group --ctty=0 cat /proc/self/stat /proc/self/status /proc/self/limits"));
    assert_eq!((p.pgrp, p.tpgid), (p.pid, p.pid));
    // -b leaves the terminal to the shell's group.
    let p = pty.probe(&format!("{b} -b cat /proc/self/stat /proc/self/status /proc/self/limits"));
    assert_eq!(p.pgrp, p.pid);
    assert_ne!(p.tpgid, p.pid);
}

#[test]
fn setsid_foreground_without_terminal() {
    // No controlling terminal (a fresh session): /dev/tty cannot be opened, which is fatal
    // even without -i.
    let (code, _, err) = outcome(cmd("setsid", &[bin("s6-setsid").to_str().unwrap(), "-f", "true"]));
    assert_eq!(
        (code, err.as_str()),
        (Some(111), "s6-setsid: fatal: unable to open /dev/tty: No such device or address\n")
    );
    // With -d, failures only warn (default -I): a session leader cannot make a process
    // group, and fd 0 is no terminal.
    let (code, out, err) = outcome(cmd(
        "setsid",
        &[bin("s6-setsid").to_str().unwrap(), "-g", "-d", "0", "sh", "-c", "echo ran"],
    ));
    assert_eq!((code, out.as_str()), (Some(0), "ran\n"));
    assert_eq!(
        err,
        "s6-setsid: warning: unable to setpgid: Operation not permitted\ns6-setsid: warning: unable to tcsetpgrp: Inappropriate ioctl for device\n"
    );
}

// --- s6-setlock ---

#[test]
fn setlock_exclusive_and_shared() {
    let t = TempDir::new("setlock");
    let f = t.join("lockfile");
    let fs = f.to_str().unwrap();
    let holder = hold(&bin("s6-setlock"), &[fs]);
    let pid = holder.pid();
    assert_eq!(
        lock_owner(&f, libc::F_RDLCK),
        Some((libc::F_WRLCK, pid as i32)),
        "exclusive, held by prog's pid"
    );
    for opts in [&["-n"][..], &["-n", "-r"], &["-nw"]] {
        let mut a = opts.to_vec();
        a.extend([fs, "true"]);
        let (code, _, err) = outcome(cmd(bin("s6-setlock"), &a));
        assert_eq!(code, Some(1), "{opts:?}");
        assert_eq!(err, format!("s6-setlock: fatal: unable to lock {fs}: Device or resource busy\n"));
    }
    holder.release();
    assert_eq!(lock_owner(&f, libc::F_WRLCK), None, "released with prog");

    let holder = hold(&bin("s6-setlock"), &["-r", fs]);
    assert_eq!(lock_owner(&f, libc::F_WRLCK), Some((libc::F_RDLCK, holder.pid() as i32)));
    let (code, out, _) = outcome(cmd(bin("s6-setlock"), &["-n", "-r", fs, "sh", "-c", "echo shared"]));
    assert_eq!((code, out.as_str()), (Some(0), "shared\n"), "shared locks coexist");
    let (code, _, _) = outcome(cmd(bin("s6-setlock"), &["-n", fs, "true"]));
    assert_eq!(code, Some(1), "exclusive refused while shared is held");
    holder.release();
}

#[test]
fn setlock_opens_like_upstream() {
    let t = TempDir::new("setlock-open");
    let w = t.join("w");
    let r = t.join("r");
    let (code, out, err) =
        outcome(cmd(bin("s6-setlock"), &[w.to_str().unwrap(), "sh", "-c", "grep flags /proc/self/fdinfo/3"]));
    assert_eq!(code, Some(0), "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("flags:\t0104001"), "O_WRONLY|O_NONBLOCK, inherited");
    let (code, out, _) = outcome(cmd(
        bin("s6-setlock"),
        &["-r", r.to_str().unwrap(), "sh", "-c", "grep flags /proc/self/fdinfo/3"],
    ));
    assert_eq!((code, out.as_str()), (Some(0), "flags:\t0104000\n"), "-r creates the file, then reads");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&r).unwrap().permissions().mode() & 0o777, 0o644);
    let (code, _, err) = outcome(cmd(bin("s6-setlock"), &[t.join("no/such").to_str().unwrap(), "true"]));
    assert_eq!(code, Some(111));
    assert!(
        err.contains(": fatal: unable to open ")
            && err.ends_with(" for writing: No such file or directory\n"),
        "{err}"
    );
}

#[test]
fn setlock_timeout_and_blocking() {
    let t = TempDir::new("setlock-wait");
    let f = t.join("lockfile");
    let fs = f.to_str().unwrap();
    let holder = hold(&real("s6-setlock"), &[fs]);

    let start = Instant::now();
    let (code, _, err) = outcome(cmd(bin("s6-setlock"), &["-t", "300", fs, "true"]));
    let took = start.elapsed();
    assert_eq!((code, err), (Some(1), format!("s6-setlock: fatal: lock {fs}: timed out\n")));
    assert!(took >= Duration::from_millis(290) && took < Duration::from_secs(5), "{took:?}");
    // -n wins over -t: no waiting.
    let start = Instant::now();
    let (code, _, _) = outcome(cmd(bin("s6-setlock"), &["-t", "5000", "-n", fs, "true"]));
    assert_eq!(code, Some(1));
    assert!(start.elapsed() < Duration::from_secs(3));

    // Blocking (the default, and -N): waits until the holder goes, then runs prog.
    let mut waiter = Held::start(cmd(bin("s6-setlock"), &["-n", "-N", fs, "sh", "-c", "echo got; exec cat"]));
    assert_eq!(waiter.line(Duration::from_millis(300)), None, "must block while held");
    holder.release();
    assert_eq!(waiter.line(T).as_deref(), Some("got"));
    assert_eq!(lock_owner(&f, libc::F_RDLCK), Some((libc::F_WRLCK, waiter.pid() as i32)));
    waiter.release();

    // With -t and the lock free at once: the timer is disarmed before exec, so prog outlives
    // the timeout (SIGALRM's default action would kill it).
    let (code, out, _) =
        outcome(cmd(bin("s6-setlock"), &["-t", "100", fs, "sh", "-c", "sleep 0.4; echo alive"]));
    assert_eq!((code, out.as_str()), (Some(0), "alive\n"));
}

#[test]
fn setlock_timeout_while_waiting_then_prog_keeps_inherited_alarm_state() {
    let t = TempDir::new("setlock-alrm");
    let f = t.join("lockfile");
    let fs = f.to_str().unwrap();
    let b = bin("s6-setlock");
    // A parent that ignores SIGALRM: after our timed wait, prog still has it ignored.
    let script = format!(
        "trap '' ALRM; exec {} -t 2000 {fs} cat /proc/self/stat /proc/self/status /proc/self/limits",
        b.display()
    );
    let p = probe(cmd("sh", &["-c", &script]));
    let ign = u64::from_str_radix(&p.sig_ign, 16).unwrap();
    assert_ne!(ign & 1 << (libc::SIGALRM - 1), 0);
    let p = probe(probing(&b, &["-t", "2000", fs]));
    let ign = u64::from_str_radix(&p.sig_ign, 16).unwrap();
    assert_eq!(ign & 1 << (libc::SIGALRM - 1), 0);
}

#[test]
fn setlock_d_pins_the_fd_and_keeps_the_lock() {
    let t = TempDir::new("setlock-d");
    let f = t.join("lockfile");
    let fs = f.to_str().unwrap();
    for fd in ["3", "7", "12"] {
        let holder = hold(&bin("s6-setlock"), &["-d", fd, fs]);
        let pid = holder.pid();
        let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert_eq!(link, f, "-d {fd}");
        assert_eq!(lock_owner(&f, libc::F_RDLCK), Some((libc::F_WRLCK, pid as i32)), "-d {fd}: still locked");
        holder.release();
    }
    // Only the pinned fd: no second copy of the lock file leaks.
    let (code, out, _) = outcome(cmd(
        bin("s6-setlock"),
        &["-d", "9", fs, "sh", "-c", "ls -l /proc/self/fd | grep -c lockfile"],
    ));
    assert_eq!((code, out.as_str()), (Some(0), "1\n"));
}

#[test]
fn setlock_supervise_lock_fd_form() {
    // s6-supervise 2.15 runs `s6-setlock -d FD -- supervise/service-lock ./run NAME` in the
    // service directory.
    let t = TempDir::new("setlock-svc");
    let svc = t.join("svc");
    std::fs::create_dir_all(svc.join("supervise")).unwrap();
    script(&svc.join("run"), "#!/bin/sh\necho \"$1 $(readlink /proc/self/fd/4)\"\nexec cat\n");
    let mut c = cmd(bin("s6-setlock"), &["-d", "4", "--", "supervise/service-lock", "./run", "svc"]);
    c.current_dir(&svc);
    let mut child = Held::start(c);
    let lockf = svc.join("supervise/service-lock");
    let line = child.line(T).expect("run started");
    assert_eq!(line, format!("svc {}", lockf.display()));
    assert_eq!(lock_owner(&lockf, libc::F_RDLCK), Some((libc::F_WRLCK, child.pid() as i32)));
    // A second instance of the service cannot start while the first holds the lock.
    let mut c = cmd(bin("s6-setlock"), &["-n", "-d", "4", "--", "supervise/service-lock", "./run", "svc"]);
    c.current_dir(&svc);
    assert_eq!(outcome(c).0, Some(1));
    child.release();
}

// --- s6-fghack ---

#[test]
fn fghack_relays_status_and_catches_writes() {
    let warn = "s6-fghack: warning: this program is obsolescent, use s6-background-watch instead\n";
    let count = "ls /proc/self/fd | wc -l";
    let (_, base, _) = outcome(cmd("sh", &["-c", count]));
    let (code, out, err) = outcome(cmd(bin("s6-fghack"), &["sh", "-c", &format!("{count}; exit 3")]));
    assert_eq!(code, Some(3));
    assert_eq!(err, warn);
    // 31 copies of the hack pipe's write end, as upstream gives (the pipe and 30 dups).
    assert_eq!(out.trim().parse::<usize>().unwrap(), base.trim().parse::<usize>().unwrap() + 31);
    let (code, _, err) = outcome(cmd(bin("s6-fghack"), &["sh", "-c", "echo x >&9"]));
    assert_eq!((code, err), (Some(102), format!("{warn}s6-fghack: fatal: sh wrote on hackpipe\n")));
    let (code, _, _) = outcome(cmd(bin("s6-fghack"), &["sh", "-c", "kill -KILL $$"]));
    assert_eq!(code, Some(137), "2.15: 128 + signal");
    let (code, _, err) = outcome(cmd(bin("s6-fghack"), &["nosuchprog"]));
    assert_eq!(
        (code, err),
        (
            Some(111),
            format!("{warn}s6-fghack: fatal: unable to spawn nosuchprog: No such file or directory\n")
        )
    );
}

#[test]
fn fghack_waits_for_a_daemon_that_kept_the_pipe() {
    let t = TempDir::new("fghack");
    let pidf = t.join("pid");
    let mut tree = Tree::new();
    // The parent exits 4 at once; its background child keeps the pipe copies until it is
    // killed, and fghack waits for that.
    let body = format!("sh -c 'echo $$ > {}; exec sleep 100' & exit 4", pidf.display());
    let mut c = cmd(bin("s6-fghack"), &["sh", "-c", &body]);
    c.stderr(Stdio::null());
    let fg = tree.spawn(c);
    assert!(wait_until(T, || std::fs::read_to_string(&pidf).is_ok_and(|s| s.ends_with('\n'))));
    let daemon: i32 = std::fs::read_to_string(&pidf).unwrap().trim().parse().unwrap();
    let mut stray = Stray::new(daemon);
    assert!(tree.wait_exit(fg, Duration::from_millis(200)).is_none(), "fghack left while the daemon lives");
    // SAFETY: kill of a pid this test started.
    unsafe { libc::kill(daemon, libc::SIGTERM) };
    let st = tree.wait_exit(fg, T).expect("fghack exits once the daemon is gone");
    assert_eq!(st.code(), Some(4));
    // The daemon is an orphan reaped by init: it is gone once its pipe copies closed, but
    // it may linger as a zombie for a moment, which SIGKILL cannot hurt.
    stray.gone();
}

// --- s6-background-watch ---

/// A self-backgrounding daemon script: the daemon runs `setup`, then writes its pid to
/// `pidfile`, then runs `body`. Whatever must hold once the pid is known (signal traps) goes
/// in `setup`: the watcher relays signals as soon as it has read the pidfile.
fn forking_daemon(t: &TempDir, pidfile: &Path, setup: &str, body: &str, parent_exit: i32) -> PathBuf {
    let p = t.join("daemon");
    let pf = pidfile.display();
    script(
        &p,
        &format!(
            "#!/bin/sh\nsh -c '{setup} echo $$ > {pf}.tmp && mv {pf}.tmp {pf}; {body}' </dev/null &\nwhile ! [ -s {pf} ]; do sleep 0.01; done\nexit {parent_exit}\n"
        ),
    );
    p
}

fn read_pid(p: &Path) -> i32 {
    std::fs::read_to_string(p).unwrap().trim().parse().unwrap()
}

/// Starts `s6-background-watch -d 3 ARGS...` and waits for its readiness newline (written
/// once it has read the pidfile). Returns its pid and the daemon's.
fn start_watch(tree: &mut Tree, dir: &Path, args: &[&str], pidfile: &Path) -> (u32, Stray) {
    let (r, wfd) = s6rs_sys::fd::pipe().unwrap();
    let mut c = cmd(bin("s6-background-watch"), &["-d", "3"]);
    c.args(args).current_dir(dir);
    let raw = wfd.as_raw_fd();
    // SAFETY: dup2 in the child before exec; async-signal-safe.
    unsafe {
        c.pre_exec(
            move || if libc::dup2(raw, 3) == 3 { Ok(()) } else { Err(std::io::Error::last_os_error()) },
        );
    }
    let bw = tree.spawn(c);
    drop(wfd);
    // One newline, then EOF: the watcher closes the fd after writing.
    assert_eq!(read_all_within(r, T), b"\n");
    (bw, Stray::new(read_pid(pidfile)))
}

#[test]
fn background_watch_follows_the_daemon_and_relays_signals() {
    let t = TempDir::new("bgw");
    let pidf = t.join("pid");
    let d = forking_daemon(
        &t,
        &pidf,
        "trap \"exit 7\" TERM; trap \"echo hup >> hups\" HUP;",
        "while :; do sleep 0.05; done",
        0,
    );
    let mut tree = Tree::new();
    let (bw, mut stray) =
        start_watch(&mut tree, t.path(), &[pidf.to_str().unwrap(), d.to_str().unwrap()], &pidf);
    let daemon = read_pid(&pidf);
    // The daemon is now our watcher's child (subreaper).
    let stat = std::fs::read_to_string(format!("/proc/{daemon}/stat")).unwrap();
    let ppid: u32 = stat[stat.rfind(')').unwrap() + 2..].split(' ').nth(1).unwrap().parse().unwrap();
    assert_eq!(ppid, bw);
    tree.signal(bw, libc::SIGHUP);
    assert!(wait_until(T, || std::fs::read_to_string(t.join("hups")).is_ok_and(|s| s == "hup\n")));
    assert!(tree.wait_exit(bw, Duration::from_millis(100)).is_none());
    tree.signal(bw, libc::SIGTERM);
    let st = tree.wait_exit(bw, T).expect("watcher exits with the daemon");
    assert_eq!(st.code(), Some(7));
    stray.gone();
}

#[test]
fn background_watch_daemon_killed_is_128_plus_signal() {
    let t = TempDir::new("bgw-kill");
    let pidf = t.join("pid");
    let d = forking_daemon(&t, &pidf, "", "exec sleep 100", 0);
    let mut tree = Tree::new();
    let (bw, mut stray) = start_watch(
        &mut tree,
        t.path(),
        &["--timeout-ready=5000", pidf.to_str().unwrap(), d.to_str().unwrap()],
        &pidf,
    );
    let daemon = read_pid(&pidf);
    // SAFETY: kill of a pid this test started (through the watcher).
    unsafe { libc::kill(daemon, libc::SIGKILL) };
    assert_eq!(tree.wait_exit(bw, T).expect("exit").code(), Some(137));
    stray.gone();
}

#[test]
fn background_watch_parent_failures() {
    let t = TempDir::new("bgw-fail");
    let pidf = t.join("pid");
    let ps = pidf.to_str().unwrap();
    // The parent exits non-zero: its code, and the pidfile is removed.
    let d = forking_daemon(&t, &pidf, "", "exit 0", 5);
    let (code, _, err) = outcome(cmd(bin("s6-background-watch"), &[ps, d.to_str().unwrap()]));
    assert_eq!(
        (code, err),
        (Some(5), format!("s6-background-watch: fatal: {} (parent) exited 5\n", d.display()))
    );
    assert!(!pidf.exists());
    // Killed parent: 128 + signal.
    let (code, _, err) = outcome(cmd(bin("s6-background-watch"), &[ps, "sh", "-c", "kill -TERM $$"]));
    assert_eq!(
        (code, err.as_str()),
        (Some(143), "s6-background-watch: fatal: sh (parent) crashed with signal 15\n")
    );
    // Missing or bad pidfile: 104.
    let (code, _, err) = outcome(cmd(bin("s6-background-watch"), &[ps, "true"]));
    assert_eq!(
        (code, err),
        (
            Some(104),
            format!("s6-background-watch: fatal: true (parent) exited but pidfile {ps} does not exist\n")
        )
    );
    std::fs::write(&pidf, "not a pid\n").unwrap();
    let (code, _, err) = outcome(cmd(bin("s6-background-watch"), &[ps, "true"]));
    assert_eq!(
        (code, err),
        (Some(104), format!("s6-background-watch: fatal: pidfile {ps} does not contain a valid pid\n"))
    );
    // A pid that does not exist.
    std::fs::write(&pidf, "999999999\n").unwrap();
    let (code, _, err) = outcome(cmd(bin("s6-background-watch"), &[ps, "true"]));
    assert_eq!(
        (code, err.as_str()),
        (
            Some(111),
            "s6-background-watch: fatal: unable to check daemon with a null signal: No such process\n"
        )
    );
    // Spawn failure.
    let (code, _, _) = outcome(cmd(bin("s6-background-watch"), &[ps, "nosuchprog"]));
    assert_eq!(code, Some(127));
    // A closed notification fd.
    let (code, _, err) = outcome(cmd(bin("s6-background-watch"), &["-d", "9", ps, "true"]));
    assert_eq!(
        (code, err.as_str()),
        (Some(111), "s6-background-watch: fatal: unable to check notification-fd: Bad file descriptor\n")
    );
}

#[test]
fn background_watch_timeout_kills_the_parent() {
    let t = TempDir::new("bgw-timeout");
    let pidf = t.join("pid");
    let start = Instant::now();
    let (code, _, err) =
        outcome(cmd(bin("s6-background-watch"), &["-t", "200", pidf.to_str().unwrap(), "sleep", "100"]));
    assert_eq!(code, Some(137));
    assert!(start.elapsed() >= Duration::from_millis(190) && start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        err,
        "s6-background-watch: warning: sleep (parent) did not exit within timeout-ready: killing it\ns6-background-watch: fatal: sleep (parent) crashed with signal 9\n"
    );
}
