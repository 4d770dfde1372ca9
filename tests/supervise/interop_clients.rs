//! Our client tools and Debian's (2.11) on the same live supervision trees: either may
//! drive, either may read, and they must agree (up to the documented 2.15 differences:
//! `pgid` in the s6-svstat up line, exit 102 instead of 100 for an unsupervised dir).

use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::Output;

use s6rs_supervise::cmd::svok::is_supervised;

use super::clients_util::*;
use crate::support::*;

const FIELDS_2_11: &str = "up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor";

fn with_dir<'a>(args: &'a [&'a str], dir: &'a Path) -> Vec<&'a OsStr> {
    let mut v: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    v.push(dir.as_os_str());
    v
}

/// Ours and Debian's s6-svstat agree on a live service. A second boundary can fall between
/// the two runs, so a mismatch is retried a few times before it counts.
fn svstat_agree(dir: &Path) {
    let mut last = None;
    for _ in 0..5 {
        let mut same = true;
        for args in [&[][..], &["-n"], &["-o", FIELDS_2_11]] {
            let o = ours("s6-svstat", &with_dir(args, dir));
            let r = theirs("s6-svstat", &with_dir(args, dir));
            let st = status(dir);
            let mut want = out(&r);
            if st.is_up() && args.len() < 2 {
                want = want.replacen(
                    &format!("up (pid {0}) ", st.pid),
                    &format!("up (pid {0} pgid {0}) ", st.pid),
                    1,
                );
            }
            if (o.status.code(), out(&o)) != (r.status.code(), want.clone()) {
                same = false;
                last = Some((args.to_vec(), out(&o), want));
            }
        }
        if same {
            return;
        }
    }
    panic!("s6-svstat disagrees: {last:?}");
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", err(o));
}

#[test]
fn interop_svstat_follows_a_live_service_driven_by_both_svcs() {
    let t = TempDir::new("interop-svstat");
    let dir = service_dir(t.path(), "svc", "#!/bin/sh\necho >&3\nexec sleep 1000\n");
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    let mut tree = Tree::new();
    let mut s = supervise(&mut tree, &dir);
    s.ev.wait(b'U');
    svstat_agree(&dir);

    ok(&theirs("s6-svc", &with_dir(&["-p"], &dir)));
    assert!(wait_until(T, || status(&dir).paused));
    svstat_agree(&dir);
    ok(&ours("s6-svc", &with_dir(&["-c"], &dir)));
    assert!(wait_until(T, || !status(&dir).paused));

    ok(&ours("s6-svc", &with_dir(&["-d"], &dir)));
    s.ev.wait_seq(b"dD");
    svstat_agree(&dir);

    ok(&theirs("s6-svc", &with_dir(&["-u"], &dir)));
    s.ev.wait_seq(b"uU");
    adopt_service(&mut tree, &dir);
    ok(&ours("s6-svc", &with_dir(&["-O"], &dir)));
    assert!(wait_until(T, || !status(&dir).wantup));
    svstat_agree(&dir);

    ok(&theirs("s6-svc", &with_dir(&["-k"], &dir)));
    s.ev.wait_seq(b"dD");
    std::fs::write(dir.join("down"), "").unwrap();
    svstat_agree(&dir);

    // s6-svdt on the live tally: a SIGTERM then a SIGKILL.
    let o = ours("s6-svdt", &[&dir]);
    assert_eq!(out(&o), out(&theirs("s6-svdt", &[&dir])));
    let kinds: Vec<String> = out(&o).lines().map(|l| l[26..].to_owned()).collect();
    assert_eq!(kinds, ["signal SIGTERM", "signal SIGKILL"]);
    assert_eq!(
        out(&ours("s6-svdt", &with_dir(&["-s"], &dir))),
        out(&theirs("s6-svdt", &with_dir(&["-s"], &dir)))
    );
    ok(&ours("s6-svdt-clear", &[&dir]));
    assert_eq!(out(&theirs("s6-svdt", &[&dir])), "");
}

