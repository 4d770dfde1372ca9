//! The death tally's readers: s6-svdt, s6-svdt-clear and s6-permafailon, compared with
//! Debian's programs on the same crafted `supervise/death_tally`, plus s6-permafailon as the
//! `finish` of a service under the real s6-supervise.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use s6rs_supervise::dtally::Death;

use super::clients_util::*;
use crate::support::*;

fn write_tally(dir: &Path, deaths: &[Death]) {
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    let bytes: Vec<u8> = deaths.iter().flat_map(|d| d.pack()).collect();
    std::fs::write(dir.join("supervise/death_tally"), bytes).unwrap();
}

fn death(secs_ago: u64, exitcode: u8, sig: u8) -> Death {
    Death { stamp: ago(secs_ago), exitcode, sig }
}

fn both(name: &str, args: &[&str], dir: &Path) -> (Output, Output) {
    let mut v: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    v.push(dir.as_os_str());
    (ours(name, &v), theirs(name, &v))
}

fn same(o: &Output, r: &Output) {
    assert_eq!((o.status.code(), out(o)), (r.status.code(), out(r)), "ours stderr: {}", err(o));
}

#[test]
fn svdt_matches_real() {
    let t = TempDir::new("svdt");
    let dir = t.join("svc");
    let deaths = [
        death(50, 0, 0),
        death(40, 1, 0),
        death(30, 255, 0),
        death(20, 143, 15),
        death(10, 137, 9),
        death(5, 134, 6),
        death(4, 139, 11),
        death(2, 162, 34),
    ];
    write_tally(&dir, &deaths);
    for args in
        [&[][..], &["-s"], &["-S"], &["-s", "-S"], &["-n", "2"], &["-sn3"], &["-n", "0"], &["-n", "99999"]]
    {
        let (o, r) = both("s6-svdt", args, &dir);
        same(&o, &r);
    }
    let (o, _) = both("s6-svdt", &["-s", "-n", "2"], &dir);
    assert_eq!(
        out(&o),
        format!("{} signal 11\n{} signal 34\n", deaths[6].stamp.label(), deaths[7].stamp.label())
    );
    let (o, _) = both("s6-svdt", &["-n", "3"], &dir);
    assert_eq!(
        out(&o),
        format!(
            "{} signal SIGABRT\n{} signal SIGSEGV\n{} signal SIG???\n",
            deaths[5].stamp.label(),
            deaths[6].stamp.label(),
            deaths[7].stamp.label()
        )
    );
}

#[test]
fn svdt_missing_or_corrupt_tally_is_truncated() {
    let t = TempDir::new("svdt-corrupt");
    for prog in ["ours", "theirs"] {
        let dir = t.join(prog);
        std::fs::create_dir_all(dir.join("supervise")).unwrap();
        let run_it = |d: &Path| if prog == "ours" { ours("s6-svdt", &[d]) } else { theirs("s6-svdt", &[d]) };
        let o = run_it(&dir);
        assert_eq!((o.status.code(), out(&o)), (Some(0), String::new()));
        assert_eq!(std::fs::read(dir.join("supervise/death_tally")).unwrap(), b"", "{prog} creates it");
        std::fs::write(dir.join("supervise/death_tally"), [1u8; 15]).unwrap();
        let o = run_it(&dir);
        assert_eq!((o.status.code(), out(&o)), (Some(0), String::new()));
        assert_eq!(std::fs::read(dir.join("supervise/death_tally")).unwrap(), b"", "{prog} truncates it");
    }
    let missing = t.join("nope");
    let o = ours("s6-svdt", &[&missing]);
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        err(&o),
        format!(
            "s6-svdt: fatal: unable to read death tally for service {}: No such file or directory\n",
            missing.display()
        )
    );
    assert_eq!(theirs("s6-svdt", &[&missing]).status.code(), Some(111));
    assert_eq!(ours("s6-svdt", &["-n", "x", "d"]).status.code(), Some(100));
    assert_eq!(ours::<&str>("s6-svdt", &[]).status.code(), Some(100));
}

