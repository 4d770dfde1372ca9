//! s6-ipcserverd on its own (behind our s6-ipcserver-socketbinder): the handler's
//! environment, IPCCONNNUM, the -c and -C limits under concurrent clients, readiness,
//! signals, log lines, clients that vanish and a thousand clients at once.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use super::*;

/// A handler that reports its connection number and pid, then holds the connection open
/// until the client closes it.
const HOLD: &[&str] = &["sh", "-c", "echo $IPCCONNNUM $$; exec cat >/dev/null"];

fn server(t: &TempDir, dopts: &[&str], prog: &[&str]) -> Server {
    let path = t.join("sock");
    Server::start(&path, &chain(Impl::Ours, &path, dopts, prog))
}

/// Connects and reads the `HOLD` handler's line: (IPCCONNNUM, handler pid).
fn hold(s: &Server) -> (UnixStream, String, i32) {
    let mut c = s.connect();
    let line = read_line(&mut c);
    let (num, pid) = line.split_once(' ').unwrap_or_else(|| panic!("bad handler line {line:?}"));
    (c, num.to_owned(), pid.parse().expect("pid"))
}

#[test]
fn handler_environment_is_exact() {
    let t = TempDir::new("ipcd-env");
    let s = server(&t, &[], &["env"]);
    let env = s.request();
    let want = "PATH=/usr/bin:/bin\nS6RS_TEST=ipc\nPROTO=IPC\nIPCREMOTEEUID=0\nIPCREMOTEEGID=0\nIPCCONNNUM=0\nIPCREMOTEPATH=\n";
    assert_eq!(env, want);
}

#[test]
fn no_lookup_unsets_ids_and_empties_the_count() {
    let t = TempDir::new("ipcd-envp");
    let s = server(&t, &["-P"], &["env"]);
    assert_eq!(s.request(), "PATH=/usr/bin:/bin\nS6RS_TEST=ipc\nPROTO=IPC\nIPCCONNNUM=\nIPCREMOTEPATH=\n");
}

#[test]
fn remote_path_is_the_clients_bound_path_and_fds_0_1_are_the_socket() {
    let t = TempDir::new("ipcd-rpath");
    let list = "echo $IPCREMOTEPATH; for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done";
    let s = server(&t, &[], &["sh", "-c", list]);
    let cli = t.join("client");
    let mut c = Command::new(bin("s6-ipcclient"));
    c.arg("-p").arg(&cli).arg(&s.path).args(["sh", "-c", "cat <&6"]);
    let o = run(c, T);
    let out = String::from_utf8_lossy(&o.stdout);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(cli.to_str().unwrap()));
    let fds: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    // 0 and 1 are the same socket, and none of the server's own fds (listening socket,
    // signalfd, epoll) leaks into the handler. (Fds the test process itself inherited
    // without close-on-exec do pass through, as they would under upstream.)
    let sock0 = fds.iter().find(|l| l.starts_with("0 ")).expect("fd 0");
    assert!(sock0.contains("socket:["), "{fds:?}");
    assert_eq!(sock0[2..], fds.iter().find(|l| l.starts_with("1 ")).expect("fd 1")[2..]);
    let others = fds.iter().filter(|l| !l.starts_with("0 ") && !l.starts_with("1 "));
    assert!(others.clone().all(|l| !l.contains("socket:") && !l.contains("anon_inode")), "{fds:?}");
}

#[test]
fn connnum_counts_the_connections_before_this_one() {
    let t = TempDir::new("ipcd-num");
    let mut s = server(&t, &["-v2"], HOLD);
    let held: Vec<_> = (0..3).map(|_| hold(&s)).collect();
    let nums: Vec<&str> = held.iter().map(|h| h.1.as_str()).collect();
    assert_eq!(nums, ["0", "1", "2"]);
    s.expect("s6-ipcserverd: info: status: 3/40");
    drop(held);
    s.expect("s6-ipcserverd: info: status: 0/40");
    assert_eq!(hold(&s).1, "0");
}

#[test]
fn maxconn_full_leaves_clients_in_the_backlog() {
    let t = TempDir::new("ipcd-maxc");
    let mut s = server(&t, &["-v2", "-c", "2"], HOLD);
    let a = hold(&s);
    let b = hold(&s);
    assert_eq!((a.1.as_str(), b.1.as_str()), ("0", "1"));
    s.expect("s6-ipcserverd: info: status: 2/2");
    // The third connects (the kernel queues it) but nobody serves it while full.
    let mut c = s.connect();
    assert!(!readable(&c, Duration::from_millis(300)), "served beyond -c 2");
    assert!(!s.seen.iter().any(|l| l.contains("deny")));
    drop(a);
    let line = read_line(&mut c);
    assert!(line.starts_with("1 "), "{line}");
    s.expect_line("a third allow", |l| l.contains(" count 2/2"));
}

