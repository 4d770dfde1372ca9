//! s6-svperms: the modes and groups each option sets (FORMATS.md §1.6, exactly), the same
//! as Debian's s6-svperms sets on a twin directory, and `-v` reports compared with it.

use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use super::clients_util::*;
use crate::support::*;

/// A service dir laid out as s6-supervise leaves it: `supervise/` 0700, `control` 0600,
/// `lock` and `status` 0644, `event/` 03730 with group 0.
fn fresh(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    let sup = dir.join("supervise");
    std::fs::create_dir_all(&sup).unwrap();
    std::fs::set_permissions(&sup, std::fs::Permissions::from_mode(0o700)).unwrap();
    s6rs_sys::fd::mkfifo(&sup.join("control"), 0o600).unwrap();
    std::fs::set_permissions(sup.join("control"), std::fs::Permissions::from_mode(0o600)).unwrap();
    for f in ["lock", "status"] {
        std::fs::write(sup.join(f), "").unwrap();
        std::fs::set_permissions(sup.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::create_dir(dir.join("event")).unwrap();
    std::os::unix::fs::chown(dir.join("event"), None, Some(0)).unwrap();
    std::fs::set_permissions(dir.join("event"), std::fs::Permissions::from_mode(0o3730)).unwrap();
    dir
}

/// (mode & 07777, gid) of supervise/, supervise/control, event/, lock, status.
fn perms(dir: &Path) -> [(u32, u32); 5] {
    let m = |p: &str| {
        let md = std::fs::metadata(dir.join(p)).unwrap();
        (md.mode() & 0o7777, md.gid())
    };
    [m("supervise"), m("supervise/control"), m("event"), m("supervise/lock"), m("supervise/status")]
}

fn svperms(prog: &str, args: &[&str], dirs: &[&Path]) -> Output {
    let mut v: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    v.extend(dirs.iter().map(|d| d.as_os_str()));
    if prog == "ours" {
        ours("s6-svperms", &v)
    } else {
        theirs("s6-svperms", &v)
    }
}

/// (mode, gid).
type Perm = (u32, u32);

const DAEMON: u32 = 1;
const BIN: u32 = 2;

#[test]
fn svperms_modes_are_formats_1_6_and_the_same_as_real() {
    let t = TempDir::new("svperms-modes");
    let untouched = [(0o644, 0), (0o644, 0)];
    // (options, supervise/, control, event), with root's primary group 0 as "the owner's";
    // Every dir starts as `-O :3 -E :3` left it.
    let cases: &[(&[&str], Perm, Perm, Perm)] = &[
        (&["-u"], (0o700, 0), (0o600, 0), (0o3730, 3)),
        (&["-g", "daemon"], (0o710, DAEMON), (0o600, 0), (0o3730, 3)),
        (&["-G", "daemon"], (0o710, DAEMON), (0o620, DAEMON), (0o3730, 3)),
        (&["-o"], (0o711, 0), (0o600, 0), (0o3730, 3)),
        (&["-O", "daemon"], (0o711, 0), (0o620, DAEMON), (0o3730, 3)),
        (&["-e"], (0o711, 0), (0o620, 3), (0o1733, 0)),
        (&["-E", "daemon"], (0o711, 0), (0o620, 3), (0o3730, DAEMON)),
        (&["-g", ":2"], (0o710, BIN), (0o600, 0), (0o3730, 3)),
        (&["-G", ":2", "-e"], (0o710, BIN), (0o620, BIN), (0o1733, 0)),
        (&["-O", "bin", "-E", ":1"], (0o711, 0), (0o620, BIN), (0o3730, DAEMON)),
        (&["-G", "daemon", "-u"], (0o700, 0), (0o600, 0), (0o3730, 3)),
        (&["-E", "daemon", "-e"], (0o711, 0), (0o620, 3), (0o1733, 0)),
    ];
    for (i, (args, sup, ctl, ev)) in cases.iter().enumerate() {
        let a = fresh(t.path(), &format!("ours{i}"));
        let b = fresh(t.path(), &format!("real{i}"));
        // Start from something else, so that every change shows.
        svperms("ours", &["-O", ":3", "-E", ":3"], &[&a]);
        svperms("ours", &["-O", ":3", "-E", ":3"], &[&b]);
        let o = svperms("ours", args, &[&a]);
        assert!(o.status.success() && o.stdout.is_empty() && o.stderr.is_empty(), "{args:?}: {}", err(&o));
        let r = svperms("real", args, &[&b]);
        assert!(r.status.success(), "{args:?}: {}", err(&r));
        let want = [*sup, *ctl, *ev, untouched[0], untouched[1]];
        assert_eq!(perms(&a), want, "ours {args:?}");
        assert_eq!(perms(&b), want, "real {args:?}");
    }
}

#[test]
fn svperms_reports_match_real() {
    let t = TempDir::new("svperms-v");
    let a = fresh(t.path(), "a");
    let b = fresh(t.path(), "b");
    for args in [
        &[][..],
        &["-u"],
        &["-g", "daemon"],
        &["-G", "bin"],
        &["-o"],
        &["-O", ":1"],
        &["-e"],
        &["-E", "daemon"],
        &["-E", ":4242"],
    ] {
        svperms("ours", args, &[&a, &b]);
        for report in [&["-v"][..], &[]] {
            let o = svperms("ours", report, &[&a, &b]);
            let r = svperms("real", report, &[&a, &b]);
            assert_eq!((o.status.code(), out(&o)), (r.status.code(), out(&r)), "after {args:?}");
            assert!(o.stderr.is_empty(), "{}", err(&o));
        }
    }
    // -v with a change prints the new state.
    let o = svperms("ours", &["-v", "-G", "daemon", "-e"], &[&a]);
    let ad = a.display();
    assert_eq!(
        out(&o),
        format!("{ad} status: group daemon\n{ad} control: group daemon\n{ad} events: public\n")
    );
    let o = svperms("ours", &["-v", "-o", "-E", ":4242"], &[&a]);
    assert_eq!(out(&o), format!("{ad} status: public\n{ad} control: owner\n{ad} events: group 4242\n"));
    let o = svperms("ours", &["-u", "-E", "root"], &[&a]);
    assert!(o.stdout.is_empty());
    let o = svperms("ours", &[], &[&a]);
    assert_eq!(out(&o), format!("{ad} status: owner\n{ad} control: owner\n{ad} events: group root\n"));
}

#[test]
fn svperms_flags_wrong_permissions() {
    let t = TempDir::new("svperms-bad");
    let set = |p: PathBuf, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    let a = fresh(t.path(), "a");
    set(a.join("supervise"), 0o755);
    let b = fresh(t.path(), "b");
    set(b.join("supervise/control"), 0o622);
    let c = fresh(t.path(), "c");
    set(c.join("event"), 0o755);
    let d = fresh(t.path(), "d");
    std::fs::remove_dir(d.join("event")).unwrap();
    let e = fresh(t.path(), "e");
    std::fs::remove_file(e.join("supervise/control")).unwrap();
    std::fs::write(e.join("supervise/control"), "").unwrap();
    let f = fresh(t.path(), "f");
    set(f.join("supervise"), 0o701);
    for dir in [&a, &b, &c, &d, &e, &f] {
        let o = svperms("ours", &[], &[dir]);
        let r = svperms("real", &[], &[dir]);
        assert_eq!((o.status.code(), out(&o)), (Some(1), out(&r)), "{}", dir.display());
        assert_eq!(r.status.code(), Some(1));
    }
    let warn = |dir: &Path| err(&svperms("ours", &[], &[dir]));
    assert_eq!(
        warn(&a),
        format!("s6-svperms: warning: {}/supervise has incorrect permissions: 755\n", a.display())
    );
    assert_eq!(
        warn(&b),
        format!("s6-svperms: warning: {}/supervise/control has incorrect permissions: 622\n", b.display())
    );
    assert_eq!(
        warn(&c),
        format!("s6-svperms: warning: {}/event has incorrect permissions: 755\n", c.display())
    );
    assert_eq!(
        warn(&d),
        format!("s6-svperms: warning: unable to stat {}/event: No such file or directory\n", d.display())
    );
    assert_eq!(
        warn(&e),
        format!("s6-svperms: warning: {}/supervise/control is not a named pipe\n", e.display())
    );
    // A good dir after a bad one is still reported; the exit code says something failed.
    let good = fresh(t.path(), "good");
    let o = svperms("ours", &["-v"], &[&a, &good]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(out(&o), out(&svperms("real", &["-v"], &[&a, &good])));

    // Changing a dir that is not there: fatal.
    let o = svperms("ours", &["-u"], &[&t.join("nope")]);
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        err(&o),
        format!(
            "s6-svperms: fatal: unable to stat {}/supervise: No such file or directory\n",
            t.join("nope").display()
        )
    );
}

#[test]
fn svperms_usage_and_groups() {
    let o = ours("s6-svperms", &["-g", "no-such-group-s6rs", "d"]);
    assert_eq!(
        (o.status.code(), err(&o)),
        (
            Some(100),
            "s6-svperms: fatal: unable to find entry for no-such-group-s6rs in group database\n".to_owned()
        )
    );
    let usage = "s6-svperms: usage: s6-svperms [ -v ] [ -u | -g group | -G group | -o | -O group ] [ -e | -E group ] servicedir...\n";
    for args in [&["-g", ":x", "d"][..], &["-v"], &["-z", "d"], &["-E"]] {
        let o = ours("s6-svperms", args);
        assert_eq!((o.status.code(), err(&o)), (Some(100), usage.to_owned()), "{args:?}");
    }
}
