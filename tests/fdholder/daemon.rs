//! Our daemon with our clients: every request, every error code, expiry, the limits, the
//! signals, and what one client cannot do to the others.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use s6rs_sys::tai::Tain;

use super::*;

const O: Impl = Impl::Ours;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn store_list_retrieve_delete_round_trip() {
    let t = TempDir::new("fdh-round");
    let s = daemon(O, &t, "s", ALL, &[]);
    let (r, w) = store_pipe(O, &s.path, "unix:/a", &[]);
    assert_eq!((r.code, r.err.as_str()), (Some(0), ""));
    let (r, w2) = store_pipe(O, &s.path, "b", &["-T", "60000", "-t", "5000"]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    assert_eq!(list(O, &s.path), ["b", "unix:/a"]);
    // The fd that comes back is the pipe that was stored.
    let got = retrieve_reads(O, &s.path, "unix:/a", &w, "hello");
    assert_eq!((got.code, got.out.as_str()), (Some(0), "hello"));
    // Without -D it is still held; with -D it is gone after.
    let got = retrieve_reads(O, &s.path, "b", &w2, "x");
    assert_eq!(got.out, "x");
    let r = tool(O, "s6-fdholder-retrieve", &["-D", "-t", "5000", p(&s.path), "b", "true"]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    assert_eq!(list(O, &s.path), ["unix:/a"]);
    let r = tool(O, "s6-fdholder-delete", &["-t", "5000", p(&s.path), "unix:/a"]);
    assert_eq!((r.code, r.err.as_str()), (Some(0), ""));
    assert!(list(O, &s.path).is_empty());
    drop(w);
}

#[test]
fn enoent_ebusy_and_enfile_at_the_fd_limit() {
    let t = TempDir::new("fdh-codes");
    let s = daemon(O, &t, "s", ALL, &["-n", "2"]);
    for id in ["a", "b"] {
        assert_eq!(store_pipe(O, &s.path, id, &[]).0.code, Some(0));
    }
    let r = store_pipe(O, &s.path, "a", &[]).0;
    assert_eq!(r.code, Some(1));
    // Full is checked before the id, as s6 does.
    assert_eq!(r.err, refused("s6-fdholder-store", "store fd", "Too many open files in system"));
    tool(O, "s6-fdholder-delete", &[p(&s.path), "b"]);
    let r = store_pipe(O, &s.path, "a", &[]).0;
    assert_eq!(r.err, refused("s6-fdholder-store", "store fd", "Device or resource busy"));
    let r = tool(O, "s6-fdholder-delete", &[p(&s.path), "zz"]);
    assert_eq!(
        (r.code, r.err),
        (Some(1), refused("s6-fdholder-delete", "delete fd for id zz", "No such file or directory"))
    );
    let r = tool(O, "s6-fdholder-retrieve", &[p(&s.path), "zz", "true"]);
    assert_eq!(r.err, refused("s6-fdholder-retrieve", "retrieve fd for id zz", "No such file or directory"));
    // An fd number that is not open: EBADF, and nothing is stored.
    let r = tool(O, "s6-fdholder-store", &["-d", "77", p(&s.path), "c"]);
    assert_eq!((r.code, r.err), (Some(1), refused("s6-fdholder-store", "store fd", "Bad file descriptor")));
    // An id over 255 bytes never leaves the client.
    let long = "x".repeat(256);
    let r = tool(O, "s6-fdholder-delete", &[p(&s.path), &long]);
    assert!(r.err.ends_with(": File name too long\n"), "{}", r.err);
    assert_eq!(list(O, &s.path), ["a"]);
}

#[test]
fn eperm_for_each_right() {
    let t = TempDir::new("fdh-eperm");
    // Store rights on ^s, retrieve rights on ^r, no flags (LIST is an empty file: unset).
    let env =
        [("S6_FDHOLDER_STORE_REGEX", "^s"), ("S6_FDHOLDER_RETRIEVE_REGEX", "^r"), ("S6_FDHOLDER_LIST", "")];
    let s = daemon(O, &t, "s", &env, &[]);
    let perm = "Operation not permitted";
    assert_eq!(store_pipe(O, &s.path, "s1", &[]).0.code, Some(0));
    let r = store_pipe(O, &s.path, "r1", &[]).0;
    assert_eq!((r.code, r.err), (Some(1), refused("s6-fdholder-store", "store fd", perm)));
    let r = tool(O, "s6-fdholder-delete", &[p(&s.path), "r1"]);
    assert_eq!(r.err, refused("s6-fdholder-delete", "delete fd for id r1", perm));
    let r = tool(O, "s6-fdholder-retrieve", &[p(&s.path), "s1", "true"]);
    assert_eq!(r.err, refused("s6-fdholder-retrieve", "retrieve fd for id s1", perm));
    let r = tool(O, "s6-fdholder-list", &[p(&s.path)]);
    assert_eq!((r.code, r.err), (Some(1), refused("s6-fdholder-list", "get fd list", perm)));
    let r = tool(O, "s6-fdholder-getdump", &[p(&s.path), "true"]);
    assert_eq!(r.err, refused("s6-fdholder-getdump", "get dump", perm));
    let r = tool_with(O, "s6-fdholder-setdump", &[p(&s.path)], |c| {
        c.env("S6_FD#", "1").env("S6_FD_0", "0").env("S6_FDID_0", "x");
    });
    assert_eq!(r.err, refused("s6-fdholder-setdump", "set dump", perm));

    // Retrieve with delete needs both rights.
    let t2 = TempDir::new("fdh-eperm2");
    let env = [("S6_FDHOLDER_STORE_REGEX", "^a"), ("S6_FDHOLDER_RETRIEVE_REGEX", ".")];
    let s = daemon(O, &t2, "s", &env, &[]);
    assert_eq!(store_pipe(O, &s.path, "a", &[]).0.code, Some(0));
    let (pr, _pw) = s6rs_sys::fd::pipe().unwrap();
    let mut c = client(&s.path);
    c.store(pr.as_fd(), b"a2", Tain::now().add(Duration::from_secs(60))).unwrap();
    let mut c = client(&s.path);
    assert_eq!(c.retrieve(b"b", true).unwrap_err().raw_os_error(), Some(libc::EPERM));
    let mut c = client(&s.path);
    assert!(c.retrieve(b"a", true).is_ok());
}

#[test]
fn access_refusals_close_the_connection() {
    let t = TempDir::new("fdh-refuse");
    let rules = t.join("rules");
    std::fs::create_dir_all(rules.join("uid/default")).unwrap();
    std::fs::write(rules.join("uid/default/deny"), "").unwrap();
    let s = daemon(O, &t, "s", &[], &["-i", p(&rules)]);
    let r = tool(O, "s6-fdholder-list", &[p(&s.path)]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.err == refused("s6-fdholder-list", "get fd list", "Broken pipe")
            || r.err == refused("s6-fdholder-list", "get fd list", "Connection reset by peer"),
        "{}",
        r.err
    );
    // An invalid regex refuses the connection too.
    let t2 = TempDir::new("fdh-badre");
    let s = daemon(O, &t2, "s", &[("S6_FDHOLDER_LIST", "1"), ("S6_FDHOLDER_STORE_REGEX", "a(")], &[]);
    let r = tool(O, "s6-fdholder-list", &[p(&s.path)]);
    assert_eq!(r.code, Some(1), "{}", r.err);
}

#[test]
fn fds_expire_at_their_limit() {
    let t = TempDir::new("fdh-expire");
    let s = daemon(O, &t, "s", ALL, &[]);
    let (r, w) = store_pipe(O, &s.path, "short", &["-T", "300"]);
    assert_eq!(r.code, Some(0));
    assert_eq!(store_pipe(O, &s.path, "long", &[]).0.code, Some(0));
    assert!(list(O, &s.path).contains(&"short".to_owned()));
    // No event tells when the daemon dropped it: watch the pipe's other end instead. Once
    // the daemon closed its copy, and no one else holds the read end, writing fails.
    let start = Instant::now();
    assert!(wait_until(T, || !list(O, &s.path).contains(&"short".to_owned())), "never expired");
    assert!(start.elapsed() < Duration::from_secs(5));
    let e = s6rs_sys::fd::write_nb(w.as_fd(), b"x").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
    assert_eq!(list(O, &s.path), ["long"]);
}

#[test]
fn getdump_setdump_and_transferdump_round_trip() {
    let t = TempDir::new("fdh-dump");
    let a = daemon(O, &t, "a", ALL, &[]);
    let b = daemon(O, &t, "b", ALL, &[]);
    // More than one chunk of 255.
    let mut c = client(&a.path);
    let (_r, w) = s6rs_sys::fd::pipe().unwrap();
    let limit = Tain::now().add(Duration::from_secs(3600));
    for i in 0..300 {
        let mut c = client(&a.path);
        c.store(w.as_fd(), format!("id{i}").as_bytes(), limit).unwrap_or_else(|e| panic!("store {i}: {e}"));
    }
    let dump = c.getdump().unwrap();
    assert_eq!(dump.len(), 300);
    // Identical limits were moved apart by 1 ns each.
    let mut limits: Vec<Tain> = dump.iter().map(|d| d.limit).collect();
    limits.sort();
    limits.dedup();
    assert_eq!(limits.len(), 300);
    assert_eq!(limits[0], limit);
    assert_eq!(limits[299], limit.add(Duration::from_nanos(299)));
    // getdump's environment, then setdump from it, into b.
    let r = tool(O, "s6-fdholder-getdump", &[p(&a.path), "env"]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    assert!(r.out.contains("S6_FD#=300\n"));
    assert!(r.out.contains("S6_FDLIMIT_0=@4"), "{}", r.out);
    let r = tool(
        O,
        "s6-fdholder-getdump",
        &[p(&a.path), imp_path("s6-fdholder-setdump").as_str(), "-t", "5000", p(&b.path)],
    );
    assert_eq!((r.code, r.err.as_str()), (Some(0), ""));
    assert_eq!(list(O, &b.path).len(), 300);
    // transferdump: b gets a's fds again (ids collide: replaced), plus its own stay.
    let (_r2, w2) = store_pipe(O, &b.path, "own", &[]);
    let r = tool(O, "s6-fdholder-transferdump", &["-t", "5000:5000", p(&a.path), p(&b.path)]);
    assert_eq!((r.code, r.err.as_str()), (Some(0), ""));
    let l = list(O, &b.path);
    assert_eq!(l.len(), 301);
    let got = retrieve_reads(O, &b.path, "own", &w2, "mine");
    assert_eq!(got.out, "mine");
    // No limit stays no limit through the trip: S6_FDLIMIT unset.
    assert_eq!(store_pipe(O, &a.path, "forever", &[]).0.code, Some(0));
    let r = tool(O, "s6-fdholder-getdump", &[p(&a.path), "env"]);
    let n = r
        .out
        .lines()
        .find(|l| l.ends_with("=forever"))
        .unwrap()
        .trim_start_matches("S6_FDID_")
        .split('=')
        .next()
        .unwrap()
        .to_owned();
    assert!(!r.out.contains(&format!("S6_FDLIMIT_{n}=")), "{}", r.out);
    drop(w);
}

/// How many bytes are waiting to be read on `s` (FIONREAD).
fn queued(s: &UnixStream) -> usize {
    use std::os::fd::AsRawFd;
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    unsafe { libc::ioctl(s.as_raw_fd(), libc::FIONREAD, &mut n) };
    n as usize
}

fn imp_path(name: &str) -> String {
    bin(name).to_string_lossy().into_owned()
}

#[test]
fn transferdump_exit_codes_say_which_side_refused() {
    let t = TempDir::new("fdh-xfer");
    let a = daemon(O, &t, "a", ALL, &[]);
    let b = daemon(O, &t, "b", &[("S6_FDHOLDER_LIST", "1")], &[]);
    assert_eq!(store_pipe(O, &a.path, "x", &[]).0.code, Some(0));
    let r = tool(O, "s6-fdholder-transferdump", &[p(&a.path), p(&b.path)]);
    assert_eq!(
        (r.code, r.err),
        (Some(2), refused("s6-fdholder-transferdump", "set dump", "Operation not permitted"))
    );
    let r = tool(O, "s6-fdholder-transferdump", &[p(&b.path), p(&a.path)]);
    assert_eq!(
        (r.code, r.err),
        (Some(1), refused("s6-fdholder-transferdump", "get dump", "Operation not permitted"))
    );
    let r = tool(O, "s6-fdholder-transferdump", &[p(&t.join("none")), p(&a.path)]);
    assert_eq!(r.code, Some(111));
    assert!(r.err.contains("unable to connect to a source fd-holder daemon at "), "{}", r.err);
}

#[test]
fn setdump_environment_errors_exit_100() {
    let t = TempDir::new("fdh-env");
    let s = daemon(O, &t, "s", ALL, &[]);
    let r = tool(O, "s6-fdholder-setdump", &[p(&s.path)]);
    assert_eq!((r.code, r.err.as_str()), (Some(100), "s6-fdholder-setdump: fatal: S6_FD# not set\n"));
    let r = tool_with(O, "s6-fdholder-setdump", &[p(&s.path)], |c| {
        c.env("S6_FD#", "1").env("S6_FD_0", "0").env("S6_FDID_0", "x").env("S6_FDLIMIT_0", "bad");
    });
    assert_eq!((r.code, r.err.as_str()), (Some(100), "s6-fdholder-setdump: fatal: invalid $S6_FDLIMIT_0\n"));
}

#[test]
fn lame_duck_exit_code_bits() {
    let t = TempDir::new("fdh-lame");
    // Nothing held, nobody connected: 0.
    let mut s = daemon(O, &t, "a", ALL, &[]);
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(), Some(0));
    // An fd held: bit 0.
    let mut s = daemon(O, &t, "b", ALL, &[]);
    assert_eq!(store_pipe(O, &s.path, "x", &[]).0.code, Some(0));
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(), Some(1));
    // An idle client still connected: bit 1; with an fd too: both.
    let mut s = daemon(O, &t, "c", ALL, &[]);
    let mut c = client(&s.path);
    c.list().unwrap();
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(), Some(2));
    let mut s = daemon(O, &t, "d", ALL, &["-T", "200"]);
    assert_eq!(store_pipe(O, &s.path, "x", &[]).0.code, Some(0));
    let mut c = client(&s.path);
    c.list().unwrap();
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(), Some(3));
    // A reply that cannot leave keeps the daemon until -T.
    let mut s = daemon(O, &t, "e", ALL, &["-T", "300"]);
    let mut c = client(&s.path);
    let (_r, w) = s6rs_sys::fd::pipe().unwrap();
    let limit = Tain::now().add(Duration::from_secs(60));
    let long = "y".repeat(250);
    for i in 0..200 {
        let mut k = client(&s.path);
        k.store(w.as_fd(), format!("{long}{i}").as_bytes(), limit).unwrap();
    }
    // A raw client asks for lists it never reads: the daemon's replies fill the socket.
    let mut r = raw(&s.path);
    for _ in 0..20 {
        let _ = std::io::Write::write_all(&mut r, &[0, 0, 0, 1, 0, 0, b'L']);
    }
    // Wait until a whole reply has reached it: the other nineteen cannot fit in the socket.
    assert!(wait_until(T, || queued(&r) >= 50_000), "the daemon never answered");
    c.list().unwrap();
    let start = Instant::now();
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(), Some(3));
    assert!(start.elapsed() >= Duration::from_millis(250), "{:?}", start.elapsed());
}

