//! s6-tai64n, s6-tai64nlocal, ucspilogd and s6-socklog on their own.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{filter, mode, pipe, wait_ready, with_fd3};
use crate::support::{bin, TempDir, Tree};

const T: Duration = Duration::from_secs(20);

#[test]
fn tai64n_prefixes_each_line() {
    let out = filter(&bin("s6-tai64n"), &[], &[], b"one\n\ntwo\nlast");
    let out = String::from_utf8(out).unwrap();
    let l: Vec<&str> = out.split_inclusive('\n').collect();
    assert_eq!(l.len(), 4);
    let mut prev = String::new();
    for (line, rest) in l.iter().zip(["one\n", "\n", "two\n", "last\n"]) {
        let b = line.as_bytes();
        assert_eq!(b[0], b'@');
        assert!(b[1..25].iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)), "{line}");
        assert_eq!(b[25], b' ');
        assert_eq!(&line[26..], rest);
        assert!(line[..25] >= *prev, "labels go forward");
        prev = line[..25].to_string();
    }
}

#[test]
fn tai64nlocal_converts_labels_only() {
    let input = b"@400000006b04daa70970034c hello\nno label\n@40000000 short\n@400000006b04daa70970034c";
    let out = filter(&bin("s6-tai64nlocal"), &["-g"], &[], input);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "2026-11-24 00:29:54.158335820 hello\nno label\n@40000000 short\n@400000006b04daa70970034c"
    );
    let out =
        filter(&bin("s6-tai64nlocal"), &[], &[("TZ", "Asia/Kolkata")], b"@400000006b04daa70970034c x\n");
    assert_eq!(out, b"2026-11-24 05:59:54.158335820 x\n");
    // The leap second at the end of 2016.
    let out = filter(&bin("s6-tai64nlocal"), &["-g"], &[], b"@40000000586846a400000000 leap\n");
    assert_eq!(out, b"2016-12-31 23:59:60.000000000 leap\n");
}

#[test]
fn ucspilogd_decodes_and_prefixes() {
    let input = b"<13>hello\0@400000006b04daa70970034c <86>auth\n<x>raw\npartial";
    let out = filter(
        &bin("ucspilogd"),
        &["-D", "none", "IPCREMOTEEUID", "MISSING"],
        &[("IPCREMOTEEUID", "42")],
        input,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "42: none: user.notice: hello\n@400000006b04daa70970034c 42: none: authpriv.info: auth\n42: none: <x>raw\n42: none: partial\n"
    );
    let out = filter(&bin("ucspilogd"), &["V"], &[], b"x\n");
    assert_eq!(out, b"<undefined>: x\n");
}

/// Starts our s6-socklog with `args` (plus `-d 3`), stdout to a pipe we read.
fn socklog(tree: &mut Tree, args: &[&str]) -> (u32, std::fs::File) {
    let (out_r, out_w) = pipe();
    let (rr, rw) = pipe();
    let mut cmd = Command::new(bin("s6-socklog"));
    cmd.arg("-d3").args(args).stdout(Stdio::from(out_w)).stderr(Stdio::inherit());
    with_fd3(&mut cmd, rw.as_raw_fd());
    let pid = tree.spawn(cmd);
    drop(rw);
    wait_ready(rr, T);
    (pid, std::fs::File::from(out_r))
}

fn read_lines(f: &mut std::fs::File, n: usize) -> String {
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    while got.iter().filter(|&&c| c == b'\n').count() < n {
        let k = f.read(&mut b).unwrap();
        assert!(k > 0, "s6-socklog closed its output");
        got.extend(&b[..k]);
    }
    String::from_utf8(got).unwrap()
}

#[test]
fn socklog_unix_socket() {
    let t = TempDir::new("socklog-unix");
    let sock = t.join("log.sock");
    let mut tree = Tree::new();
    let (pid, mut out) = socklog(&mut tree, &["-l", "80", "-x", &sock.display().to_string()]);
    assert_eq!(mode(&sock), 0o777);
    assert_eq!(mode(&t.join("log.sock.lock")), 0o600);
    let c = UnixDatagram::unbound().unwrap();
    for m in [&b"<13>hello\0world\n\0"[..], b"", b"<86>x", &[b'a'; 81], b"plain\n"] {
        c.send_to(m, &sock).unwrap();
    }
    let got = read_lines(&mut out, 4);
    assert_eq!(got, format!("user.notice: hello~world\nauthpriv.info: x\n{}...\nplain\n", "a".repeat(81)));
    tree.signal(pid, libc::SIGTERM);
    assert_eq!(tree.wait_exit(pid, T).and_then(|s| s.code()), Some(0));
}

#[test]
fn socklog_udp_prefixes_the_client() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut tree = Tree::new();
    let (pid, mut out) = socklog(&mut tree, &["-r", "-i", &format!("127.0.0.1_{port}")]);
    let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let cport = c.local_addr().unwrap().port();
    c.send_to(b"<13>raw", ("127.0.0.1", port)).unwrap();
    assert_eq!(read_lines(&mut out, 1), format!("127.0.0.1_{cport}: <13>raw\n"));
    tree.signal(pid, libc::SIGTERM);
    assert_eq!(tree.wait_exit(pid, T).and_then(|s| s.code()), Some(0));
}

#[test]
fn socklog_lame_duck_timeout_exits_99() {
    let t = TempDir::new("socklog-99");
    let sock = t.join("log.sock");
    let mut tree = Tree::new();
    // Nobody reads the output pipe: it fills, then s6-socklog's own buffer does.
    let (pid, out) = socklog(&mut tree, &["-t", "200", "-x", &sock.display().to_string()]);
    let c = UnixDatagram::unbound().unwrap();
    c.set_write_timeout(Some(Duration::from_millis(300))).unwrap();
    let msg = [b'm'; 1000];
    // Send until the whole chain is full and a send times out.
    let mut saturated = false;
    for _ in 0..1000 {
        if c.send_to(&msg, &sock).is_err() {
            saturated = true;
            break;
        }
    }
    assert!(saturated, "s6-socklog kept reading with its output blocked");
    tree.signal(pid, libc::SIGTERM);
    assert_eq!(tree.wait_exit(pid, T).and_then(|s| s.code()), Some(99));
    drop(out);
}
