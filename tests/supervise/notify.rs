//! The readiness bridges between s6's notification fd and systemd's `NOTIFY_SOCKET`:
//! s6-notify-fd-from-socket and s6-notify-socket-from-fd, checked against their 2.15
//! documentation. Both are new in 2.15 and absent from Debian's s6 2.11, so there is no
//! interop test for them.
//!
//! The systemd side is played by the test: for s6-notify-socket-from-fd, a std
//! `UnixDatagram` stands for the supervisor's socket; for s6-notify-fd-from-socket, the
//! daemon is this test binary re-run as [`notify_client`], which sends datagrams to
//! `$NOTIFY_SOCKET`. The helpers double-fork away from everything the test could wait for,
//! so each test hands the helper the write end of a pipe the daemon does not hold: the
//! pipe's EOF is the helper's exit, an event to wait on.

use std::fs::File;
use std::io::Read;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::*;

const T: Duration = Duration::from_secs(10);

/// The environment variable that makes [`notify_client`] act, and says how.
const CLIENT: &str = "S6RS_TEST_NOTIFY_CLIENT";

/// Not a test: the `NOTIFY_SOCKET` daemon the notify tests run, by re-running this test
/// binary with only this function selected and [`CLIENT`] set to its steps, comma-separated:
/// `ready` (announce readiness among other lines), `silent` (nothing), `die` (exit 3),
/// `garbage` (datagrams that are no readiness: binary, empty, near misses), `big` (a
/// `READY=1` datagram longer than any supervisor's buffer), `wait:FILE` (until FILE exists
/// in the current directory, bounded). After the last step it stays up. Ignored in normal
/// runs.
#[test]
#[ignore = "the NOTIFY_SOCKET daemon other tests run; not a test of its own"]
fn notify_client() {
    let mode = std::env::var(CLIENT).expect("run by the notify tests only");
    let target = std::env::var("NOTIFY_SOCKET").expect("NOTIFY_SOCKET is set");
    let name = target.strip_prefix('@').expect("an abstract socket name");
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let s = UnixDatagram::unbound().unwrap();
    s.send_to_addr(b"STATUS=starting\nREADY=0\n", &addr).unwrap();
    for step in mode.split(',') {
        match step {
            // The READY=1 line last and without a newline, as sd_notify sends it.
            "ready" => drop(s.send_to_addr(b"STATUS=up\nREADY=1", &addr).unwrap()),
            "silent" => {}
            "garbage" => {
                for d in
                    [&b"\xff\xfe\0READY=1\0"[..], b"", b"READY=1x", b" READY=1\n", b"READY=1\r\n", b"READY"]
                {
                    s.send_to_addr(d, &addr).unwrap();
                }
            }
            "big" => {
                let mut d = b"READY=1\n".to_vec();
                d.resize(64 * 1024, b'x');
                s.send_to_addr(&d, &addr).unwrap();
            }
            w if w.starts_with("wait:") => {
                let f = &w["wait:".len()..];
                assert!(wait_until(Duration::from_secs(30), || Path::new(f).exists()), "no {f}");
            }
            "die" => std::process::exit(3),
            other => panic!("unknown step {other:?}"),
        }
    }
    std::thread::sleep(Duration::from_secs(60));
}

/// A command line that re-runs this test binary as [`notify_client`] in `mode`.
pub(crate) fn client_argv(mode: &str) -> (Vec<String>, (&'static str, String)) {
    let exe = std::env::current_exe().unwrap().display().to_string();
    let path = module_path!().split_once("::").map(|(_, p)| p).unwrap().to_owned();
    let args =
        vec![exe, format!("{path}::notify_client"), "--exact".into(), "--ignored".into(), "--quiet".into()];
    (args, (CLIENT, mode.to_owned()))
}

/// Reads `r` to EOF in a thread; the bytes arrive on the channel.
fn read_to_eof(mut r: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        let _ = tx.send(v);
    });
    rx
}

