//! s6-log: scripts, actions, input handling, start-up errors.

use std::time::Duration;

use super::{archives, arg, content, lines, log, mode, Running};
use crate::support::{run, run_with_input, TempDir};

const T: Duration = Duration::from_secs(20);

/// Runs s6-log on `input` to completion; returns (exit code, stdout, stderr).
fn once(args: &[&str], input: &[u8], cwd: &std::path::Path) -> (i32, Vec<u8>, String) {
    let mut cmd = std::process::Command::new(log());
    cmd.args(args).current_dir(cwd);
    let out = run_with_input(cmd, input, T);
    (out.status.code().unwrap_or(-1), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn selection_into_several_logdirs() {
    let t = TempDir::new("log-sel");
    let input = b"info: a\nERROR: b\nwarn: c\ninfo: d\nERROR: e\n";
    let (code, _, err) = once(
        &["-", "+^ERROR", "./errors", "-", "+^(warn|ERROR)", "./alerts", "f", "./rest", "-", "+.", "./all"],
        input,
        t.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(content(&t.join("errors")), b"ERROR: b\nERROR: e\n");
    assert_eq!(content(&t.join("alerts")), b"ERROR: b\nwarn: c\nERROR: e\n");
    assert_eq!(content(&t.join("rest")), b"info: a\ninfo: d\n");
    assert_eq!(content(&t.join("all")), input);
    // Logdir layout: 0700 directory (setgid dropped), lock, state, current marked done.
    let d = t.join("errors");
    assert_eq!(mode(&d) & 0o777, 0o700);
    assert!(d.join("lock").exists());
    assert_eq!(std::fs::read(d.join("state")).unwrap(), b"");
    assert_eq!(mode(&d.join("current")), 0o744);
}

#[test]
fn stdout_alerts_and_prefixes() {
    let t = TempDir::new("log-out");
    let long = "x".repeat(30);
    let input = format!("short\n{long}\n");
    let (code, out, err) = once(&["E10", "pPFX", "2", "p", "1"], input.as_bytes(), t.path());
    assert_eq!(code, 0);
    assert_eq!(out, input.as_bytes());
    assert_eq!(err, format!("s6-log: alert: PFX short\ns6-log: alert: PFX {}...\n", &long[..10]));
    // E0: the whole line.
    let (_, _, err) = once(&["E0", "2"], input.as_bytes(), t.path());
    assert_eq!(err, format!("s6-log: alert: short\ns6-log: alert: {long}\n"));
}

#[test]
fn stamps_t_and_cap_t() {
    let t = TempDir::new("log-stamps");
    let (code, out, _) = once(&["t", "1", "T", "1", "t", "T", "pP", "1", "1"], b"hi\n", t.path());
    assert_eq!(code, 0);
    let out = String::from_utf8(out).unwrap();
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l.len(), 4, "{out}");
    let tai = regex_like_tai(l[0]);
    assert_eq!(&l[0][26..], "hi");
    // T: YYYY-MM-DD HH:MM:SS.nnnnnnnnn then two spaces.
    assert_eq!(l[1].len(), 29 + 2 + 2);
    assert_eq!(&l[1][29..], "  hi");
    assert_eq!(&l[2][..26], &l[0][..26], "one stamp per line");
    assert_eq!(&l[2][26..55], &l[1][..29]);
    assert_eq!(&l[2][55..], "  P hi");
    assert_eq!(l[3], "P hi", "the prefix is sticky");
    assert!(tai);
}

fn regex_like_tai(l: &str) -> bool {
    let b = l.as_bytes();
    b[0] == b'@' && b[1..25].iter().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) && b[25] == b' '
}

#[test]
fn status_file_is_padded_or_cut() {
    let t = TempDir::new("log-status");
    let st = arg(t.path(), "st");
    let (code, _, _) = once(
        &["^20", &format!("={st}1"), "^3", &format!("={st}2"), "^0", &format!("={st}3")],
        b"first\nhello\n",
        t.path(),
    );
    assert_eq!(code, 0);
    let mut padded = b"hello\n".to_vec();
    padded.resize(20, b'\n');
    assert_eq!(std::fs::read(format!("{st}1")).unwrap(), padded);
    assert_eq!(std::fs::read(format!("{st}2")).unwrap(), b"hel");
    assert_eq!(std::fs::read(format!("{st}3")).unwrap(), b"hello\n");
    assert!(!t.join("st1.new").exists());
}

#[test]
fn partial_last_line_at_eof_is_kept() {
    let t = TempDir::new("log-eof");
    let (code, out, _) = once(&["1", "./d"], b"abc\ndef", t.path());
    assert_eq!(code, 0);
    assert_eq!(out, b"abc\ndef\n");
    assert_eq!(content(&t.join("d")), b"abc\ndef\n");
}

#[test]
fn nul_ends_a_line() {
    let t = TempDir::new("log-nul");
    let (_, out, _) = once(&["1"], b"a\0b\nc\n", t.path());
    assert_eq!(out, b"a\nb\nc\n");
}

#[test]
fn long_lines_are_split_at_linelimit() {
    let t = TempDir::new("log-long");
    let line = "0123456789".repeat(10);
    let input = format!("{line}\n{}\n", &line[..48]);
    let (_, out, _) = once(&["-l", "10", "1"], input.as_bytes(), t.path());
    // -l below 48 means 48.
    let expect = format!("{}\n{}\n{}\n{}\n", &line[..48], &line[48..96], &line[96..], &line[..48]);
    assert_eq!(String::from_utf8(out).unwrap(), expect);
    // Each piece goes through selection on its own.
    let (_, out, _) = once(&["-l", "48", "-", "+^0123", "1"], input.as_bytes(), t.path());
    assert_eq!(String::from_utf8(out).unwrap(), format!("{}\n{}\n", &line[..48], &line[..48]));
    // -l 0: never split.
    let big = "y".repeat(300_000);
    let (_, out, _) = once(&["-l", "0", "1"], format!("{big}\n").as_bytes(), t.path());
    assert_eq!(out.len(), 300_001);
}

#[test]
fn bad_scripts_exit_100_naming_the_directive() {
    let t = TempDir::new("log-bad");
    for (args, msg) in [
        (vec!["xyz"], "s6-log: fatal: unrecognized directive: xyz"),
        (vec!["tt", "1"], "s6-log: fatal: syntax error at directive: tt"),
        (vec!["+a(", "1"], "s6-log: fatal: unrecognized directive: +a("),
        (vec!["n5", "t"], "s6-log: fatal: no action directive specified"),
        (vec!["s5000", "l3000", "1"], "s6-log: fatal: directive l3000 conflicts with previous s directive"),
        (vec!["-z", "1"], "s6-log: usage: s6-log [ -d notif ]"),
        (vec![], "s6-log: usage: "),
        (vec!["-d", "2", "1"], "s6-log: fatal: notification fd must be 3 or more"),
    ] {
        let mut cmd = std::process::Command::new(log());
        cmd.args(&args).current_dir(t.path());
        let out = run(cmd, T);
        assert_eq!(out.status.code(), Some(100), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with(msg), "{args:?}: {err}");
    }
    // Trailing selections draw a warning only.
    let (code, out, err) = once(&["1", "+x"], b"l\n", t.path());
    assert_eq!((code, out), (0, b"l\n".to_vec()));
    assert_eq!(err, "s6-log: warning: ignoring extraneous non-action directives\n");
}

#[test]
fn second_logger_on_a_logdir_fails() {
    let t = TempDir::new("log-lock");
    let d = arg(t.path(), "d");
    let first = Running::start(&log(), &["-d3", &d], t.path(), true);
    let mut cmd = std::process::Command::new(log());
    cmd.arg(&d);
    let out = run(cmd, T);
    assert_eq!(out.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("s6-log: fatal: unable to lock {d}/lock: Device or resource busy\n")
    );
    let (code, _) = first.finish(T);
    assert_eq!(code, 0);
}

#[test]
fn readiness_and_blocking_mode() {
    let t = TempDir::new("log-b");
    let d = arg(t.path(), "d");
    let mut l = Running::start(&log(), &["-b", "-d", "3", "s4096", "n3", &d], t.path(), true);
    let data = lines("b", 2000, 64);
    l.write(&data);
    let (code, _) = l.finish(T);
    assert_eq!(code, 0);
    // n3 kept only the three newest archives; what is left is the tail of the input.
    let got = content(&t.join("d"));
    assert!(data.ends_with(&got));
    assert_eq!(archives(&t.join("d")).len(), 3);
}