#[test]
fn sighup_reloads_a_cdb() {
    let t = TempDir::new("fdh-hup");
    let dir = t.join("rules");
    let cdb = t.join("rules.cdb");
    rules(&dir, &[("S6_FDHOLDER_STORE_REGEX", ".")]);
    let compile = || {
        let r = tool(O, "s6-accessrules-cdb-from-fs", &[p(&cdb), p(&dir)]);
        assert_eq!(r.code, Some(0), "{}", r.err);
    };
    compile();
    let s = daemon(O, &t, "s", &[], &["-x", p(&cdb)]);
    assert_eq!(tool(O, "s6-fdholder-list", &[p(&s.path)]).code, Some(1));
    std::fs::write(dir.join("uid/default/env/S6_FDHOLDER_LIST"), "1\n").unwrap();
    compile();
    // The daemon still reads the cdb it opened.
    assert_eq!(tool(O, "s6-fdholder-list", &[p(&s.path)]).code, Some(1));
    s.signal(libc::SIGHUP);
    assert!(wait_until(T, || tool(O, "s6-fdholder-list", &[p(&s.path)]).code == Some(0)));
}

#[test]
fn maxconn_holds_further_clients_in_the_backlog() {
    let t = TempDir::new("fdh-maxconn");
    let s = daemon(O, &t, "s", ALL, &["-c", "1"]);
    let mut first = client(&s.path);
    first.list().unwrap();
    // The one slot is taken: a second client waits, and gives up at its -t.
    let r = tool(O, "s6-fdholder-list", &["-t", "300", p(&s.path)]);
    assert_eq!(
        (r.code, r.err),
        (Some(1), refused("s6-fdholder-list", "get fd list", "Connection timed out"))
    );
    drop(first);
    let r = tool(O, "s6-fdholder-list", &["-t", "5000", p(&s.path)]);
    assert_eq!(r.code, Some(0), "{}", r.err);
}