#[test]
fn svdt_clear_empties_the_tally() {
    let t = TempDir::new("svdt-clear");
    for prog in ["ours", "theirs"] {
        let dir = t.join(prog);
        write_tally(&dir, &[death(3, 1, 0), death(2, 143, 15)]);
        let o =
            if prog == "ours" { ours("s6-svdt-clear", &[&dir]) } else { theirs("s6-svdt-clear", &[&dir]) };
        assert!(o.status.success() && o.stdout.is_empty());
        assert_eq!(std::fs::read(dir.join("supervise/death_tally")).unwrap(), b"", "{prog}");
        assert!(!dir.join("supervise/death_tally.new").exists());
    }
    let missing = t.join("nope");
    let o = ours("s6-svdt-clear", &[&missing]);
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        err(&o),
        format!(
            "s6-svdt-clear: fatal: unable to clear death tally for service {}: No such file or directory\n",
            missing.display()
        )
    );
    let o = ours::<&str>("s6-svdt-clear", &[]);
    assert_eq!(
        (o.status.code(), err(&o)),
        (Some(100), "s6-svdt-clear: usage: s6-svdt-clear servicedir\n".to_owned())
    );
}

/// Runs s6-permafailon (ours and Debian's) in `dir` with `args` then `echo went on`.
fn permafailon(dir: &Path, args: &[&str]) -> (Output, Output) {
    let go = |prog: std::path::PathBuf| {
        let mut c = Command::new(prog);
        c.current_dir(dir).args(args).args(["echo", "went on"]);
        run(c, T)
    };
    (go(bin("s6-permafailon")), go(real("s6-permafailon")))
}

fn fails(dir: &Path, args: &[&str]) -> bool {
    let (o, r) = permafailon(dir, args);
    assert_eq!((o.status.code(), out(&o), err(&o)), (r.status.code(), out(&r), err(&r)), "args {args:?}");
    match o.status.code() {
        Some(125) => {
            assert!(o.stdout.is_empty());
            true
        }
        Some(0) => {
            assert_eq!(out(&o), "went on\n");
            false
        }
        c => panic!("args {args:?}: exit {c:?}, {}", err(&o)),
    }
}

#[test]
fn permafailon_matches_real() {
    let t = TempDir::new("permafail");
    let dir = t.join("svc");
    write_tally(
        &dir,
        &[death(100, 1, 0), death(30, 1, 0), death(20, 1, 0), death(10, 143, 15), death(5, 1, 0)],
    );
    assert!(fails(&dir, &["60", "3", "1"]));
    assert!(!fails(&dir, &["60", "4", "1"]));
    assert!(fails(&dir, &["200", "4", "1"]));
    assert!(!fails(&dir, &["60", "1", "2,3,4-100"]));
    assert!(fails(&dir, &["60", "4", "0-1,SIGTERM"]));
    for sig in
        ["SIGTERM", "sigterm", "TERM", "term", "sig15", "Sig15", "143", "128-255", "2;sigterm", "3 TERM"]
    {
        assert!(fails(&dir, &["60", "1", sig]), "{sig}");
    }
    assert!(!fails(&dir, &["60", "2", "SIGTERM"]));
    assert!(!fails(&dir, &["60", "1", "SIGKILL,9,137"]));
    // Asking for more deaths than were recorded: straight to prog.
    assert!(!fails(&dir, &["1000", "6", "0-255"]));
    let (o, _) = permafailon(&dir, &["60", "3", "1"]);
    assert_eq!(
        err(&o),
        "s6-permafailon: info: PERMANENT FAILURE triggered after 3 events involving exit code 1 in the last 60 seconds\n"
    );
    let (o, _) = permafailon(&dir, &["60", "1", "sigterm"]);
    assert_eq!(
        err(&o),
        "s6-permafailon: info: PERMANENT FAILURE triggered after 1 events involving signal 15 in the last 60 seconds\n"
    );
}

