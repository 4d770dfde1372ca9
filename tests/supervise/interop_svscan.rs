//! s6-svscan interop: real s6 2.11's s6-svscanctl driving our s6-svscan, our s6-svscanctl
//! driving real s6-svscan, and the `.s6-svscan/lock` shared between both.

use std::process::Command;

use s6rs_supervise::cmd::svok::is_supervised;

use super::svscan::*;
use crate::support::*;

const T: std::time::Duration = std::time::Duration::from_secs(10);

fn real_svscanctl(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    let mut c = Command::new(real("s6-svscanctl"));
    c.args(args).arg(dir);
    run(c, T)
}

#[test]
fn interop_real_svscanctl_drives_our_svscan() {
    let t = TempDir::new("svscan-interop-ours");
    let scan = t.join("scan");
    service(&scan.join("a"), "exec sleep 1000\n");
    let marker = t.join("finished");
    std::fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
    script(&scan.join(".s6-svscan/finish"), &format!("#!/bin/sh\necho done > {}\n", marker.display()));
    let mut tree = Tree::new();
    let sv = start(&mut tree, &scan, &[]);
    wait_supervised(&scan.join("a"));
    service_pid(&mut tree, &scan.join("a"));

    service(&scan.join("b"), "exec sleep 1000\n");
    assert_eq!(real_svscanctl(&["-a"], &scan).status.code(), Some(0));
    wait_supervised(&scan.join("b"));
    let b = service_pid(&mut tree, &scan.join("b"));

    // Move b out of the scan directory, then prune with -h.
    std::fs::rename(scan.join("b"), t.join("b")).unwrap();
    assert_eq!(real_svscanctl(&["-h"], &scan).status.code(), Some(0));
    wait_unsupervised(&t.join("b"));
    assert!(wait_until(T, || !alive(b)));

    // Our s6-svscan holds the lock real s6-svscan tests.
    let mut c = Command::new(real("s6-svscan"));
    c.arg(&scan);
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(100));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another instance"));

    assert_eq!(real_svscanctl(&["-t"], &scan).status.code(), Some(0));
    assert_eq!(tree.wait_exit(sv.pid, T).and_then(|s| s.code()), Some(0));
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "done\n");
    assert!(!is_supervised(&scan.join("a")).unwrap());
}

#[test]
fn interop_our_svscanctl_drives_real_svscan() {
    let t = TempDir::new("svscan-interop-real");
    let scan = t.join("scan");
    service(&scan.join("a"), "exec sleep 1000\n");
    let mut tree = Tree::new();
    let sv = start_with(&mut tree, &real("s6-svscan"), &scan, &[]);
    wait_supervised(&scan.join("a"));
    let a = service_pid(&mut tree, &scan.join("a"));
    for (p, _) in supervisors(sv.pid) {
        tree.adopt(p);
    }

    // Our s6-svscan refuses to run on the same directory.
    assert_second_refused(&scan);

    service(&scan.join("b"), "exec sleep 1000\n");
    assert_eq!(svscanctl(&["-a"], &scan).status.code(), Some(0));
    wait_supervised(&scan.join("b"));
    service_pid(&mut tree, &scan.join("b"));
    for (p, _) in supervisors(sv.pid) {
        tree.adopt(p);
    }

    assert_eq!(svscanctl(&["-t"], &scan).status.code(), Some(0));
    assert_eq!(tree.wait_exit(sv.pid, T).and_then(|s| s.code()), Some(0));
    assert!(!alive(a));
    // Nobody listens any more.
    let o = svscanctl(&["-a"], &scan);
    assert_eq!(o.status.code(), Some(100));
    assert!(String::from_utf8_lossy(&o.stderr).ends_with(": supervisor not listening\n"));
}

/// The `SigBlk`/`SigIgn` lines of a service's `./run` under `prog` (an s6-svscan, with its
/// s6-supervise) started with `ignored` ignored.
fn run_signals_under_svscan(prog: &std::path::Path, ignored: &[i32]) -> String {
    let t = TempDir::new("svscan-sigs");
    let scan = t.join("scan");
    service(&scan.join("a"), RECORD_SIGNALS);
    let mut tree = Tree::new();
    let sv = start_ignoring(&mut tree, prog, &scan, &[], ignored);
    for (p, _) in supervisors(sv.pid) {
        tree.adopt(p);
    }
    service_pid(&mut tree, &scan.join("a"));
    let sigs = scan.join("a/sigs");
    assert!(wait_until(T, || sigs.exists()), "./run never wrote its signal state");
    let got = std::fs::read_to_string(&sigs).unwrap();
    assert_eq!(svscanctl(&["-t"], &scan).status.code(), Some(0));
    assert_eq!(tree.wait_exit(sv.pid, T).and_then(|s| s.code()), Some(0));
    got
}

/// The signals s6-svscan inherited ignored reach the services through s6-supervise, as
/// under real s6 2.11 (ours used to reset them when spawning each supervisor), SIGPIPE
/// excepted.
#[test]
fn interop_services_inherit_svscans_ignored_signals() {
    let ignored = [libc::SIGHUP, libc::SIGINT, libc::SIGUSR1, libc::SIGPIPE, libc::SIGTTIN];
    let theirs = run_signals_under_svscan(&real("s6-svscan"), &ignored);
    let ours = run_signals_under_svscan(&bin("s6-svscan"), &ignored);
    assert_eq!(ours, theirs);
    assert_eq!(ours, signal_lines(&[libc::SIGHUP, libc::SIGINT, libc::SIGUSR1, libc::SIGTTIN]));
}