#[test]
fn client_timeout_drops_a_silent_client() {
    let t = TempDir::new("fdh-ctimeout");
    let s = daemon(O, &t, "s", ALL, &["-t", "200"]);
    // Taken before connecting: the daemon's clock for this client starts at its accept.
    let start = Instant::now();
    let mut r = raw(&s.path);
    // Half a header, then nothing.
    std::io::Write::write_all(&mut r, &[0, 0]).unwrap();
    assert!(closed_by_daemon(&mut r));
    assert!(start.elapsed() >= Duration::from_millis(200), "{:?}", start.elapsed());
    // A client whose reply was sent is not timed out while idle.
    let mut c = client(&s.path);
    c.list().unwrap();
    let mut other = client(&s.path);
    other.list().unwrap();
    c.list().unwrap();
}

#[test]
fn slow_and_silent_clients_do_not_block_others() {
    let t = TempDir::new("fdh-slow");
    let s = daemon(O, &t, "s", ALL, &["-c", "8"]);
    // One connects and says nothing, one sends half a message, one never reads.
    let _silent = raw(&s.path);
    let mut half = raw(&s.path);
    std::io::Write::write_all(&mut half, &[0, 0, 0, 20, 0, 0, b'S', 1, 2]).unwrap();
    // The deaf one asks until its replies fill the socket and the daemon stops reading it,
    // then until its own requests fill the socket the other way.
    let mut deaf = raw(&s.path);
    deaf.set_nonblocking(true).unwrap();
    let mut sent = 0;
    let start = Instant::now();
    while start.elapsed() < T {
        match std::io::Write::write(&mut deaf, &[0, 0, 0, 1, 0, 0, b'L']) {
            Ok(_) => sent += 1,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("deaf client: {e}"),
        }
    }
    assert!(sent > 100, "{sent}");
    let start = Instant::now();
    for i in 0..20 {
        let (r, _w) = store_pipe(O, &s.path, &format!("k{i}"), &["-t", "5000"]);
        assert_eq!(r.code, Some(0), "{}", r.err);
    }
    assert_eq!(list(O, &s.path).len(), 20);
    assert!(start.elapsed() < T);
}

