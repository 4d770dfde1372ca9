//! Interop for s6-supervise: Debian's real s6-svc, s6-svstat, s6-svok and s6-svwait drive our
//! supervisor, and the same scenarios under the real s6-supervise 2.11 and ours must give
//! the same events, status flags, wait statuses and death-tally records.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::supervise::supervise::{service, Sup};
use crate::support::*;

const T: Duration = Duration::from_secs(5);

pub(crate) fn real_run(prog: &str, args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let mut c = Command::new(real(prog));
    c.args(args).arg(dir);
    let out = run(c, Duration::from_secs(10));
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn interop_real_clients_drive_our_supervise() {
    let (_t, dir) = service("io-sv-clients", "echo ready >&3\nexec sleep 100");
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    let mut s = Sup::ours(&dir);
    s.ev.expect("su", T);
    let pid = s.adopt();

    assert_eq!(real_run("s6-svwait", &["-U", "-t", "5000"], &dir).0, Some(0));
    assert_eq!(real_run("s6-svok", &[], &dir).0, Some(0));
    let (code, out) = real_run("s6-svstat", &[], &dir);
    assert_eq!(code, Some(0));
    assert!(out.starts_with(&format!("up (pid {pid}) ")), "{out:?}");
    assert!(out.contains(" seconds, ready ") && out.ends_with(" seconds\n"), "{out:?}");
    let (_, fields) = real_run("s6-svstat", &["-o", "up,wantedup,ready,paused,pid"], &dir);
    assert_eq!(fields, format!("true true true false {pid}\n"));

    assert_eq!(real_run("s6-svc", &["-d"], &dir).0, Some(0));
    assert_eq!(real_run("s6-svwait", &["-D", "-t", "5000"], &dir).0, Some(0));
    let (_, out) = real_run("s6-svstat", &[], &dir);
    assert!(
        out.starts_with("down (signal SIGTERM) ") && out.contains(" seconds, normally up, ready "),
        "{out:?}"
    );
    let (_, fields) = real_run("s6-svstat", &["-o", "up,wantedup,normallyup,exitcode,signal"], &dir);
    assert_eq!(fields, "false false true -1 SIGTERM\n");

    // -wU: s6-svc runs the real s6-svlisten1 around the command.
    assert_eq!(real_run("s6-svc", &["-wU", "-T", "5000", "-u"], &dir).0, Some(0));
    s.adopt();
    assert!(s.status().ready);
    assert_eq!(real_run("s6-svc", &["-p"], &dir).0, Some(0));
    assert!(wait_until(T, || s.status().paused));
    let (_, fields) = real_run("s6-svstat", &["-o", "paused"], &dir);
    assert_eq!(fields, "true\n");
    assert_eq!(real_run("s6-svc", &["-c"], &dir).0, Some(0));
    assert!(wait_until(T, || !s.status().paused));

    // -O then a kill: no restart, and s6-svwait -d is satisfied.
    assert_eq!(real_run("s6-svc", &["-Ok"], &dir).0, Some(0));
    assert_eq!(real_run("s6-svwait", &["-D", "-t", "5000"], &dir).0, Some(0));
    let (_, fields) = real_run("s6-svstat", &["-o", "up,wantedup,signal"], &dir);
    assert_eq!(fields, "false false SIGKILL\n");

    assert_eq!(real_run("s6-svc", &["-x"], &dir).0, Some(0));
    assert_eq!(s.exit_code(T), Some(0));
    assert_eq!(real_run("s6-svok", &[], &dir).0, Some(1));
}

/// What one run of a scenario left: the events and the status/tally snapshots.
#[derive(Debug, PartialEq, Eq)]
struct Trace {
    events: String,
    snaps: Vec<(u8, u16, bool)>,
    tally: Vec<(u8, u8)>,
}

/// Lets the supervisor settle, tells it to exit, and returns the whole trace.
fn exit_trace(mut s: Sup, snaps: Vec<(u8, u16, bool)>, dir: &Path) -> Trace {
    s.ev.quiet(Duration::from_millis(1200));
    s.send("x");
    s.ev.expect("x", T);
    assert_eq!(s.exit_code(T), Some(0));
    Trace { events: s.ev.all(), snaps, tally: tally(dir) }
}

fn snap(s: &Sup) -> (u8, u16, bool) {
    let raw = std::fs::read(s.dir.join("supervise/status")).unwrap();
    let st = s.status();
    (raw[34], st.wstat, st.pid != 0)
}

fn tally(dir: &Path) -> Vec<(u8, u8)> {
    let t = std::fs::read(dir.join("supervise/death_tally")).unwrap();
    t.chunks(14).map(|r| (r[12], r[13])).collect()
}

/// Sends `cmds` and waits for the status file to change (commands without events).
fn send_and_settle(s: &Sup, cmds: &str) {
    let before = std::fs::read(s.dir.join("supervise/status")).unwrap();
    s.send(cmds);
    assert!(wait_until(T, || std::fs::read(s.dir.join("supervise/status")).unwrap() != before));
}

/// Readiness, death with exit 3, finish exiting 125 (permanent failure), then x.
fn scenario_permanent_failure(prog: &Path) -> Trace {
    let (_t, dir) = service("io-sv-perma", "echo ready >&3\nsleep 0.3\nexit 3");
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    script(&dir.join("finish"), "#!/bin/sh\nexit 125\n");
    let mut s = Sup::start(prog, &dir);
    let mut snaps = Vec::new();
    s.ev.expect("su", T);
    s.adopt();
    s.ev.expect("U", T);
    snaps.push(snap(&s));
    s.ev.expect("dOD", T);
    snaps.push(snap(&s));
    exit_trace(s, snaps, &dir)
}

/// d, u, p, c, Q, k with no finish script.
fn scenario_commands(prog: &Path) -> Trace {
    let (_t, dir) = service("io-sv-cmds", "exec sleep 100");
    let mut s = Sup::start(prog, &dir);
    let mut snaps = Vec::new();
    s.ev.expect("su", T);
    s.adopt();
    snaps.push(snap(&s));
    s.send("d");
    s.ev.expect("dD", T);
    snaps.push(snap(&s));
    s.send("u");
    s.ev.expect("u", T);
    s.adopt();
    send_and_settle(&s, "p");
    snaps.push(snap(&s));
    send_and_settle(&s, "c");
    snaps.push(snap(&s));
    send_and_settle(&s, "Q");
    snaps.push(snap(&s));
    assert!(dir.join("down").exists());
    s.send("k");
    s.ev.expect("dD", T);
    snaps.push(snap(&s));
    exit_trace(s, snaps, &dir)
}

#[test]
fn interop_golden_permanent_failure_matches_real_supervise() {
    let theirs = scenario_permanent_failure(&real("s6-supervise"));
    let ours = scenario_permanent_failure(&bin("s6-supervise"));
    assert_eq!(ours, theirs);
    assert_eq!(ours.events, "suUdODx");
    assert_eq!(ours.snaps, vec![(0x0c, 0, true), (0x08, 0x0300, false)]);
    assert_eq!(ours.tally, vec![(3, 0)]);
}

#[test]
fn interop_golden_commands_match_real_supervise() {
    let theirs = scenario_commands(&real("s6-supervise"));
    let ours = scenario_commands(&bin("s6-supervise"));
    assert_eq!(ours, theirs);
    assert_eq!(ours.events, "sudDudDx");
    assert_eq!(
        ours.snaps,
        vec![
            (0x04, 0, true),
            (0x08, 15, false),
            (0x05, 15, true),
            (0x04, 15, true),
            (0x00, 15, true),
            (0x08, 9, false)
        ]
    );
    assert_eq!(ours.tally, vec![(0x8f, 15), (0x89, 9)]);
}

/// The `SigBlk`/`SigIgn` lines of `./run` under `prog` started with `ignored` ignored.
fn run_signals(prog: &Path, ignored: &[i32]) -> String {
    let (_t, dir) = service("io-sv-sigs", RECORD_SIGNALS);
    let mut s = Sup::start_ignoring(prog, &dir, ignored);
    s.ev.expect("su", T);
    s.adopt();
    assert!(wait_until(T, || dir.join("sigs").exists()), "./run never wrote its signal state");
    std::fs::read_to_string(dir.join("sigs")).unwrap()
}

/// A service keeps the dispositions its supervisor inherited ignored, except SIGPIPE, which
/// it always gets at its default, and starts with nothing blocked: as under s6-supervise
/// 2.11 (ours used to reset HUP, INT, USR1... to their defaults).
#[test]
fn interop_run_inherits_the_supervisors_ignored_signals() {
    let ignored = [
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGWINCH,
        libc::SIGTTOU,
        libc::SIGXFSZ,
        libc::SIGPIPE,
        40,
    ];
    let theirs = run_signals(&real("s6-supervise"), &ignored);
    let ours = run_signals(&bin("s6-supervise"), &ignored);
    assert_eq!(ours, theirs);
    let kept: Vec<i32> = ignored.iter().copied().filter(|&s| s != libc::SIGPIPE).collect();
    assert_eq!(ours, signal_lines(&kept));

    // Nothing ignored, or only SIGPIPE: nothing ignored in the service.
    for ignored in [&[][..], &[libc::SIGPIPE][..]] {
        let theirs = run_signals(&real("s6-supervise"), ignored);
        let ours = run_signals(&bin("s6-supervise"), ignored);
        assert_eq!(ours, theirs, "supervisor ignoring {ignored:?}");
        assert_eq!(ours, signal_lines(&[]));
    }
}
