//! s6-supervise's `notify-socket` extension (supervise/src/sdnotify.rs): a `NOTIFY_SOCKET`
//! made by the supervisor for each run, whose `READY=1` from the service's process group is
//! the same readiness as a notification-fd newline, seen by real s6-svwait and s6-svstat.
//!
//! The daemon is the test binary re-run as `notify::notify_client`, which stays in the
//! service's process group. Each run script records the `NOTIFY_SOCKET` it got in `name`.
//! Waits on the supervisor's stderr (its warnings are the one sign that a datagram was
//! handled and dropped) poll a file, bounded; everything else waits on events.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::Path;
use std::time::Duration;

use super::interop_supervise::real_run;
use super::notify::client_argv;
use super::supervise::{service, Sup};
use crate::support::*;

const T: Duration = Duration::from_secs(20);

const OVERSIZED: &str = "warning: ignoring a NOTIFY_SOCKET datagram of more than 8191 bytes";

/// A line of the supervisor of `dir` on its stderr.
fn line(dir: &Path, what: &str) -> String {
    format!("s6-supervise {}: {what}", dir.display())
}

/// A service whose run script records its `NOTIFY_SOCKET` and execs the client with `steps`.
fn client_service(tag: &str, steps: &str) -> (TempDir, std::path::PathBuf) {
    let (client, (var, mode)) = client_argv(steps);
    let quoted: Vec<String> = client.iter().map(|a| format!("'{a}'")).collect();
    service(
        tag,
        &format!("echo \"${{NOTIFY_SOCKET-unset}}\" > name.tmp && mv name.tmp name\nexport {var}='{mode}'\nexec {}", quoted.join(" ")),
    )
}

/// What `NOTIFY_SOCKET` a run gets when the supervisor adds none: the test's own.
fn inherited() -> String {
    std::env::var("NOTIFY_SOCKET").unwrap_or_else(|_| "unset".into())
}

/// The supervisor's open fds that are sockets.
fn sockets_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.unwrap().path()).ok())
        .filter(|l| l.to_string_lossy().starts_with("socket:"))
        .count()
}

/// What the supervisor's fds point to, sorted, leaving out those into `event/`: the
/// supervisor opens the fifodir and its fifos while it sends an event, which the test may
/// catch it doing just after reading that event.
fn lasting_fds(pid: u32, dir: &Path) -> Vec<String> {
    let events = dir.join("event");
    let mut v: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.unwrap().path()).ok())
        .filter(|l| !l.starts_with(&events))
        .map(|l| l.display().to_string())
        .collect();
    v.sort();
    v
}

/// The abstract names bound on this machine (in this network namespace), `@` first.
fn bound_abstract_names() -> Vec<String> {
    let t = std::fs::read_to_string("/proc/net/unix").unwrap();
    t.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(7))
        .filter(|n| n.starts_with('@'))
        .map(String::from)
        .collect()
}

fn warnings(s: &Sup, what: &str) -> usize {
    let want = line(&s.dir, what);
    s.stderr().lines().filter(|l| *l == want).count()
}

#[test]
fn notify_socket_ready_1_makes_the_service_ready_for_real_s6() {
    let (_t, dir) = client_service("sv-nsock-ready", "ready");
    std::fs::write(dir.join("notify-socket"), "").unwrap();
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    let pid = s.adopt();
    assert_eq!(real_run("s6-svwait", &["-U", "-t", "20000"], &dir).0, Some(0), "{}", s.stderr());
    s.ev.expect("U", T);
    let (code, fields) = real_run("s6-svstat", &["-o", "up,ready,pid"], &dir);
    assert_eq!((code, fields), (Some(0), format!("true true {pid}\n")));
    let (_, out) = real_run("s6-svstat", &[], &dir);
    assert!(out.contains(" seconds, ready "), "{out:?}");
    // The service got an abstract name, which the supervisor holds while it runs.
    let name = std::fs::read_to_string(dir.join("name")).unwrap();
    assert!(name.starts_with('@') && name.len() > 2, "{name:?}");
    assert!(bound_abstract_names().contains(&name.trim_end().to_owned()));
    assert_eq!(sockets_of(s.pid), 1);
    assert_eq!(s.stderr(), "");
}

#[test]
fn notify_socket_ignores_foreign_senders_and_bad_datagrams() {
    let (_t, dir) = client_service("sv-nsock-bad", "garbage,big,wait:go,big,wait:go2,ready");
    std::fs::write(dir.join("notify-socket"), "\n").unwrap();
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    // Garbage, then an oversized READY=1: one warning, and not ready.
    assert!(wait_until(T, || warnings(&s, OVERSIZED) == 1), "{}", s.stderr());
    assert!(!s.status().ready);
    // READY=1 from the test itself, outside the service's group, queued before the next
    // oversized datagram: handled by the time that one's warning shows.
    assert!(wait_until(T, || dir.join("name").exists()));
    let name = std::fs::read_to_string(dir.join("name")).unwrap();
    let addr = SocketAddr::from_abstract_name(name.trim_end().strip_prefix('@').unwrap().as_bytes()).unwrap();
    UnixDatagram::unbound().unwrap().send_to_addr(b"READY=1\n", &addr).unwrap();
    std::fs::write(dir.join("go"), "").unwrap();
    assert!(wait_until(T, || warnings(&s, OVERSIZED) == 2), "{}", s.stderr());
    assert!(!s.status().ready, "a foreign READY=1 counted");
    std::fs::write(dir.join("go2"), "").unwrap();
    s.ev.expect("U", T);
    assert!(s.status().ready && s.status().is_up());
    // The tree keeps running: the supervisor still obeys, and said nothing else.
    s.send("d");
    s.ev.expect("dD", T);
    let w = line(&dir, OVERSIZED);
    assert_eq!(s.stderr(), format!("{w}\n{w}\n"));
}