/// Starts `argv` through `sh`, with the child's stdout pipe moved to fd `fd` (stdout itself
/// going to /dev/null) and stderr into `err`: returns the child and what the pipe carries
/// until every holder has closed it.
fn start_with_pipe_on(
    tree: &mut Tree,
    fd: u32,
    argv: &[String],
    env: &[(&str, String)],
    cwd: &Path,
    err: &Path,
) -> (u32, mpsc::Receiver<Vec<u8>>) {
    let mut c = Command::new("sh");
    c.arg("-c").arg(format!("exec \"$@\" {fd}>&1 >/dev/null")).arg("sh").args(argv);
    c.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    c.current_dir(cwd).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(File::create(err).unwrap());
    ignoring_signals(&mut c, &[]);
    let mut child: Child = c.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    (tree.add(child), read_to_eof(out))
}

fn bin_str(name: &str) -> String {
    bin(name).display().to_string()
}

fn stderr_of(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

// ---- s6-notify-fd-from-socket ----

/// Runs s6-notify-fd-from-socket `opts` on the client in `mode`, in a service directory
/// whose `notification-fd` says 3, the notification pipe on fd 3.
fn fd_from_socket(t: &TempDir, tree: &mut Tree, opts: &[&str], mode: &str) -> (u32, mpsc::Receiver<Vec<u8>>) {
    std::fs::write(t.join("notification-fd"), "3\n").unwrap();
    let (client, env) = client_argv(mode);
    let mut argv = vec![bin_str("s6-notify-fd-from-socket")];
    argv.extend(opts.iter().map(|s| s.to_string()));
    argv.extend(client);
    start_with_pipe_on(tree, 3, &argv, &[env], t.path(), &t.join("err"))
}

#[test]
fn fd_from_socket_turns_ready_1_into_a_newline() {
    for opts in [&[][..], &["-f", "-t", "60000"][..], &["--notification-fd=3", "--doublefork"][..]] {
        let t = TempDir::new("nfs-ready");
        let mut tree = Tree::new();
        let (pid, rx) = fd_from_socket(&t, &mut tree, opts, "ready");
        let got = rx
            .recv_timeout(T)
            .unwrap_or_else(|_| panic!("{opts:?}: no notification; {}", stderr_of(&t.join("err"))));
        assert_eq!(got, b"\n", "{opts:?}: {}", stderr_of(&t.join("err")));
        // The daemon itself is still up: readiness is not its exit.
        assert!(tree.wait_exit(pid, Duration::from_millis(1)).is_none(), "{opts:?}: the daemon is gone");
        assert_eq!(stderr_of(&t.join("err")), "", "{opts:?}");
    }
}

#[test]
fn fd_from_socket_gives_up_after_the_timeout() {
    let t = TempDir::new("nfs-timeout");
    let mut tree = Tree::new();
    let start = Instant::now();
    let (pid, rx) = fd_from_socket(&t, &mut tree, &["-t", "300"], "silent");
    let got = rx.recv_timeout(T).expect("the helper never ended");
    assert!(start.elapsed() >= Duration::from_millis(300), "ended after {:?}", start.elapsed());
    assert_eq!(got, b"", "a notification came without READY=1");
    assert!(tree.wait_exit(pid, Duration::from_millis(1)).is_none(), "the daemon is gone");
    assert_eq!(
        stderr_of(&t.join("err")),
        "s6-notify-fd-from-socket (child): fatal: timed out waiting for notification\n"
    );
}

#[test]
fn fd_from_socket_helper_ends_when_the_daemon_dies_first() {
    let t = TempDir::new("nfs-die");
    let mut tree = Tree::new();
    let (pid, rx) = fd_from_socket(&t, &mut tree, &[], "die");
    let got = rx.recv_timeout(T).expect("the helper outlived the daemon");
    assert_eq!(got, b"", "a notification came without READY=1");
    assert_eq!(tree.wait_exit(pid, T).and_then(|s| s.code()), Some(3));
}

#[test]
fn fd_from_socket_needs_a_notification_fd() {
    let t = TempDir::new("nfs-nofile");
    let mut c = Command::new(bin("s6-notify-fd-from-socket"));
    c.arg("true").current_dir(t.path());
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "s6-notify-fd-from-socket: fatal: unable to read ./notification-fd: No such file or directory\n"
    );
    std::fs::write(t.join("notification-fd"), "x\n").unwrap();
    let mut c = Command::new(bin("s6-notify-fd-from-socket"));
    c.arg("true").current_dir(t.path());
    let o = run(c, T);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (Some(100), "s6-notify-fd-from-socket: fatal: invalid ./notification-fd\n".into())
    );
    // Given but closed.
    let mut c = Command::new(bin("s6-notify-fd-from-socket"));
    c.args(["-3", "9", "true"]).current_dir(t.path());
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(111));
    assert!(String::from_utf8_lossy(&o.stderr).contains("notification-fd sanity check failed"));
    let mut c = Command::new(bin("s6-notify-fd-from-socket"));
    c.args(["-t", "x", "true"]).current_dir(t.path());
    let o = run(c, T);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (Some(100), "s6-notify-fd-from-socket: fatal: timeout must be an unsigned integer\n".into())
    );
}

