//! `s6-rs events`: on a busy tree (20 services restarted together, several rounds) every
//! down and up is printed once per restart; services added later are followed.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::supervise::svscan::*;
use crate::support::*;
use s6rs_supervise::svstatus::Status;

const T: Duration = Duration::from_secs(30);
const SERVICES: usize = 20;
const ROUNDS: usize = 3;

/// Subscriptions in a service's event fifodir.
fn listeners(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("event"))
        .map(|d| {
            d.filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("ftrig1")).count()
        })
        .unwrap_or(0)
}

fn events(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.ends_with('}'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count(evs: &[Value], svc: &str, event: &str) -> usize {
    evs.iter().filter(|e| e["service"] == svc && e["event"] == event).count()
}

#[test]
fn events_on_a_busy_tree_miss_nothing() {
    let t = TempDir::new("frontend-events");
    let scan = t.join("scan");
    let names: Vec<String> = (0..SERVICES).map(|i| format!("s{i:02}")).collect();
    for n in &names {
        service(&scan.join(n), "exec sleep 1000\n");
    }
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    let mut pids: Vec<i32> = names.iter().map(|n| service_pid(&mut tree, &scan.join(n))).collect();

    let out = t.join("events.out");
    let mut c = Command::new(bin("s6-rs"));
    c.args(["events", "--json"]).arg(&scan).stdout(std::fs::File::create(&out).unwrap());
    let follower = tree.spawn(c);
    assert!(wait_until(T, || names.iter().all(|n| listeners(&scan.join(n)) == 1)), "never subscribed");

    for _ in 0..ROUNDS {
        let mut svc = Command::new(bin("s6-svc"));
        svc.arg("-r").args(names.iter().map(|n| scan.join(n)));
        assert_eq!(run(svc, T).status.code(), Some(0));
        for (i, n) in names.iter().enumerate() {
            let dir = scan.join(n);
            let old = pids[i];
            assert!(
                wait_until(T, || Status::read(&dir).is_ok_and(|s| s.pid != 0 && s.pid as i32 != old)),
                "{n} never restarted"
            );
            pids[i] = service_pid(&mut tree, &dir);
        }
    }
    let complete = wait_until(T, || {
        let evs = events(&out);
        names.iter().all(|n| count(&evs, n, "up") >= ROUNDS && count(&evs, n, "finished") >= ROUNDS)
    });
    let evs = events(&out);
    assert!(complete, "missing events: {evs:?}");
    for n in &names {
        for e in ["down", "finished", "up"] {
            assert_eq!(count(&evs, n, e), ROUNDS, "{n} {e}");
        }
    }
    let e = &evs[0];
    assert!(e["time"].as_str().unwrap().starts_with("20"));
    assert!(e["tai64n"].as_str().unwrap().starts_with("@4000"));

    // A service added to the scan directory is followed from the next rescan.
    service(&scan.join("late"), "exec sleep 1000\n");
    assert_eq!(svscanctl(&["-a"], &scan).status.code(), Some(0));
    let late = scan.join("late");
    let old = service_pid(&mut tree, &late);
    assert!(wait_until(T, || listeners(&late) == 1), "late service never followed");
    let mut svc = Command::new(bin("s6-svc"));
    svc.arg("-r").arg(&late);
    assert_eq!(run(svc, T).status.code(), Some(0));
    assert!(wait_until(T, || Status::read(&late).is_ok_and(|s| s.pid != 0 && s.pid as i32 != old)));
    service_pid(&mut tree, &late);
    assert!(wait_until(T, || count(&events(&out), "late", "up") == 1), "no up event for the late service");

    // SIGTERM ends it cleanly, taking its subscriptions away.
    tree.signal(follower, libc::SIGTERM);
    assert_eq!(tree.wait_exit(follower, T).and_then(|s| s.code()), Some(0));
    assert_eq!(listeners(&late), 0);
    assert_eq!(stop(&mut tree, &sv), Some(0));
}

#[test]
fn events_text_lines() {
    let t = TempDir::new("frontend-events-text");
    let dir = t.join("svc");
    service(&dir, "exec sleep 1000\n");
    let mut tree = Tree::new();
    let mut c = Command::new(bin("s6-supervise"));
    c.arg(&dir);
    let sup = tree.spawn(c);
    let pid = service_pid(&mut tree, &dir);
    let out = t.join("events.out");
    let mut c = Command::new(bin("s6-rs"));
    c.arg("events").arg(&dir).stdout(std::fs::File::create(&out).unwrap());
    let follower = tree.spawn(c);
    assert!(wait_until(T, || listeners(&dir) == 1));
    let mut svc = Command::new(bin("s6-svc"));
    svc.arg("-d").arg(&dir);
    assert_eq!(run(svc, T).status.code(), Some(0));
    let name = dir.display().to_string();
    let want = [format!("  {name}  down"), format!("  {name}  finished")];
    assert!(wait_until(T, || {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines.len() == 2 && lines.iter().zip(&want).all(|(l, w)| l.ends_with(w.as_str()))
    }));
    assert!(wait_until(T, || !alive(pid)));
    tree.signal(follower, libc::SIGTERM);
    assert!(tree.wait_exit(follower, T).is_some());
    tree.signal(sup, libc::SIGTERM);
    assert!(tree.wait_exit(sup, T).is_some());
}
