//! Bad input against our s6-sudod: each request is refused with a clear message, before
//! anything is spawned, and the server process ends (no lingering process).

use s6rs_sudo::protocol::{encode_request, CLIENT_BANNER};

use super::*;

/// A server whose program would leave a marker; the marker.
fn marked(t: &TempDir, opts: &[&str]) -> (Server, PathBuf) {
    let mark = marker(t);
    let argv = marking(&mark);
    let mut sargv: Vec<&str> = argv.iter().map(String::as_str).collect();
    sargv.push("true");
    (server(t, Impl::Ours, Impl::Ours, opts, &sargv, &[]), mark)
}

fn header(argc: u32, envc: u32, arglen: u32, envlen: u32) -> Vec<u8> {
    let mut v = CLIENT_BANNER.to_vec();
    for n in [argc, envc, arglen, envlen] {
        v.extend_from_slice(&n.to_be_bytes());
    }
    v
}

/// Sends one request; checks s6-sudod's fatal line and exit code, what it answered, and
/// that nothing ran.
fn refused(tag: &str, payload: &[u8], nfds: usize, line: &str, code: i32, answer: &[u8]) {
    let t = TempDir::new(tag);
    let (mut s, mark) = marked(&t, &["--audit"]);
    let c = raw(&s);
    send_msg(&c, payload, nfds);
    s.expect(&format!("s6-sudod: fatal: {line}"));
    expect_end(&mut s, &format!("exitcode {code}"));
    assert_eq!(rest(c), answer, "{tag}");
    assert!(s.seen.iter().any(|l| l.starts_with("s6-sudod: info: uid 0 gid 0: refused: ")), "{:#?}", s.seen);
    assert!(!s.seen.iter().any(|l| l.contains(": spawned: ")));
    assert!(!mark.exists(), "{tag}: a program ran");
}

#[test]
fn wrong_client_banner() {
    let mut p = encode_request(&["a"], Some(&["A=1"]));
    p[7] = b'b';
    refused("bad-banner", &p, 3, "wrong client banner", 100, b"");
}

#[test]
fn wrong_number_of_fds() {
    let p = encode_request(&["a"], Some(&["A=1"]));
    refused("bad-fds0", &p, 0, "client did not send 3 fds", 100, b"");
    refused("bad-fds2", &p, 2, "client did not send 3 fds", 100, b"");
    refused("bad-fds4", &p, 4, "client did not send 3 fds", 100, b"");
}

#[test]
fn short_message() {
    refused("bad-short", &CLIENT_BANNER[..], 3, "wrong client message", 100, b"");
}

#[test]
fn lengths_that_disagree_or_overflow() {
    let mut p = header(1, 0, 3, 0);
    p.extend_from_slice(b"ab\0!");
    refused("bad-len", &p, 3, "wrong client argc/envlen", 100, b"");
    // arglen + envlen wraps around to the real length in 32 bits.
    let mut p = header(1, 0, 3, u32::MAX);
    p.extend_from_slice(b"a\0");
    refused("bad-wrap", &p, 3, "wrong client argc/envlen", 100, b"");
}

#[test]
fn counts_above_the_cap() {
    let p = header(131_073, 0, 0, 0);
    refused("bad-argc", &p, 3, "too many args/envvars from client", 100, b"");
    let p = header(0, 131_073, 0, 0);
    refused("bad-envc", &p, 3, "too many args/envvars from client", 100, b"");
}

#[test]
fn strings_that_do_not_split() {
    let mut p = header(3, 0, 2, 0);
    p.extend_from_slice(b"a\0");
    refused("bad-argv", &p, 3, "unable to make child argv: Invalid argument", 111, &[22]);
}

#[test]
fn env_entry_without_equals() {
    let p = encode_request(&["a"], Some(&["A=1", "NOEQUALS"]));
    refused("bad-env", &p, 3, "bad environment from client", 100, &[22]);
}