#[test]
fn permafailon_bad_input_and_unusable_tallies() {
    let t = TempDir::new("permafail-bad");
    let dir = t.join("svc");
    std::fs::create_dir_all(&dir).unwrap();
    // No tally at all: a warning, then prog.
    assert!(!fails(&dir, &["60", "1", "1"]));
    let (o, _) = permafailon(&dir, &["60", "1", "1"]);
    assert_eq!(
        err(&o),
        "s6-permafailon: warning: unable to stat supervise/death_tally: No such file or directory\n"
    );
    // A corrupt tally: a warning, then prog.
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    std::fs::write(dir.join("supervise/death_tally"), [0u8; 15]).unwrap();
    assert!(!fails(&dir, &["60", "1", "1"]));
    let (o, _) = permafailon(&dir, &["60", "1", "1"]);
    assert_eq!(err(&o), "s6-permafailon: warning: invalid supervise/death_tally\n");

    for (args, msg) in [
        (&["60", "1", "256"][..], "s6-permafailon: fatal: invalid exit code\n"),
        (&["60", "1", "5-3"], "s6-permafailon: fatal: invalid interval\n"),
        (&["60", "1", "5-"], "s6-permafailon: fatal: invalid interval specification\n"),
        (&["60", "1", "SIGNOPE"], "s6-permafailon: fatal: invalid status list specification\n"),
        (&["60", "1", "sig0"], "s6-permafailon: fatal: invalid signal\n"),
    ] {
        let (o, r) = permafailon(&dir, args);
        assert_eq!((o.status.code(), err(&o)), (Some(100), msg.to_owned()), "{args:?}");
        assert_eq!(r.status.code(), Some(100), "{args:?}");
    }
    let usage = "s6-permafailon: usage: s6-permafailon seconds deathcount statuslist prog...\n";
    for args in [&["60", "0", "1"][..], &["x", "1", "1"], &["60", "-1", "1"]] {
        let (o, r) = permafailon(&dir, args);
        assert_eq!((o.status.code(), err(&o)), (Some(100), usage.to_owned()), "{args:?}");
        assert_eq!(r.status.code(), Some(100));
    }
    let o = ours("s6-permafailon", &["60", "1"]);
    assert_eq!((o.status.code(), err(&o)), (Some(100), usage.to_owned()));
    // Nothing to exec: exit 0. A prog that does not exist: 127.
    let mut c = Command::new(bin("s6-permafailon"));
    c.current_dir(&dir).args(["60", "1", "1"]);
    assert_eq!(run(c, T).status.code(), Some(0));
    let mut c = Command::new(bin("s6-permafailon"));
    c.current_dir(&dir).args(["60", "1", "1", "/nonexistent/prog"]);
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(127));
    assert!(err(&o)
        .ends_with("s6-permafailon: fatal: unable to exec /nonexistent/prog: No such file or directory\n"));
}

#[test]
fn permafailon_as_finish_stops_a_crashing_service() {
    let t = TempDir::new("permafail-e2e");
    let dir = service_dir(t.path(), "svc", "#!/bin/sh\nexit 1\n");
    script(
        &dir.join("finish"),
        &format!("#!/bin/sh\nexec {} 60 2 1 true\n", bin("s6-permafailon").display()),
    );
    let mut tree = Tree::new();
    let mut s = supervise(&mut tree, &dir);
    // First death: finish goes on (true); second: permanent failure, no restart.
    s.ev.wait_seq(b"dDudO");
    let st = status(&dir);
    assert!(!st.is_up() && !st.wantup);
    let tally = std::fs::read(dir.join("supervise/death_tally")).unwrap();
    assert_eq!(tally.len(), 28);
    assert_eq!(&tally[12..14], &[1, 0]);
    let o = ours("s6-svdt", &[&dir]);
    let lines: Vec<String> = out(&o).lines().map(|l| l[26..].to_owned()).collect();
    assert_eq!(lines, ["exitcode 1", "exitcode 1"]);
}