#[test]
fn fd_count_and_memory_return_to_baseline_after_10000_cycles() {
    let t = TempDir::new("fdh-leak");
    let s = daemon(O, &t, "s", ALL, &[]);
    let fds = || std::fs::read_dir(format!("/proc/{}/fd", s.pid)).unwrap().count();
    let rss = || {
        let st = std::fs::read_to_string(format!("/proc/{}/status", s.pid)).unwrap();
        let l = st.lines().find(|l| l.starts_with("VmRSS:")).unwrap().to_owned();
        l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap()
    };
    let (_r, w) = s6rs_sys::fd::pipe().unwrap();
    let limit = Tain::now().add(Duration::from_secs(600));
    let cycle = |i: usize| {
        let id = format!("cycle{}", i % 7);
        client(&s.path).store(w.as_fd(), id.as_bytes(), limit).unwrap();
        drop(client(&s.path).retrieve(id.as_bytes(), false).unwrap());
        client(&s.path).delete(id.as_bytes()).unwrap();
    };
    // Warm up (allocator arenas, tables at their working size), then measure.
    for i in 0..200 {
        cycle(i);
    }
    let (fd0, rss0) = (fds(), rss());
    for i in 0..10_000 {
        cycle(i);
    }
    // The last client's close may still be in flight: wait for the count to settle.
    assert!(wait_until(T, || fds() <= fd0), "fds: {} -> {}", fd0, fds());
    let rss1 = rss();
    assert!(rss1 <= rss0 + 64, "VmRSS grew from {rss0} kB to {rss1} kB");
}
