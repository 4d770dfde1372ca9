//! s6-ipcserver-socketbinder, the s6-ipcserver wrapper, s6-ipcclient and s6-ioconnect.

use std::process::{Command, Stdio};

use super::*;

fn outcome(c: Command) -> (Option<i32>, String, String) {
    let o = run(c, T);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn ours(name: &str, args: &[&OsStr]) -> Command {
    let mut c = Command::new(bin(name));
    c.args(args);
    c
}

/// Prints what a socketbinder's prog received on fd 0: the O_NONBLOCK bit and the
/// close-on-exec bit of its flags (octal in fdinfo).
const FD0: &str = "awk '/^flags:/ { print $2 }' /proc/$$/fdinfo/0";

#[test]
fn socketbinder_defaults_lock_and_modes() {
    let t = TempDir::new("sb-def");
    let path = t.join("sock");
    let (code, out, err) = outcome(ours(
        "s6-ipcserver-socketbinder",
        &[path.as_os_str(), "sh".as_ref(), "-c".as_ref(), FD0.as_ref()],
    ));
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let flags = u32::from_str_radix(out.trim(), 8).expect("flags");
    assert_ne!(flags & libc::O_NONBLOCK as u32, 0, "non-blocking by default");
    assert_eq!(flags & libc::O_CLOEXEC as u32, 0, "fd 0 survives exec");
    assert_eq!(mode(&path), 0o777);
    assert_eq!(mode(&t.join("sock.lock")), 0o600);
    // -B: blocking; -a: the socket mode, the lock file made under the same umask.
    let (_, out, _) = outcome(ours(
        "s6-ipcserver-socketbinder",
        &[
            "-B".as_ref(),
            "-a".as_ref(),
            "0400".as_ref(),
            path.as_os_str(),
            "sh".as_ref(),
            "-c".as_ref(),
            FD0.as_ref(),
        ],
    ));
    assert_eq!(u32::from_str_radix(out.trim(), 8).unwrap() & libc::O_NONBLOCK as u32, 0);
    assert_eq!(mode(&path), 0o400);
    assert_eq!(mode(&t.join("sock.lock")), 0o600, "an existing lock file keeps its mode");
    std::fs::remove_file(t.join("sock.lock")).unwrap();
    outcome(ours("s6-ipcserver-socketbinder", &["-a0750".as_ref(), path.as_os_str(), "true".as_ref()]));
    assert_eq!((mode(&path), mode(&t.join("sock.lock"))), (0o750, 0o600));
}

#[test]
fn socketbinder_replaces_or_refuses_an_existing_path() {
    let t = TempDir::new("sb-exist");
    let path = t.join("sock");
    std::fs::write(&path, "not a socket").unwrap();
    let p = path.to_str().unwrap();
    let (code, _, err) =
        outcome(ours("s6-ipcserver-socketbinder", &["-D".as_ref(), p.as_ref(), "true".as_ref()]));
    assert_eq!(code, Some(111));
    assert_eq!(
        err,
        format!("s6-ipcserver-socketbinder: fatal: unable to bind to {p}: Address already in use\n")
    );
    assert!(!t.join("sock.lock").exists(), "-D takes no lock");
    let (code, _, _) = outcome(ours("s6-ipcserver-socketbinder", &[p.as_ref(), "true".as_ref()]));
    assert_eq!(code, Some(0));
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&path).unwrap().file_type().is_socket());
}

#[test]
fn socketbinder_is_busy_while_another_binder_holds_the_lock() {
    let t = TempDir::new("sb-busy");
    let path = t.join("sock");
    let lock = t.join("sock.lock");
    let mut tree = Tree::new();
    let mut holder = Command::new(bin("s6-setlock"));
    holder.arg(&lock).args(["sh", "-c", "echo; exec cat"]).stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = holder.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let _keep = child.stdin.take();
    tree.add(child);
    let mut b = [0u8; 1];
    assert!(readable(&out, T) && out.read(&mut b).unwrap() == 1);
    let p = path.to_str().unwrap();
    let (code, _, err) = outcome(ours("s6-ipcserver-socketbinder", &[p.as_ref(), "true".as_ref()]));
    assert_eq!(code, Some(111));
    assert_eq!(
        err,
        format!("s6-ipcserver-socketbinder: fatal: unable to bind to {p}: Device or resource busy\n")
    );
}

