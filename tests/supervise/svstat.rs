//! s6-svstat: golden comparisons with Debian's s6-svstat (2.11) on crafted status files,
//! for everything 2.11 and 2.15 print alike, and our exact 2.15 output where they differ.
//!
//! Differences from 2.11, checked explicitly: the up line names the process group
//! (`up (pid P pgid P)`; 2.11 prints `up (pid P)`), `-g`/`pgid` exist, and a status with
//! `pid == 0 && !finishing && paused` reads as "not started yet".

use std::path::Path;
use std::time::Instant;

use s6rs_supervise::svstatus::Status;
use s6rs_sys::tai::Tain;

use super::clients_util::*;
use crate::support::*;

const FIELDS_2_11: &str = "up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor";

fn svstat(
    prog: fn(&str, &[&std::ffi::OsStr]) -> std::process::Output,
    args: &[&str],
    dir: &Path,
) -> (Option<i32>, String) {
    let mut v: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    v.push(dir.as_os_str());
    let o = prog("s6-svstat", &v);
    (o.status.code(), out(&o))
}

fn ours_(name: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    ours(name, args)
}

fn theirs_(name: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    theirs(name, args)
}

/// Ours and Debian's agree on `st`, up to the 2.15 `pgid` in the up line. The stamps were
/// taken at `made`; before each comparison they are moved forward by the time elapsed since,
/// so that the ages both programs print stay the same however slow the machine is. A
/// second boundary can still fall between the two runs of a pair: that pair is retried.
fn compare(dir: &Path, st: &Status, normallyup: bool, made: Instant) {
    compare_fields(dir, st, normallyup, FIELDS_2_11, made)
}

/// [`compare`] with a chosen `-o` list.
fn compare_fields(dir: &Path, st: &Status, normallyup: bool, fields: &str, made: Instant) {
    if normallyup {
        let _ = std::fs::remove_file(dir.join("down"));
    } else {
        std::fs::write(dir.join("down"), "").unwrap();
    }
    for args in [&[][..], &["-n"], &["-o", fields], &["-uwNrpest"], &["-n", "-o", "signal,signum,exitcode"]]
        .iter()
        .copied()
        .chain(["-u", "-w", "-N", "-r", "-p", "-e", "-s", "-t"].iter().map(std::slice::from_ref))
    {
        let mut tries = 0;
        loop {
            let shift = made.elapsed();
            Status { stamp: st.stamp.add(shift), readystamp: st.readystamp.add(shift), ..*st }
                .write(dir)
                .unwrap();
            let (rc, mut want) = svstat(theirs_, args, dir);
            assert_eq!(rc, Some(0));
            if st.is_up() && (args.is_empty() || args == ["-n"]) {
                let p = st.pid;
                let old = format!("up (pid {p}) ");
                assert!(want.starts_with(&old), "2.11 up line: {want}");
                want = want.replacen(&old, &format!("up (pid {p} pgid {p}) "), 1);
            }
            let got = svstat(ours_, args, dir);
            tries += 1;
            if got == (Some(0), want.clone()) {
                break;
            }
            assert!(
                tries < 3,
                "state {st:?}, normallyup {normallyup}, args {args:?}: ours {got:?}, 2.11 {want:?}"
            );
        }
    }
    // 2.15 only: pgid is the pid (the service leads its own session).
    assert_eq!(svstat(ours_, &["-g"], dir), svstat(ours_, &["-p"], dir));
    assert_eq!(svstat(ours_, &["-o", "pgid,pid"], dir).1, {
        let p = svstat(ours_, &["-p"], dir).1;
        format!("{} {}", p.trim_end(), p)
    });
}

fn wstat_exit(code: u16) -> u16 {
    code << 8
}

#[test]
fn svstat_matches_real_on_crafted_states() {
    let t = TempDir::new("svstat-golden");
    let dir = t.join("svc");
    let _lock = hold(&dir);
    let made = Instant::now();
    let base = Status { stamp: ago(12), readystamp: ago(7), ..Default::default() };
    let cases: Vec<(Status, bool)> = vec![
        // Up and ready, wanted up.
        (Status { pid: 4242, wantup: true, ready: true, ..base }, true),
        (Status { pid: 4242, wantup: true, ready: true, ..base }, false),
        // Up, not ready yet, paused, wanted down, normally down.
        (Status { pid: 77, paused: true, ..base }, false),
        (Status { pid: 77, paused: true, wantup: true, ..base }, true),
        // Down after exit codes, ready to start again.
        (Status { wstat: 0, ready: true, ..base }, false),
        (Status { wstat: wstat_exit(3), wantup: true, ready: true, ..base }, true),
        (Status { wstat: wstat_exit(255), ready: true, ..base }, true),
        // Down after signals (with and without the core-dump bit).
        (Status { wstat: libc::SIGTERM as u16, wantup: true, ready: true, ..base }, true),
        (Status { wstat: 0x89, ready: true, ..base }, false),
        (Status { wstat: 0x8b, wantup: true, ready: true, ..base }, true),
        (Status { wstat: libc::SIGABRT as u16, ready: true, ..base }, true),
        (Status { wstat: libc::SIGHUP as u16, ..base }, true),
        // A real-time signal has no name: SIG???.
        (Status { wstat: 34, ready: true, ..base }, true),
        // A stopped status is neither an exit nor a signal death.
        (Status { wstat: 0x137f, ready: true, ..base }, true),
        // ./finish running: its pid is in the record, the service counts as down.
        (Status { pid: 555, finishing: true, wstat: libc::SIGTERM as u16, wantup: true, ..base }, true),
        (Status { pid: 556, finishing: true, wstat: wstat_exit(1), ..base }, false),
        // Down, not ready, wanted up (between death and finish, as seen by a reader).
        (Status { wstat: wstat_exit(2), wantup: true, ..base }, true),
    ];
    for (st, normallyup) in &cases {
        compare(&dir, st, *normallyup, made);
    }

    // A stamp in the future reads as "now" (so updownsince changes from run to run); a
    // future readystamp wraps around as in skalibs.
    let future = Tain { sec: Tain::now().sec + 100, nano: 0 };
    let no_since =
        "up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,readysince,updownfor,readyfor";
    compare_fields(&dir, &Status { stamp: future, pid: 9, wantup: true, ..base }, true, no_since, made);
    compare(&dir, &Status { readystamp: future, wstat: 0, ready: true, ..base }, true, made);
}