#[test]
fn localmaxconn_denies_the_same_uid_at_every_verbosity_but_not_others() {
    let t = TempDir::new("ipcd-maxC");
    let mut s = server(&t, &["-v0", "-c", "10", "-C", "2"], HOLD);
    let _a = hold(&s);
    let _b = hold(&s);
    // Over the per-uid limit: accepted and closed at once.
    assert_eq!(s.request(), "");
    s.expect("s6-ipcserverd: info: deny 0:0 count 2/2");
    // Another uid still gets in, counted from 0.
    let mut c = Command::new(bin("s6-ipcclient"));
    c.arg(&s.path).args(["sh", "-c", "read l <&6; echo \"$l\""]).uid(65534).gid(65534);
    let o = run(c, T);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("0 "), "nobody's connection: {out:?} {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn stdin_must_be_a_socket_and_usage() {
    // (With -1 and fd 1 closed upstream exits 100; Rust's runtime opens /dev/null on a
    // closed fd 1 before main, so ours cannot see it and writes its newline there.)
    let o = run(cmd(bin("s6-ipcserverd"), &["true"]), T);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "s6-ipcserverd: fatal: stdin is not a socket\n");
    let o = run(cmd(bin("s6-ipcserverd"), &["-c"]), T);
    assert_eq!(o.status.code(), Some(100));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("s6-ipcserverd: usage: s6-ipcserverd "));
}

#[test]
fn a_socket_that_is_not_listening_is_trouble() {
    let t = TempDir::new("ipcd-nolisten");
    let path = t.join("sock");
    let mut c = Command::new(bin("s6-ipcserver-socketbinder"));
    c.args(["-b", "0"]).arg(&path).arg(bin("s6-ipcserverd")).arg("true");
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "s6-ipcserverd: fatal: trouble with socket\n");
}

#[test]
fn sigterm_exits_at_once_and_leaves_handlers_running() {
    let t = TempDir::new("ipcd-term");
    let mut s = server(&t, &["-v2"], HOLD);
    let (c, _, pid) = hold(&s);
    s.tree.adopt(pid);
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(), Some(0));
    assert!(alive(pid), "the handler must survive the server");
    // The handler holds the server's stderr: the lines end once it is gone too.
    drop(c);
    assert!(wait_gone(pid));
    let lines = s.drain();
    assert!(lines.ends_with(&[
        "s6-ipcserverd: info: received SIGTERM, quitting".to_owned(),
        "s6-ipcserverd: info: exiting".to_owned()
    ]));
}

#[test]
fn sighup_terminates_handlers_and_keeps_serving() {
    let t = TempDir::new("ipcd-hup");
    let mut s = server(&t, &["-v2"], HOLD);
    let held: Vec<_> = (0..2).map(|_| hold(&s)).collect();
    s.signal(libc::SIGHUP);
    s.expect("s6-ipcserverd: info: received SIGHUP, sending SIGTERM+SIGCONT to all connections");
    let mut ends: Vec<String> =
        (0..2).map(|_| s.expect_line("an end line", |l| l.contains(" end pid "))).collect();
    let mut want: Vec<String> =
        held.iter().map(|h| format!("s6-ipcserverd: info: end pid {} uid 0 signal 15", h.2)).collect();
    ends.sort();
    want.sort();
    assert_eq!(ends, want);
    s.expect("s6-ipcserverd: info: status: 0/40");
    assert_eq!(hold(&s).1, "0");
}

#[test]
fn sigquit_terminates_handlers_and_exits() {
    let t = TempDir::new("ipcd-quit");
    let mut s = server(&t, &["-v2"], HOLD);
    let (_c, _, pid) = hold(&s);
    s.tree.adopt(pid);
    s.signal(libc::SIGQUIT);
    assert_eq!(s.wait_exit(), Some(0));
    assert!(s.drain().contains(
        &"s6-ipcserverd: info: received SIGQUIT, sending SIGTERM+SIGCONT to all connections and quitting"
            .to_owned()
    ));
    assert!(wait_gone(pid));
}

#[test]
fn sigabrt_kills_handlers_that_ignore_sigterm() {
    let t = TempDir::new("ipcd-abrt");
    let stubborn = &["sh", "-c", "trap '' TERM; echo $IPCCONNNUM $$; exec cat >/dev/null"];
    let mut s = server(&t, &["-v2"], stubborn);
    let (_c, _, pid) = hold(&s);
    s.tree.adopt(pid);
    s.signal(libc::SIGABRT);
    assert_eq!(s.wait_exit(), Some(0));
    assert!(s.drain().contains(
        &"s6-ipcserverd: info: received SIGABRT, sending SIGKILL to all connections and quitting".to_owned()
    ));
    assert!(wait_gone(pid));
}

#[test]
fn verbose_log_lines() {
    let t = TempDir::new("ipcd-v2");
    let mut s = server(&t, &["-v2", "-C", "7"], &["sh", "-c", "echo $$; exit 3"]);
    s.expect("s6-ipcserverd: info: starting");
    s.expect("s6-ipcserverd: info: status: 0/40");
    let pid = s.request().trim().to_owned();
    s.expect(&format!("s6-ipcserverd: info: allow 0:0 pid {pid} count 1/7"));
    s.expect("s6-ipcserverd: info: status: 1/40");
    s.expect(&format!("s6-ipcserverd: info: end pid {pid} uid 0 exitcode 3"));
    let t2 = TempDir::new("ipcd-v2P");
    let mut p = server(&t2, &["-v2", "-P", "-c", "5"], &["sh", "-c", "echo $$; kill -9 $$"]);
    let pid = p.request().trim().to_owned();
    p.expect(&format!("s6-ipcserverd: info: allow ?:? pid {pid} count ?/5"));
    p.expect(&format!("s6-ipcserverd: info: end pid {pid} uid ? signal 9"));
}