#[test]
fn socketbinder_datagram_without_listen_and_usage() {
    let t = TempDir::new("sb-dgram");
    let path = t.join("sock");
    let probe = "awk -v p=\"$0\" '$8 == p { print $4, $5, $6 }' /proc/net/unix";
    let args = ["-m", "-b0", path.to_str().unwrap(), "sh", "-c", probe, path.to_str().unwrap()];
    let (code, out, _) = outcome(ours("s6-ipcserver-socketbinder", &args.map(OsStr::new)));
    assert_eq!(code, Some(0));
    // Flags 0 (not listening), type 2 (SOCK_DGRAM), state 1 (unconnected).
    assert_eq!(out, "00000000 0002 01\n");
    let args = ["-b", "3", path.to_str().unwrap(), "sh", "-c", probe, path.to_str().unwrap()];
    let (_, out, _) = outcome(ours("s6-ipcserver-socketbinder", &args.map(OsStr::new)));
    // __SO_ACCEPTCON: listening; SOCK_STREAM.
    assert_eq!(out, "00010000 0001 01\n");
    let (code, _, err) = outcome(ours("s6-ipcserver-socketbinder", &[path.as_os_str()]));
    assert_eq!(code, Some(100));
    assert!(err.starts_with("s6-ipcserver-socketbinder: usage: "));
    let (code, _, _) = outcome(ours(
        "s6-ipcserver-socketbinder",
        &["-a".as_ref(), "0800".as_ref(), path.as_os_str(), "true".as_ref()],
    ));
    assert_eq!(code, Some(100));
}

#[test]
fn over_long_socket_paths_are_refused_clearly() {
    let t = TempDir::new("sb-long");
    let long = t.join(&"x".repeat(120));
    let l = long.to_str().unwrap();
    let (code, _, err) = outcome(ours("s6-ipcserver-socketbinder", &[l.as_ref(), "true".as_ref()]));
    assert_eq!(code, Some(111));
    assert_eq!(err, format!("s6-ipcserver-socketbinder: fatal: unable to bind to {l}: File name too long\n"));
    let (code, _, err) = outcome(ours("s6-ipcclient", &[l.as_ref(), "true".as_ref()]));
    assert_eq!(code, Some(111));
    assert_eq!(err, format!("s6-ipcclient: fatal: unable to connect to {l}: File name too long\n"));
    let (code, _, err) = outcome(ours("s6-ipcserver", &[l.as_ref(), "true".as_ref()]));
    assert_eq!(code, Some(111));
    assert!(err.ends_with(": File name too long\n"), "{err}");
}

#[test]
fn ipcserver_wrapper_serves_like_the_chain() {
    let t = TempDir::new("srv-wrap");
    let path = t.join("sock");
    let argv: Vec<OsString> = vec![
        bin("s6-ipcserver").into(),
        "-1v".into(),
        "-a".into(),
        "0700".into(),
        path.clone().into(),
        "env".into(),
    ];
    let mut s = Server::start(&path, &argv);
    assert_eq!(s.request(), "PATH=/usr/bin:/bin\nS6RS_TEST=ipc\nPROTO=IPC\nIPCREMOTEEUID=0\nIPCREMOTEEGID=0\nIPCCONNNUM=0\nIPCREMOTEPATH=\n");
    s.expect_line("an allow line", |l| l.contains(": allow 0:0 pid "));
    assert_eq!(mode(&path), 0o700);
    // The long-lived process is s6-ipcserverd itself.
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", s.pid)).unwrap();
    assert_eq!(comm.trim(), "s6-ipcserverd");
}

#[test]
fn ipcserver_drops_privileges_after_binding() {
    let t = TempDir::new("srv-drop");
    let path = t.join("sock");
    let argv: Vec<OsString> = vec![
        bin("s6-envuidgid").into(),
        "nobody".into(),
        bin("s6-ipcserver").into(),
        "-1".into(),
        "-U".into(),
        path.clone().into(),
        "sh".into(),
        "-c".into(),
        "echo $(id -u) $(id -g) ${UID-unset} ${GIDLIST-unset}".into(),
    ];
    let s = Server::start(&path, &argv);
    assert_eq!(s.request(), "65534 65534 unset unset\n");
    let st = std::fs::read_to_string(format!("/proc/{}/status", s.pid)).unwrap();
    assert!(st.lines().any(|l| l.starts_with("Uid:\t65534\t65534")), "{st}");
    // The socket was made by root, before the drop.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&path).unwrap().uid(), 0);
    let t2 = TempDir::new("srv-drop2");
    let path2 = t2.join("sock");
    let argv: Vec<OsString> = vec![
        bin("s6-ipcserver").into(),
        "-1".into(),
        "-u".into(),
        "65534".into(),
        "-g".into(),
        "65534".into(),
        "-G".into(),
        "".into(),
        path2.clone().into(),
        "id".into(),
    ];
    let s2 = Server::start(&path2, &argv);
    assert_eq!(s2.request(), "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n");
}