// ---- s6-notify-socket-from-fd ----

/// The datagram socket standing for systemd's, bound at `t/notify`, or at an abstract name
/// when `abstract_name` is given; returns it and the `NOTIFY_SOCKET` value naming it.
fn systemd_socket(t: &TempDir, abstract_name: Option<&str>) -> (UnixDatagram, String) {
    let s = match abstract_name {
        Some(n) => UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(n.as_bytes()).unwrap()).unwrap(),
        None => UnixDatagram::bind(t.join("notify")).unwrap(),
    };
    s.set_read_timeout(Some(T)).unwrap();
    let name = match abstract_name {
        Some(n) => format!("@{n}"),
        None => t.join("notify").display().to_string(),
    };
    (s, name)
}

/// Runs s6-notify-socket-from-fd `opts` on a shell daemon `body` that gets its notification
/// fd on 3 and first closes fd 5, where the helper alone keeps the test's pipe.
fn socket_from_fd(
    t: &TempDir,
    tree: &mut Tree,
    opts: &[&str],
    notify: &str,
    body: &str,
) -> (u32, mpsc::Receiver<Vec<u8>>) {
    let mut argv = vec![bin_str("s6-notify-socket-from-fd"), "-d".into(), "3".into()];
    argv.extend(opts.iter().map(|s| s.to_string()));
    argv.extend(["sh".into(), "-c".into(), format!("exec 5>&-\n{body}")]);
    start_with_pipe_on(tree, 5, &argv, &[("NOTIFY_SOCKET", notify.to_owned())], t.path(), &t.join("err"))
}

/// A daemon body that records whether it sees NOTIFY_SOCKET, announces readiness on fd 3
/// and stays up.
const READY_DAEMON: &str =
    "echo \"${NOTIFY_SOCKET-unset}\" > env.tmp && mv env.tmp env\necho >&3\nexec sleep 60";

#[test]
fn socket_from_fd_sends_ready_and_mainpid_then_a_barrier() {
    for (abstract_name, opts) in [
        (None, &[][..]),
        (Some(format!("s6rs-test-{}", std::process::id())), &["-f", "-k", "-t", "60000"][..]),
    ] {
        let t = TempDir::new("nsf-ready");
        let mut tree = Tree::new();
        let (sock, name) = systemd_socket(&t, abstract_name.as_deref());
        let (pid, rx) = socket_from_fd(&t, &mut tree, opts, &name, READY_DAEMON);
        let mut buf = [0u8; 256];
        let n = sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("{opts:?}: no datagram ({e}); {}", stderr_of(&t.join("err"))));
        assert_eq!(std::str::from_utf8(&buf[..n]).unwrap(), format!("READY=1\nMAINPID={pid}\n"), "{opts:?}");
        // Reading the barrier without taking its fd closes that fd: the helper is done.
        let n = sock.recv(&mut buf).expect("no barrier");
        assert_eq!(&buf[..n], b"BARRIER=1\n");
        assert_eq!(rx.recv_timeout(T).expect("the helper never ended"), b"");
        let env = std::fs::read_to_string(t.join("env")).unwrap();
        let seen = if opts.contains(&"-k") { format!("{name}\n") } else { "unset\n".to_owned() };
        assert_eq!(env, seen, "{opts:?}: NOTIFY_SOCKET as the daemon saw it");
        assert!(tree.wait_exit(pid, Duration::from_millis(1)).is_none(), "{opts:?}: the daemon is gone");
        assert_eq!(stderr_of(&t.join("err")), "", "{opts:?}");
    }
}

