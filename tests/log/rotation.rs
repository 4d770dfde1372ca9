//! s6-log rotation: size, count and total-size trimming, periodic and SIGALRM rotation,
//! processors.

use std::time::Duration;

use super::{archives, arg, content, lines, log, mode, size, Running};
use crate::support::{wait_until, TempDir};

const T: Duration = Duration::from_secs(20);

#[test]
fn size_rotation_at_line_boundaries() {
    let t = TempDir::new("rot-size");
    let d = t.join("d");
    let mut l = Running::start(&log(), &["-d3", "s4096", "l96", "n100", &arg(t.path(), "d")], t.path(), true);
    let data = lines("s", 390, 100);
    l.write(&data);
    let (code, err) = l.finish(T);
    assert_eq!(code, 0, "{err}");
    assert_eq!(content(&d), data);
    let names = archives(&d);
    assert_eq!(names.len(), 9, "{names:?}");
    for n in &names {
        assert!(n.ends_with(".s"));
        // Rotation once size + 96 >= 4096, at the end of a line: 40 lines of 100 bytes.
        assert_eq!(size(&d.join(n)), 4000, "{n}");
        assert_eq!(mode(&d.join(n)), 0o744);
    }
    assert_eq!(size(&d.join("current")), 3000);
    assert!(!d.join("previous").exists());
}

#[test]
fn count_trimming_keeps_the_newest() {
    let t = TempDir::new("rot-count");
    let d = t.join("d");
    let mut l = Running::start(&log(), &["-d3", "s4096", "l0", "n2", &arg(t.path(), "d")], t.path(), true);
    let data = lines("n", 1000, 100);
    l.write(&data);
    assert_eq!(l.finish(T).0, 0);
    assert_eq!(archives(&d).len(), 2);
    let got = content(&d);
    assert!(data.ends_with(&got), "kept content is not the newest");
    assert!(got.len() > 8000);
}

#[test]
fn total_size_trimming() {
    let t = TempDir::new("rot-total");
    let d = t.join("d");
    let mut l =
        Running::start(&log(), &["-d3", "s4096", "l0", "n100", "S9000", &arg(t.path(), "d")], t.path(), true);
    let data = lines("S", 1000, 100);
    l.write(&data);
    assert_eq!(l.finish(T).0, 0);
    let names = archives(&d);
    let total: u64 = names.iter().map(|n| size(&d.join(n))).sum();
    assert!(total <= 9000, "{total}");
    assert_eq!(names.len(), 2);
    assert!(data.ends_with(&content(&d)));
}

#[test]
fn sigalrm_rotates() {
    let t = TempDir::new("rot-alrm");
    let d = t.join("d");
    let mut l = Running::start(&log(), &["-d3", &arg(t.path(), "d")], t.path(), true);
    l.write(b"before alarm\n");
    assert!(wait_until(T, || size(&d.join("current")) == 13));
    l.signal(libc::SIGALRM);
    assert!(wait_until(T, || archives(&d).len() == 1));
    assert_eq!(std::fs::read(d.join(&archives(&d)[0])).unwrap(), b"before alarm\n");
    // An empty current is rotated away without making an archive.
    l.signal(libc::SIGALRM);
    l.write(b"after\n");
    assert_eq!(l.finish(T).0, 0);
    assert_eq!(archives(&d).len(), 1);
    assert_eq!(content(&d), b"before alarm\nafter\n");
}

#[test]
fn periodic_rotation() {
    let t = TempDir::new("rot-period");
    let d = t.join("d");
    let mut l = Running::start(&log(), &["-d3", "R1", &arg(t.path(), "d")], t.path(), true);
    l.write(b"one\n");
    assert!(wait_until(T, || archives(&d).len() == 1));
    l.write(b"two\n");
    assert!(wait_until(T, || archives(&d).len() == 2));
    assert_eq!(l.finish(T).0, 0);
    assert_eq!(content(&d), b"one\ntwo\n");
}