#[test]
fn ipcclient_fds_environment_and_messages() {
    let t = TempDir::new("cli");
    let path = t.join("sock");
    let s = Server::start(
        &path,
        &chain(Impl::Ours, &path, &[], &["sh", "-c", "echo hello; read l; echo got $l"]),
    );
    let p = path.to_str().unwrap();
    let script = "read l <&6; echo \"$l\"; echo ping >&7; read l <&6; echo \"$l\"; \
                  echo \"$PROTO ${IPCLOCALPATH-unset}\"; \
                  [ \"$(readlink /proc/$$/fd/6)\" = \"$(readlink /proc/$$/fd/7)\" ] && echo same";
    let (code, out, err) = outcome(ours(
        "s6-ipcclient",
        &["-v".as_ref(), p.as_ref(), "sh".as_ref(), "-c".as_ref(), script.as_ref()],
    ));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "hello\ngot ping\nIPC \nsame\n");
    assert_eq!(err, format!("s6-ipcclient: info: s6-ipcclient: connected to {p}\n"));
    let (_, out, _) = outcome(ours(
        "s6-ipcclient",
        &[
            "-l".as_ref(),
            "name".as_ref(),
            p.as_ref(),
            "sh".as_ref(),
            "-c".as_ref(),
            "echo $IPCLOCALPATH".as_ref(),
        ],
    ));
    assert_eq!(out, "name\n");
    let bound = t.join("me");
    let (_, out, _) = outcome(ours(
        "s6-ipcclient",
        &[
            "-p".as_ref(),
            bound.as_os_str(),
            p.as_ref(),
            "sh".as_ref(),
            "-c".as_ref(),
            "echo $IPCLOCALPATH".as_ref(),
        ],
    ));
    assert_eq!(out, format!("{}\n", bound.display()));
    let (code, _, err) =
        outcome(ours("s6-ipcclient", &["-q".as_ref(), p.as_ref(), "/nonexistent/prog".as_ref()]));
    assert_eq!(code, Some(127));
    assert_eq!(err, "s6-ipcclient: fatal: unable to exec /nonexistent/prog: No such file or directory\n");
    let missing = t.join("nothing");
    let m = missing.to_str().unwrap();
    let (code, _, err) = outcome(ours("s6-ipcclient", &[m.as_ref(), "true".as_ref()]));
    assert_eq!(code, Some(111));
    assert_eq!(err, format!("s6-ipcclient: fatal: unable to connect to {m}: No such file or directory\n"));
    let (code, _, _) = outcome(ours("s6-ipcclient", &[p.as_ref()]));
    assert_eq!(code, Some(100));
    drop(s);
}

#[test]
fn ioconnect_copies_both_ways_between_regular_files() {
    let t = TempDir::new("ioc-files");
    std::fs::write(t.join("in0"), "from stdin").unwrap();
    std::fs::write(t.join("in6"), "from six").unwrap();
    let mut c = Command::new("sh");
    c.current_dir(t.path()).args(["-c", "exec \"$0\" <in0 6<in6 7>out7 >out1"]).arg(bin("s6-ioconnect"));
    let (code, _, err) = outcome(c);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    assert_eq!(std::fs::read_to_string(t.join("out7")).unwrap(), "from stdin");
    assert_eq!(std::fs::read_to_string(t.join("out1")).unwrap(), "from six");
}

#[test]
fn ioconnect_through_a_server_passes_eof_with_shutdown() {
    let t = TempDir::new("ioc-sock");
    let path = t.join("sock");
    let _s = Server::start(&path, &chain(Impl::Ours, &path, &[], &["cat"]));
    let data: String = (0..5000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(t.join("in"), &data).unwrap();
    // (support::run gives stdin /dev/null: the shell puts the file there.)
    let mut c = Command::new("sh");
    c.args(["-c", "exec \"$0\" \"$1\" \"$2\" <\"$3\""]).arg(bin("s6-ipcclient")).arg(&path);
    c.arg(bin("s6-ioconnect")).arg(t.join("in"));
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout == data.as_bytes(), "echoed {} bytes of {}", o.stdout.len(), data.len());
}

#[test]
fn ioconnect_idle_timeout_sigterm_and_usage() {
    let t = TempDir::new("ioc-t");
    let mut tree = Tree::new();
    let mut c = Command::new("sh");
    c.args(["-c", "exec \"$0\" -t 200 6</dev/null 7>/dev/null"])
        .arg(bin("s6-ioconnect"))
        .stdin(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let _keep = child.stdin.take();
    let pid = tree.add(child);
    assert_eq!(tree.wait_exit(pid, T).and_then(|s| s.code()), Some(1));
    // SIGTERM: what was read is delivered, then it exits 0.
    let out7 = t.join("out7");
    let mut c = Command::new("sh");
    c.args(["-c", "exec \"$0\" 6<>\"$1\" 7>\"$2\""]).arg(bin("s6-ioconnect"));
    let fifo = t.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    c.arg(&fifo).arg(&out7).stdin(Stdio::piped()).stdout(Stdio::null());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let pid = tree.add(child);
    use std::io::Write;
    stdin.write_all(b"pending").unwrap();
    assert!(wait_until(T, || std::fs::read(&out7).is_ok_and(|b| b == b"pending")));
    tree.signal(pid, libc::SIGTERM);
    assert_eq!(tree.wait_exit(pid, T).and_then(|s| s.code()), Some(0));
    let (code, _, err) = outcome(ours("s6-ioconnect", &["-r".as_ref(), "2".as_ref()]));
    assert_eq!(code, Some(100));
    assert_eq!(err, "s6-ioconnect: usage: s6-ioconnect [ -t timeout ] [ -r fdr ] [ -w fdw ]\n");
    drop(stdin);
}
