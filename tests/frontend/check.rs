//! `s6-rs check`: `path: problem` lines and the exit code, from outside.

use std::process::Command;
use std::time::Duration;

use crate::supervise::svscan::service;
use crate::support::*;

fn check(dirs: &[&std::path::Path]) -> (Option<i32>, String) {
    let mut c = Command::new(bin("s6-rs"));
    c.arg("check").args(dirs);
    let o = run(c, Duration::from_secs(10));
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    (o.status.code(), String::from_utf8(o.stdout).unwrap())
}

#[test]
fn check_reports_each_problem_and_exits_1() {
    let t = TempDir::new("frontend-check");
    let good = t.join("good");
    service(&good, "exec sleep 1000\n");
    service(&good.join("log"), "exec s6-log t ./main\n");
    std::fs::write(good.join("notification-fd"), "3\n").unwrap();
    std::fs::write(good.join("notify-socket"), "").unwrap();
    assert_eq!(check(&[&good]), (Some(0), String::new()));

    let bad = t.join("bad");
    std::fs::create_dir_all(bad.join("log")).unwrap();
    std::fs::write(bad.join("down-signal"), "TERMINATE\n").unwrap();
    std::fs::write(bad.join("max-death-tally"), "99999\n").unwrap();
    std::fs::write(bad.join("notify-socket"), "1\n").unwrap();
    let (code, out) = check(&[&good, &bad]);
    assert_eq!(code, Some(1));
    let b = bad.display();
    assert_eq!(
        out,
        format!(
            "{b}/run: missing\n{b}/max-death-tally: out of range (at most 4096)\n\
             {b}/notify-socket: must be empty, holds \"1\"\n\
             {b}/down-signal: does not name a signal: \"TERMINATE\"\n{b}/log/run: missing\n"
        )
    );
}