#[test]
fn shell_processor_with_state() {
    let t = TempDir::new("rot-proc-sh");
    let d = t.join("d");
    // Uppercases the archive and counts rotations in the state file (fd 4 in, fd 5 out).
    let proc_ = "?tr a-z A-Z && n=$(cat <&4) && echo $((${n:-0} + 1)) >&5";
    let mut l =
        Running::start(&log(), &["-d3", "s4096", "l0", "n10", proc_, &arg(t.path(), "d")], t.path(), true);
    let data = lines("p", 100, 100);
    l.write(&data);
    assert_eq!(l.finish(T).0, 0);
    let names = archives(&d);
    assert_eq!(names.len(), 2);
    let mut expect = data[..8200].to_ascii_uppercase();
    expect.extend(&data[8200..]);
    assert_eq!(content(&d), expect);
    assert_eq!(std::fs::read_to_string(d.join("state")).unwrap(), "2\n");
    for f in ["previous", "processed", "newstate"] {
        assert!(!d.join(f).exists(), "{f} left behind");
    }
}

#[test]
fn execline_processor() {
    let t = TempDir::new("rot-proc-el");
    let d = t.join("d");
    let mut l = Running::start(&log(), &["-d3", "!tr a-z A-Z", &arg(t.path(), "d")], t.path(), true);
    l.write(b"lower case\n");
    assert!(wait_until(T, || size(&d.join("current")) == 11));
    l.signal(libc::SIGALRM);
    assert!(wait_until(T, || archives(&d).len() == 1));
    assert_eq!(l.finish(T).0, 0);
    assert_eq!(content(&d), b"LOWER CASE\n");
}

#[test]
fn failing_processor_is_retried() {
    let t = TempDir::new("rot-proc-fail");
    let d = t.join("d");
    std::fs::write(t.join("fail-once"), b"").unwrap();
    let marker = arg(t.path(), "fail-once");
    let proc_ = format!("?if [ -e {marker} ]; then rm {marker}; exit 1; fi; cat");
    let mut l = Running::start(&log(), &["-d3", "r100", &proc_, &arg(t.path(), "d")], t.path(), true);
    l.write(b"kept\n");
    assert!(wait_until(T, || size(&d.join("current")) == 5));
    l.signal(libc::SIGALRM);
    l.wait_stderr(&format!("s6-log: warning: processor failed in {}", d.display()), T);
    assert!(wait_until(T, || archives(&d).len() == 1));
    l.write(b"more\n");
    let (code, _) = l.finish(T);
    assert_eq!(code, 0);
    assert_eq!(content(&d), b"kept\nmore\n");
}

#[test]
fn lines_written_during_processing_are_kept() {
    let t = TempDir::new("rot-proc-slow");
    let d = t.join("d");
    let gate = t.join("gate");
    let proc_ = format!("?while [ ! -e {} ]; do sleep 0.05; done; cat", gate.display());
    let mut l = Running::start(&log(), &["-d3", "s4096", &proc_, &arg(t.path(), "d")], t.path(), true);
    let data = lines("w", 200, 100);
    l.write(&data);
    // The first rotation waits for the gate while more lines come in.
    assert!(wait_until(T, || d.join("processed").exists()));
    std::fs::write(&gate, b"").unwrap();
    assert_eq!(l.finish(T).0, 0);
    assert_eq!(content(&d), data);
}

#[test]
fn processors_inherit_a_closed_stderr_reopened_on_dev_null() {
    // s6-log started with fd 2 closed runs with fd 2 open on /dev/null (Rust's start-up
    // and s6-log's own fd check both see to it), and its processor inherits it.
    let t = TempDir::new("rot-proc-fd2");
    let d = t.join("d");
    let proc_ = "?cat; if [ -e /proc/self/fd/2 ]; then echo fd2 open; else echo fd2 closed; fi";
    let log = log();
    let args = ["-c", "exec 2>&- \"$0\" \"$@\"", log.to_str().unwrap(), "-d3", proc_, &arg(t.path(), "d")];
    let mut l = Running::start(std::path::Path::new("/bin/sh"), &args, t.path(), true);
    l.write(b"line\n");
    assert!(wait_until(T, || size(&d.join("current")) == 5));
    l.signal(libc::SIGALRM);
    assert!(wait_until(T, || archives(&d).len() == 1));
    assert_eq!(l.finish(T).0, 0);
    assert_eq!(content(&d), b"line\nfd2 open\n");
}