#[test]
fn notify_socket_hundred_restarts_leak_no_fd_and_no_socket() {
    let (_t, dir) = client_service("sv-nsock-restarts", "ready");
    std::fs::write(dir.join("notify-socket"), "").unwrap();
    std::fs::write(dir.join("down"), "").unwrap();
    let mut s = Sup::ours(&dir);
    s.ev.expect("s", T);
    let fds = lasting_fds(s.pid, &dir);
    assert_eq!(sockets_of(s.pid), 0, "a socket while down");
    let mut names = Vec::new();
    for i in 0..100 {
        s.send("u");
        s.ev.expect("u", T);
        s.adopt();
        s.ev.expect("U", T);
        if i == 0 {
            assert_eq!(sockets_of(s.pid), 1);
        }
        names.push(std::fs::read_to_string(dir.join("name")).unwrap().trim_end().to_owned());
        s.send("d");
        s.ev.expect("dD", T);
        assert!(!s.status().is_up());
    }
    assert_eq!(lasting_fds(s.pid, &dir), fds, "fds changed over 100 runs");
    assert_eq!(sockets_of(s.pid), 0);
    let bound = bound_abstract_names();
    let left: Vec<&String> = names.iter().filter(|n| bound.contains(n)).collect();
    assert!(left.is_empty(), "names still bound after their runs: {left:?}");
    // Nothing on disk either.
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            assert!(!ft.is_socket(), "socket file {}", e.path().display());
            if ft.is_dir() {
                stack.push(e.path());
            }
        }
    }
    assert_eq!(s.stderr(), "");
}

#[test]
fn no_notify_socket_file_means_no_socket() {
    for (file, warning) in [(None, ""), (Some("yes\n"), "warning: invalid notify-socket (it must be empty)")]
    {
        let (_t, dir) = client_service("sv-nsock-none", "silent");
        if let Some(body) = file {
            std::fs::write(dir.join("notify-socket"), body).unwrap();
        }
        // The client needs a NOTIFY_SOCKET: without one it panics and the run dies, so
        // the run script alone is looked at here.
        std::fs::write(
            dir.join("run"),
            "#!/bin/sh\necho \"${NOTIFY_SOCKET-unset}\" > name.tmp && mv name.tmp name\nexec sleep 100\n",
        )
        .unwrap();
        let mut s = Sup::ours(&dir);
        s.ev.expect("su", T);
        s.adopt();
        assert!(wait_until(T, || dir.join("name").exists()));
        assert_eq!(
            std::fs::read_to_string(dir.join("name")).unwrap(),
            format!("{}\n", inherited()),
            "{file:?}"
        );
        assert_eq!(sockets_of(s.pid), 0, "{file:?}");
        let want = if warning.is_empty() { String::new() } else { line(&dir, warning) + "\n" };
        assert_eq!(s.stderr(), want, "{file:?}");
    }
}

#[test]
fn notify_socket_beside_notification_fd_first_channel_wins() {
    // The pipe first, then READY=1 on the socket, then an oversized datagram whose warning
    // says the READY=1 was handled: one U only.
    let (_t, dir) = client_service("sv-nsock-both", "wait:go,ready,big");
    let run = std::fs::read_to_string(dir.join("run")).unwrap();
    std::fs::write(dir.join("run"), run.replacen("#!/bin/sh\n", "#!/bin/sh\necho >&3\n", 1)).unwrap();
    std::fs::write(dir.join("notify-socket"), "").unwrap();
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    s.ev.expect("U", T);
    std::fs::write(dir.join("go"), "").unwrap();
    assert!(wait_until(T, || warnings(&s, OVERSIZED) == 1), "{}", s.stderr());
    s.ev.quiet(Duration::from_millis(50));
    assert_eq!(s.ev.all(), "suU");

    // The socket alone, from a child of ./run in its process group (not the leader), while
    // the notification pipe stays silent.
    let (_t, dir) = client_service("sv-nsock-both2", "ready");
    let run = std::fs::read_to_string(dir.join("run")).unwrap();
    let (head, client) = run.rsplit_once("exec ").unwrap();
    std::fs::write(
        dir.join("run"),
        format!("{head}{} &\necho $! > child.tmp && mv child.tmp child\nwait\n", client.trim_end()),
    )
    .unwrap();
    std::fs::write(dir.join("notify-socket"), "").unwrap();
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    s.adopt();
    assert!(wait_until(T, || dir.join("child").exists()));
    let child = std::fs::read_to_string(dir.join("child")).unwrap();
    s.tree.adopt(child.trim().parse().unwrap());
    s.ev.expect("U", T);
    assert!(s.status().ready);
    assert_eq!(s.stderr(), "");
}