#[test]
fn interop_svc_writes_what_real_svc_writes() {
    let t = TempDir::new("interop-svc-bytes");
    let dir = t.join("svc");
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    let fifo = dir.join("supervise/control");
    s6rs_sys::fd::mkfifo(&fifo, 0o600).unwrap();
    let r = s6rs_sys::fd::open_read_nb(&fifo).unwrap();
    let mut buf = [0u8; 64];
    // The 2.11 alphabet, clustered and split, with repeats.
    for args in [&["-abqhkti12pcyroduDUxOQ"][..], &["-d", "-u", "-dx"], &["-k", "-k", "-o"]] {
        ok(&ours("s6-svc", &with_dir(args, &dir)));
        let n = s6rs_sys::fd::read(r.as_fd(), &mut buf).unwrap();
        let mine = buf[..n].to_vec();
        ok(&theirs("s6-svc", &with_dir(args, &dir)));
        let n = s6rs_sys::fd::read(r.as_fd(), &mut buf).unwrap();
        assert_eq!(mine, &buf[..n], "{args:?}");
    }
    // Nobody listening: 2.15 warns and goes on to the next dir, then exits 102; 2.11 took
    // one dir and died with 100 (its message also carries a stray ": " from skalibs 2.13).
    drop(r);
    let o = ours("s6-svc", &with_dir(&["-u"], &dir));
    let r = theirs("s6-svc", &with_dir(&["-u"], &dir));
    assert_eq!((o.status.code(), r.status.code()), (Some(102), Some(100)));
    let tail = format!("unable to control {}: supervisor not listening\n", dir.display());
    assert_eq!(err(&o), format!("s6-svc: warning: {tail}"));
    assert_eq!(err(&r), format!("s6-svc: fatal: : {tail}"));
}

#[test]
fn interop_svperms_set_by_one_read_by_the_other() {
    let t = TempDir::new("interop-svperms");
    let dir = service_dir(t.path(), "svc", SLEEPER);
    std::fs::write(dir.join("down"), "").unwrap();
    let mut tree = Tree::new();
    // The layout comes from the real s6-supervise itself.
    let mut cmd = std::process::Command::new(real("s6-supervise"));
    cmd.arg(&dir);
    tree.spawn(cmd);
    assert!(wait_until(T, || is_supervised(&dir).unwrap_or(false)));
    let report = |prog: &str| {
        let o = if prog == "ours" { ours("s6-svperms", &[&dir]) } else { theirs("s6-svperms", &[&dir]) };
        (o.status.code(), out(&o))
    };
    assert_eq!(report("ours"), report("theirs"));
    let d = dir.display();
    assert_eq!(report("ours").1, format!("{d} status: owner\n{d} control: owner\n{d} events: group root\n"));
    for (setter, args) in [
        ("theirs", &["-G", "daemon", "-e"][..]),
        ("ours", &["-O", "bin", "-E", "daemon"]),
        ("theirs", &["-o"]),
        ("ours", &["-g", ":1", "-e"]),
        ("theirs", &["-u", "-E", "root"]),
    ] {
        let o = if setter == "ours" {
            ours("s6-svperms", &with_dir(args, &dir))
        } else {
            theirs("s6-svperms", &with_dir(args, &dir))
        };
        ok(&o);
        assert_eq!(report("ours"), report("theirs"), "after {setter} {args:?}");
    }
    // Status stays readable, control stays usable for root whatever the modes.
    ok(&ours("s6-svc", &with_dir(&["-u"], &dir)));
    assert!(wait_until(T, || status(&dir).is_up()));
    adopt_service(&mut tree, &dir);
}

#[test]
fn interop_svlink_and_svunlink_cross() {
    let t = TempDir::new("interop-svlink");
    let mut tree = Tree::new();
    let scan = svscan(&mut tree, &t.join("scan"));
    let a = service_dir(&t.join("sv"), "a", SLEEPER);
    service_dir(&a, "log", "#!/bin/sh\nexec cat >/dev/null\n");
    let b = service_dir(&t.join("sv"), "b", SLEEPER);

    // Real s6-svlink, our s6-svunlink.
    ok(&theirs("s6-svlink", &[OsStr::new("-t5000"), scan.dir.as_os_str(), a.as_os_str()]));
    assert!(is_supervised(&a).unwrap() && is_supervised(&a.join("log")).unwrap());
    // Ours: the event/ the real one made is reused as it is.
    ok(&ours("s6-svlink", &[OsStr::new("-t5000"), scan.dir.as_os_str(), b.as_os_str()]));
    assert!(is_supervised(&b).unwrap());
    let mut ev = Events::subscribe(&b);
    assert!(wait_until(T, || status(&a).is_up() && status(&b).is_up()));
    adopt_scan(&mut tree, &scan.dir);

    ok(&ours("s6-svunlink", &[OsStr::new("-t5000"), scan.dir.as_os_str(), OsStr::new("a")]));
    // Event `x` is the supervisor's last act; its lock goes with the process a moment later.
    assert!(wait_until(T, || !is_supervised(&a).unwrap() && !is_supervised(&a.join("log")).unwrap()));
    // Real s6-svunlink on what ours linked.
    ok(&theirs("s6-svunlink", &[OsStr::new("-t5000"), scan.dir.as_os_str(), OsStr::new("b")]));
    ev.wait(b'x');
    assert!(wait_until(T, || !is_supervised(&b).unwrap()));
    assert!(std::fs::read_dir(&scan.dir).unwrap().all(|e| e.unwrap().file_name() == ".s6-svscan"));
}