#[test]
fn normal_verbosity_logs_only_warnings() {
    let t = TempDir::new("ipcd-v1");
    let mut s = server(&t, &[], &["/nonexistent/handler"]);
    assert_eq!(s.request(), "");
    s.expect("s6-ipcserverd: warning: unable to spawn /nonexistent/handler: No such file or directory");
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(), Some(0));
    let lines = s.drain();
    assert_eq!(lines.len(), 1, "{lines:?}");
    // -v0 silences the warning too.
    let t0 = TempDir::new("ipcd-v0");
    let mut q = server(&t0, &["-v0"], &["/nonexistent/handler"]);
    assert_eq!(q.request(), "");
    q.signal(libc::SIGTERM);
    assert_eq!(q.wait_exit(), Some(0));
    assert!(q.drain().is_empty());
}

#[test]
fn clients_that_connect_and_vanish_do_not_disturb_the_server() {
    let t = TempDir::new("ipcd-vanish");
    let mut s = server(&t, &["-v2", "-c", "8"], &["sh", "-c", "head -c 100000 /dev/zero"]);
    for _ in 0..200 {
        drop(s.connect());
    }
    // The handlers die of SIGPIPE or finish; the server keeps its count right.
    assert_eq!(s.request().len(), 100_000);
    s.expect_line("every slot released", |l| l == "s6-ipcserverd: info: status: 0/8");
    assert!(alive(s.pid as i32));
}

#[test]
fn a_thousand_clients_at_once() {
    let t = TempDir::new("ipcd-1000");
    let s = server(&t, &["-v1"], &["/bin/echo", "ok"]);
    let clients: Vec<UnixStream> = (0..1000).map(|_| s.connect()).collect();
    let start = std::time::Instant::now();
    for c in clients {
        c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        assert_eq!(read_all(c), "ok\n");
    }
    assert!(start.elapsed() < Duration::from_secs(60));
    assert_eq!(s.request(), "ok\n");
}

#[test]
fn handler_signal_state_is_clean() {
    // The server blocks the signals it traps and ignores SIGPIPE; its handlers get neither.
    let t = TempDir::new("ipcd-sigs");
    let s = server(&t, &[], &["sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status"]);
    let out = s.request();
    assert!(out.contains("SigBlk:\t0000000000000000"), "{out}");
    let ign = out.lines().find_map(|l| l.strip_prefix("SigIgn:\t")).expect("SigIgn");
    assert_eq!(u64::from_str_radix(ign, 16).unwrap() & (1 << (libc::SIGPIPE - 1)), 0, "{out}");
}

fn cmd(p: PathBuf, args: &[&str]) -> Command {
    let mut c = Command::new(p);
    c.args(args);
    c
}

/// A non-blocking connect to `path`: the socket, or the error (EAGAIN: the backlog is full).
fn connect_nb(path: &Path) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: plain socket(2); the fd is owned below.
    let fd = unsafe {
        libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0)
    };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh fd nobody else owns.
    let sock = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    // SAFETY: a zeroed sockaddr_un is valid; the path is copied in below, NUL-terminated.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let p = path.as_os_str().as_bytes();
    assert!(p.len() < sa.sun_path.len());
    for (d, s) in sa.sun_path.iter_mut().zip(p) {
        *d = *s as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: a valid sockaddr_un of `len` bytes.
    let r = unsafe { libc::connect(fd, (&sa as *const libc::sockaddr_un).cast(), len) };
    if r == 0 {
        Ok(sock)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[test]
fn burst_of_400_connects_to_a_busy_server_is_not_refused() {
    // musl's SOMAXCONN (128) as the default backlog refused about 270 of these 400.
    let t = TempDir::new("ipcd-burst");
    // One slow handler at a time: every other client waits in the listen backlog.
    let mut s = server(&t, &["-v2", "-c", "1"], HOLD);
    let first = hold(&s);
    s.expect("s6-ipcserverd: info: status: 1/1");
    let max: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(4096);
    // (A system whose own limit is lower cannot queue more than it allows.)
    let n = 400.min(max);
    let mut queued = Vec::with_capacity(n);
    let mut refused = Vec::new();
    for i in 0..n {
        match connect_nb(&s.path) {
            Ok(c) => queued.push(c),
            Err(e) => refused.push((i, e.to_string())),
        }
    }
    assert!(refused.is_empty(), "{} of {n} connects refused, first: {:?}", refused.len(), refused.first());
    // They are served in turn once the slot frees.
    drop(first);
    drop(queued);
    s.expect_line("the next client served", |l| l.contains("allow") && l.contains("count 1/1"));
}