#[test]
fn svstat_not_started_yet_is_2_15_only() {
    let t = TempDir::new("svstat-fresh");
    let dir = t.join("svc");
    let _lock = hold(&dir);
    let st = Status {
        stamp: ago(3),
        readystamp: ago(3),
        paused: true,
        wantup: true,
        ready: true,
        ..Default::default()
    };
    st.write(&dir).unwrap();
    assert_eq!(
        svstat(ours_, &[], &dir),
        (Some(0), "down (not started yet) , normally up, want up\n".to_owned())
    );
    assert_eq!(
        svstat(ours_, &["-o", "up,paused,pid,pgid,exitcode,signal,signum,ready"], &dir),
        (Some(0), "false false -1 -1 -1 NA -1 false\n".to_owned())
    );
    // 2.11 knows no such state: it shows the initial record as a fresh exit 0, paused.
    assert_eq!(svstat(theirs_, &["-o", "paused,exitcode"], &dir), (Some(0), "true 0\n".to_owned()));
    Status { stamp: ago(3), readystamp: ago(3), ..st }.write(&dir).unwrap();
    assert!(svstat(theirs_, &[], &dir).1.starts_with("down (exitcode 0) 3 seconds"));

    std::fs::write(dir.join("down"), "").unwrap();
    let st = Status { wantup: false, ..st };
    st.write(&dir).unwrap();
    assert_eq!(svstat(ours_, &[], &dir), (Some(0), "down (not started yet) \n".to_owned()));
}

#[test]
fn svstat_without_a_supervisor_exits_1() {
    let t = TempDir::new("svstat-nosup");
    let dir = service_dir(t.path(), "svc", SLEEPER);
    for prog in [ours_ as fn(&str, &[&std::ffi::OsStr]) -> std::process::Output, theirs_] {
        assert_eq!(svstat(prog, &[], &dir), (Some(1), String::new()));
    }
    let o = ours("s6-svstat", &[&dir]);
    assert_eq!(
        err(&o),
        format!("s6-svstat: fatal: unable to read status for {}: s6-supervise not running\n", dir.display())
    );
    // A lock file nobody holds, and a status left behind: still not supervised.
    std::fs::create_dir(dir.join("supervise")).unwrap();
    std::fs::write(dir.join("supervise/lock"), "").unwrap();
    Status::default().write(&dir).unwrap();
    assert_eq!(svstat(ours_, &[], &dir), (Some(1), String::new()));
}

#[test]
fn svstat_bad_status_and_usage() {
    let t = TempDir::new("svstat-bad");
    let dir = t.join("svc");
    let _lock = hold(&dir);
    std::fs::write(dir.join("supervise/status"), [0u8; 34]).unwrap();
    let o = ours("s6-svstat", &[&dir]);
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        err(&o),
        format!("s6-svstat: fatal: unable to read status for {}: Broken pipe\n", dir.display())
    );
    assert_eq!(theirs("s6-svstat", &[&dir]).status.code(), Some(111));
    // Extra bytes are ignored.
    let mut long = Status { pid: 5, ..Default::default() }.pack().to_vec();
    long.extend_from_slice(b"junk");
    std::fs::write(dir.join("supervise/status"), long).unwrap();
    assert_eq!(svstat(ours_, &["-p"], &dir), (Some(0), "5\n".to_owned()));

    let bad = |args: &[&str]| {
        let o = ours("s6-svstat", args);
        (o.status.code(), err(&o))
    };
    let usage = "s6-svstat: usage: s6-svstat [ -uwNrpgest | -o up,wantedup,normallyup,ready,paused,pid,pgid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor ] [ -n ] servicedir\n";
    assert_eq!(bad(&[]), (Some(100), usage.to_owned()));
    assert_eq!(bad(&["-x", "d"]), (Some(100), usage.to_owned()));
    assert_eq!(
        bad(&["-o", "up,bogus", "d"]),
        (Some(100), "s6-svstat: fatal: invalid option field: bogus\n".to_owned())
    );
    let many = vec!["up"; 17].join(",");
    assert_eq!(
        bad(&["-o", &many, "d"]),
        (Some(100), "s6-svstat: fatal: too many option fields\n".to_owned())
    );
    assert_eq!(bad(&["-uuuuuuuuuuuuuuuuu", "d"]).0, Some(100));
    // Sixteen is fine, and an empty list means the human line.
    let sixteen = vec!["up"; 16].join(",");
    let o = svstat(ours_, &["-o", &sixteen], &dir);
    assert_eq!(o, (Some(0), format!("{}\n", vec!["true"; 16].join(" "))));
    assert!(svstat(ours_, &["-o", ""], &dir).1.starts_with("up (pid 5 pgid 5) "));
}
