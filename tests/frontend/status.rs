//! `s6-rs status`: agrees with s6-svstat (ours and real) on trees run by our s6-svscan and
//! by real s6-svscan; unreadable services get a state, never a crash.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::supervise::svscan::*;
use crate::support::*;
use s6rs_supervise::svstatus::Status;

const T: Duration = Duration::from_secs(20);

/// The `s6-svstat -o` fields both s6 2.11 and ours print, stable on a settled service.
const FIELDS: [&str; 11] = [
    "up",
    "wantedup",
    "normallyup",
    "ready",
    "paused",
    "pid",
    "exitcode",
    "signal",
    "signum",
    "updownsince",
    "readysince",
];

fn status(args: &[&str], dirs: &[&Path]) -> (Option<i32>, String) {
    let mut c = Command::new(bin("s6-rs"));
    c.arg("status").args(args).args(dirs);
    let o = run(c, T);
    assert!(o.stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    (o.status.code(), String::from_utf8(o.stdout).unwrap())
}

fn json(dirs: &[&Path]) -> Vec<Value> {
    let (_, out) = status(&["--json"], dirs);
    out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A JSON value printed as s6-svstat prints it.
fn svstat_text(v: &Value) -> String {
    match v {
        Value::Null => "NA".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn svstat(prog: &Path, dir: &Path) -> String {
    let mut c = Command::new(prog);
    c.arg("-o").arg(FIELDS.join(",")).arg(dir);
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(0), "{}: {}", prog.display(), String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim_end().to_owned()
}

/// A tree with one service of each kind: up with a logger, ready by notification, down by a
/// `down` file, permanently failed by `./finish` exiting 125.
fn build(scan: &Path) {
    service(&scan.join("plain"), "exec sleep 1000\n");
    service(&scan.join("plain/log"), "exec cat >/dev/null\n");
    service(&scan.join("ready"), "echo >&3\nexec sleep 1000\n");
    std::fs::write(scan.join("ready/notification-fd"), "3\n").unwrap();
    service(&scan.join("stopped"), "exec sleep 1000\n");
    std::fs::write(scan.join("stopped/down"), "").unwrap();
    service(&scan.join("broken"), "exit 3\n");
    script(&scan.join("broken/finish"), "#!/bin/sh\nexit 125\n");
}

fn settled(scan: &Path) -> bool {
    let st = |n: &str| Status::read(&scan.join(n)).ok();
    st("plain").is_some_and(|s| s.pid != 0)
        && st("plain/log").is_some_and(|s| s.pid != 0)
        && st("ready").is_some_and(|s| s.pid != 0 && s.ready)
        && st("stopped").is_some_and(|s| s.pid == 0 && !s.paused)
        && st("broken").is_some_and(|s| s.pid == 0 && !s.wantup && !s.finishing)
}

fn agree_on(svscan: &Path) {
    let t = TempDir::new(&format!("frontend-status-{}", svscan.display().to_string().replace('/', "_")));
    let scan = t.join("scan");
    build(&scan);
    let mut tree = Tree::new();
    let sv = start_with(&mut tree, svscan, &scan, &[]);
    for n in ["plain", "plain/log", "ready", "stopped", "broken"] {
        wait_supervised(&scan.join(n));
    }
    let adopt = |tree: &mut Tree| {
        for (p, _) in supervisors(sv.pid) {
            tree.adopt(p);
        }
        for n in ["plain", "plain/log", "ready"] {
            if let Ok(s) = Status::read(&scan.join(n)) {
                if s.pid != 0 {
                    tree.adopt(s.pid as i32);
                }
            }
        }
    };
    assert!(wait_until(T, || settled(&scan)), "tree never settled");
    adopt(&mut tree);

    let recs = json(&[&scan]);
    let names: Vec<&str> = recs.iter().map(|r| r["service"].as_str().unwrap()).collect();
    assert_eq!(names, ["broken", "plain", "plain/log", "ready", "stopped"]);
    for r in &recs {
        let dir = PathBuf::from(r["dir"].as_str().unwrap());
        let ours: Vec<String> = FIELDS.iter().map(|f| svstat_text(&r[*f])).collect();
        let ours = ours.join(" ");
        assert_eq!(ours, svstat(&bin("s6-svstat"), &dir), "ours, {}", dir.display());
        assert_eq!(ours, svstat(&real("s6-svstat"), &dir), "real, {}", dir.display());
        assert_eq!(r["pgid"], r["pid"]);
        assert!(r["updownfor"].is_u64() && r["readyfor"].is_u64());
        assert!(r["deaths"].is_u64());
    }
    let by = |n: &str| recs.iter().find(|r| r["service"] == n).unwrap();
    assert_eq!(by("plain")["state"], "up");
    assert_eq!(by("plain/log")["logger"], true);
    assert_eq!(by("stopped")["state"], "down");
    assert_eq!(by("broken")["state"], "down");
    assert_eq!(by("broken")["exitcode"], 3);
    assert_eq!(by("broken")["failing"], "permanently failed");
    assert_eq!(by("plain")["failing"], Value::Null);

    // The table: the logger beneath its service, no colour off a terminal, exit 1 for the
    // failing service.
    let (code, table) = status(&[], &[&scan]);
    assert_eq!(code, Some(1));
    assert!(!table.contains('\x1b'));
    let rows: Vec<&str> = table.lines().collect();
    assert!(rows[0].starts_with("SERVICE"));
    assert!(rows[2].starts_with("plain ") && rows[3].starts_with("  plain/log "), "{table}");
    assert!(rows[1].contains("permanently failed"), "{table}");

    // A service directory given alone.
    let (code, _) = status(&[], &[&scan.join("plain")]);
    assert_eq!(code, Some(0));

    let (_, prom) = status(&["--prometheus"], &[&scan]);
    assert!(prom.contains("# TYPE s6_service_up gauge\n"));
    assert!(prom.contains("s6_service_up{service=\"plain\",state=\"up\"} 1\n"), "{prom}");
    assert!(prom.contains("s6_service_failing{service=\"broken\",state=\"down\"} 1\n"), "{prom}");

    assert_eq!(stop(&mut tree, &sv), Some(0));
}

#[test]
fn status_agrees_with_svstat_on_our_svscan() {
    agree_on(&bin("s6-svscan"));
}

#[test]
fn interop_status_agrees_with_svstat_on_real_svscan() {
    agree_on(&real("s6-svscan"));
}

#[test]
fn status_names_unreadable_services() {
    let t = TempDir::new("frontend-status-broken");
    let scan = t.join("scan");
    // No supervise dir at all.
    service(&scan.join("fresh"), "exec sleep 1000\n");
    // A supervise dir nobody holds: the supervisor died.
    service(&scan.join("orphan"), "exec sleep 1000\n");
    std::fs::create_dir_all(scan.join("orphan/supervise")).unwrap();
    std::fs::write(scan.join("orphan/supervise/lock"), "").unwrap();
    std::fs::write(scan.join("orphan/supervise/status"), [0u8; 35]).unwrap();
    // A live supervisor whose status file is the wrong size.
    let mut tree = Tree::new();
    service(&scan.join("short"), "exec sleep 1000\n");
    let mut c = Command::new(bin("s6-supervise"));
    c.arg(scan.join("short"));
    let sup = tree.spawn(c);
    let pid = service_pid(&mut tree, &scan.join("short"));
    std::fs::write(scan.join("short/supervise/status"), [0u8; 20]).unwrap();

    let recs = json(&[&scan]);
    let state = |n: &str| recs.iter().find(|r| r["service"] == n).unwrap()["state"].clone();
    assert_eq!(state("fresh"), "no supervise dir");
    assert_eq!(state("orphan"), "supervisor not running");
    assert_eq!(state("short"), "bad status file");
    for r in &recs {
        assert!(r.get("up").is_none(), "{r}");
    }
    let (code, table) = status(&[], &[&scan]);
    assert_eq!(code, Some(1));
    assert!(table.contains("bad status file") && table.contains("supervisor not running"), "{table}");
    let (_, prom) = status(&["--prometheus"], &[&scan]);
    assert!(
        prom.contains("s6_service_supervised{service=\"short\",state=\"bad status file\"} 0\n"),
        "{prom}"
    );

    // A missing operand is a system error, not a crash.
    let mut c = Command::new(bin("s6-rs"));
    c.args(["status", t.join("nowhere").to_str().unwrap()]);
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(111));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("s6-rs: fatal: unable to open "));

    tree.signal(sup, libc::SIGTERM);
    assert!(tree.wait_exit(sup, T).is_some());
    assert!(wait_until(T, || !alive(pid)));
}