#[test]
fn socket_from_fd_gives_up_after_the_timeout() {
    let t = TempDir::new("nsf-timeout");
    let mut tree = Tree::new();
    let (sock, name) = systemd_socket(&t, None);
    let start = Instant::now();
    let (pid, rx) = socket_from_fd(&t, &mut tree, &["--timeout=300"], &name, "exec sleep 60");
    assert_eq!(rx.recv_timeout(T).expect("the helper never ended"), b"");
    assert!(start.elapsed() >= Duration::from_millis(300), "ended after {:?}", start.elapsed());
    sock.set_nonblocking(true).unwrap();
    assert_eq!(sock.recv(&mut [0u8; 64]).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    assert!(tree.wait_exit(pid, Duration::from_millis(1)).is_none(), "the daemon is gone");
}

#[test]
fn socket_from_fd_helper_ends_when_the_daemon_dies_first() {
    let t = TempDir::new("nsf-die");
    let mut tree = Tree::new();
    let (sock, name) = systemd_socket(&t, None);
    // Something without a newline first: only a newline means ready.
    let (pid, rx) = socket_from_fd(&t, &mut tree, &[], &name, "printf x >&3; exit 4");
    assert_eq!(rx.recv_timeout(T).expect("the helper outlived the daemon"), b"");
    assert_eq!(tree.wait_exit(pid, T).and_then(|s| s.code()), Some(4));
    sock.set_nonblocking(true).unwrap();
    assert_eq!(sock.recv(&mut [0u8; 64]).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
}

#[test]
fn socket_from_fd_without_notify_socket_just_execs() {
    let mut c = Command::new(bin("s6-notify-socket-from-fd"));
    c.args(["sh", "-c", "echo \"${NOTIFY_SOCKET-unset} $$\"; exit 7"]).env_remove("NOTIFY_SOCKET");
    let child_out = run(c, T);
    assert_eq!(child_out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&child_out.stdout).starts_with("unset "));
    let mut c = Command::new(bin("s6-notify-socket-from-fd"));
    c.args(["-d", "x", "true"]);
    let o = run(c, T);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (Some(100), "s6-notify-socket-from-fd: fatal: notification-fd must be an unsigned integer\n".into())
    );
}

/// The use the page describes: a systemd-notifying daemon in a run script, under our
/// s6-supervise, which sees it ready once it says `READY=1`, and only then.
#[test]
fn fd_from_socket_under_s6_supervise_makes_the_service_ready() {
    use super::supervise::{service, Sup};
    let (client, (var, mode)) = client_argv("ready");
    let quoted: Vec<String> = client.iter().map(|a| format!("'{a}'")).collect();
    let (_t, dir) = service(
        "nfs-supervise",
        &format!(
            "export {var}={mode}\nexec '{}' {}",
            bin("s6-notify-fd-from-socket").display(),
            quoted.join(" ")
        ),
    );
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    s.ev.expect("U", T);
    let st = s.status();
    assert!(st.ready && st.is_up(), "{}", s.stderr());
    // The daemon is the service's pid itself: the helper went away from it.
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", st.pid)).unwrap();
    assert!(cmdline.starts_with(client[0].as_bytes()), "the service is not the daemon");
}
