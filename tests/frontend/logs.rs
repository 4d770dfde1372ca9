//! `s6-rs logs`: archives then `current` with local times, `-n`, and `-f` across many
//! rotations by our s6-log (with and without a processor) without a missing or repeated line.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::supervise::svscan::service;
use crate::support::*;

const T: Duration = Duration::from_secs(30);

fn numbered(out: &str) -> Vec<u32> {
    out.lines().filter_map(|l| l.rsplit_once(" line ").and_then(|(_, n)| n.parse().ok())).collect()
}

#[test]
fn logs_prints_archives_then_current_with_local_times() {
    let t = TempDir::new("frontend-logs");
    let logdir = t.join("logs");
    let mut c = Command::new(bin("s6-log"));
    c.args(["t", "s4096", "n100"]).arg(&logdir);
    let mut input = String::new();
    for i in 0..300 {
        input.push_str(&format!("message line {i}\n"));
    }
    let o = run_with_input(c, input.as_bytes(), T);
    assert_eq!(o.status.code(), Some(0));
    assert!(std::fs::read_dir(&logdir).unwrap().count() > 3, "no rotation happened");

    // Found from the service's logger run script, relative to the logger's directory.
    let svc = t.join("svc");
    service(&svc, "exec true\n");
    service(&svc.join("log"), "exec s6-log -d3 -- t s4096 ../../logs\n");
    for dir in [&logdir, &svc] {
        let mut c = Command::new(bin("s6-rs"));
        c.arg("logs").arg(dir).env("TZ", "UTC0");
        let o = run(c, T);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8(o.stdout).unwrap();
        assert_eq!(numbered(&out), (0..300).collect::<Vec<_>>());
        let first = out.lines().next().unwrap();
        assert!(first.starts_with("20") && first.as_bytes()[10] == b' ' && !first.contains('@'), "{first}");
    }
    let mut c = Command::new(bin("s6-rs"));
    c.args(["logs", "-n", "5"]).arg(&logdir);
    assert_eq!(numbered(&String::from_utf8(run(c, T).stdout).unwrap()), [295, 296, 297, 298, 299]);

    let mut c = Command::new(bin("s6-rs"));
    c.args(["logs"]).arg(t.join("nothing-here"));
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(111));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unable to find the logdir"));
}

#[test]
fn logs_follow_across_rotations_misses_and_repeats_nothing() {
    follow_across_rotations("frontend-logs-follow", &[], true);
}

/// With a processor the archives hold rewritten lines in new files, not the renamed
/// `current`: the follower must print each line once, as read from `current`, and never
/// the processed copy. Lines come in batches the follower prints before the next, so it
/// sees every file (a file rotated and processed entirely between two looks can only come
/// from its processed archive: see `frontend/src/logs.rs`).
#[test]
fn logs_follow_with_a_processor_prints_no_processed_copy() {
    follow_across_rotations("frontend-logs-follow-proc", &["?sed s/message/processed/"], true);
}

fn follow_across_rotations(name: &str, extra: &[&str], paced: bool) {
    let t = TempDir::new(name);
    let logdir = t.join("logs");
    let mut tree = Tree::new();
    let mut c = Command::new(bin("s6-log"));
    c.args(["t", "s4096", "n1000"]).args(extra).arg(&logdir).stdin(Stdio::piped());
    let mut log = c.spawn().unwrap();
    let mut stdin = log.stdin.take().unwrap();
    let log_pid = tree.add(log);
    writeln!(stdin, "message line 0").unwrap();
    assert!(wait_until(T, || std::fs::read(logdir.join("current")).is_ok_and(|d| !d.is_empty())));

    let out_path = t.join("out");
    let mut c = Command::new(bin("s6-rs"));
    c.args(["logs", "-f"]).arg(&logdir).stdout(std::fs::File::create(&out_path).unwrap());
    let follower = tree.spawn(c);
    let n: u32 = if paced { 1000 } else { 3000 };
    for i in 1..n {
        writeln!(stdin, "message line {i}").unwrap();
        if paced && i % 20 == 0 {
            // Fewer lines than a file holds: at most one rotation before the follower
            // has printed them all.
            stdin.flush().unwrap();
            let printed = |out: &str| numbered(out).last() == Some(&i);
            assert!(wait_until(T, || printed(&std::fs::read_to_string(&out_path).unwrap_or_default())));
        } else if !paced && i % 500 == 0 {
            // Bursts between looks, so some polls see several rotations at once.
            std::thread::sleep(Duration::from_millis(150));
        }
    }
    stdin.flush().unwrap();
    let expect: Vec<u32> = (0..n).collect();
    let mut got = Vec::new();
    let done = wait_until(T, || {
        got = numbered(&std::fs::read_to_string(&out_path).unwrap_or_default());
        got.len() >= n as usize
    });
    assert!(done, "followed {} lines of {n}", got.len());
    assert_eq!(got, expect);
    let out = std::fs::read_to_string(&out_path).unwrap();
    assert!(!out.contains("processed"), "a processed copy was printed");
    assert!(
        std::fs::read_dir(&logdir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('@'))
            .count()
            > 10,
        "too few rotations to test anything"
    );
    drop(stdin);
    assert!(tree.wait_exit(log_pid, T).is_some());
    tree.signal(follower, libc::SIGTERM);
    assert!(tree.wait_exit(follower, T).is_some());
}
