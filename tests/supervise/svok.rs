use std::process::Command;
use std::time::Duration;

use crate::support::*;

#[test]
fn svok_unsupervised_dir_is_1_and_supervised_is_0() {
    let t = TempDir::new("svok");
    let svc = t.join("svc");
    std::fs::create_dir_all(&svc).unwrap();
    script(&svc.join("run"), "#!/bin/sh\nexec sleep 100\n");
    let mut c = Command::new(bin("s6-svok"));
    c.arg(&svc);
    assert_eq!(run(c, Duration::from_secs(5)).status.code(), Some(1));

    // A real s6-supervise holds the lock: our s6-svok must see it.
    let mut tree = Tree::new();
    let mut sup = Command::new(real("s6-supervise"));
    sup.arg(&svc);
    tree.spawn(sup);
    assert!(wait_until(Duration::from_secs(5), || {
        let mut c = Command::new(bin("s6-svok"));
        c.arg(&svc);
        run(c, Duration::from_secs(5)).status.code() == Some(0)
    }));
}

#[test]
fn svok_usage_is_100() {
    let out = run(Command::new(bin("s6-svok")), Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(100));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "s6-svok: usage: s6-svok servicedir\n");
}