#[test]
fn half_a_message_then_silence_or_hang_up() {
    let full = encode_request(&["a"], Some(&["A=1"]));
    let mut framed = vec![0, 0, 0, full.len() as u8, 0, 0];
    framed.extend_from_slice(&full);
    // Silence: the server's -t ends it.
    let t = TempDir::new("bad-half");
    let (mut s, mark) = marked(&t, &["-t", "300"]);
    let mut c = raw(&s);
    c.write_all(&framed[..20]).unwrap();
    s.expect("s6-sudod: fatal: unable to read message from client: Connection timed out");
    expect_end(&mut s, "exitcode 111");
    assert!(rest(c).is_empty());
    assert!(!mark.exists());
    // Hang-up half way: no timeout needed.
    let t = TempDir::new("bad-half-hup");
    let (mut s, mark) = marked(&t, &[]);
    let mut c = raw(&s);
    c.write_all(&framed[..20]).unwrap();
    drop(c);
    s.expect("s6-sudod: fatal: unable to read message from client: Broken pipe");
    expect_end(&mut s, "exitcode 111");
    assert!(!mark.exists());
    // Hang-up before a word.
    let c = raw(&s);
    drop(c);
    s.expect("s6-sudod: fatal: unable to read message from client: Broken pipe");
    expect_end(&mut s, "exitcode 111");
}

#[test]
fn a_client_that_vanishes_after_the_confirmation() {
    let t = TempDir::new("bad-vanish");
    let mut s = server(&t, Impl::Ours, Impl::Ours, &["--audit"], &["sleep", "100"], &[]);
    let mut c = raw(&s);
    send_msg(&c, &encode_request::<&str, &str>(&[], None), 3);
    let mut conf = [0u8; 1];
    c.read_exact(&mut conf).unwrap();
    assert_eq!(conf, [0]);
    let line = s.expect_line("spawned", |l| l.contains(": spawned: "));
    let pid: i32 = line.split(" pid ").nth(1).and_then(|r| r.split(':').next()).unwrap().parse().unwrap();
    let mut tree = Tree::new();
    tree.adopt(pid);
    drop(c);
    assert!(wait_gone(pid), "the program outlived its client");
    s.expect(&format!("s6-sudod: info: uid 0 gid 0 pid {pid}: client hung up: sent SIGTERM and SIGCONT"));
    expect_end(&mut s, "exitcode 1");
}

/// What a server of `sudod` says about one bad request: its fatal line, exit, answer.
fn verdict(imp: Impl, tag: &str, payload: &[u8], nfds: usize) -> (String, String, Vec<u8>) {
    let t = TempDir::new(tag);
    let mut s = server(&t, Impl::Ours, imp, &[], &["true"], &[]);
    let c = raw(&s);
    send_msg(&c, payload, nfds);
    let fatal = s.expect_line("a fatal line", |l| l.starts_with("s6-sudod: fatal: "));
    let end = s.expect_line("the end", |l| l.contains(": info: end pid "));
    let code = end.rsplit(' ').next().unwrap().to_owned();
    (fatal, code, rest(c))
}

#[test]
fn refusals_read_as_real_s6_sudod_s() {
    let good = encode_request(&["a"], Some(&["A=1"]));
    let mut banner = good.clone();
    banner[7] = b'x';
    let mut long = good.clone();
    long.push(b'!');
    let cases: [(&str, Vec<u8>, usize); 6] = [
        ("fds", good.clone(), 2),
        ("banner", banner, 3),
        ("short", CLIENT_BANNER.to_vec(), 3),
        ("len", long, 3),
        ("cap", header(131_073, 0, 0, 0), 3),
        ("env", encode_request(&["a"], Some(&["NOEQ"])), 3),
    ];
    for (tag, payload, nfds) in cases {
        let ours = verdict(Impl::Ours, &format!("cmp-ours-{tag}"), &payload, nfds);
        let real = verdict(Impl::Real, &format!("cmp-real-{tag}"), &payload, nfds);
        assert_eq!(ours, real, "{tag}");
    }
}
