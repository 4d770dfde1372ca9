//! Interop of the fifodir/ftrig programs and the waiting tools with Debian's s6 2.11, both
//! ways: real notifiers feeding our listeners, ours feeding real ones, and real s6-svwait /
//! s6-svlisten1 agreeing with ours on services run by the real s6-supervise.

use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::clients_util::*;
use super::ftrig::{listeners, wait_listeners, Bg};
use crate::support::*;

fn bg<S: AsRef<OsStr>>(prog: PathBuf, args: &[S]) -> Bg {
    let mut c = Command::new(prog);
    c.args(args);
    Bg::start(c)
}

fn mkfifodir(t: &TempDir, name: &str) -> PathBuf {
    let d = t.join(name);
    assert_eq!(theirs("s6-mkfifodir", &[&d]).status.code(), Some(0));
    d
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn real_notify_feeds_our_wait() {
    let t = TempDir::new("iftrig-rn");
    let d = mkfifodir(&t, "fd");
    let w = bg(bin("s6-ftrig-wait"), &[os("-t9000"), d.as_os_str(), os("a.*c")]);
    wait_listeners(&d, 1);
    assert_eq!(theirs("s6-ftrig-notify", &[d.as_os_str(), os("xab")]).status.code(), Some(0));
    assert_eq!(theirs("s6-ftrig-notify", &[d.as_os_str(), os("cd")]).status.code(), Some(0));
    let o = w.finish();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "xabcd\n");

    // Our s6-ftrig-listen1 with the real notifier as its child.
    let o = ours(
        "s6-ftrig-listen1",
        &[
            os("-t9000"),
            d.as_os_str(),
            os("U$"),
            real("s6-ftrig-notify").as_os_str(),
            d.as_os_str(),
            os("suU"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "suU\n");
}

#[test]
fn our_notify_feeds_real_listeners() {
    let t = TempDir::new("iftrig-on");
    let d = mkfifodir(&t, "fd");
    let w = bg(real("s6-ftrig-wait"), &[os("-t9000"), d.as_os_str(), os("a.*c")]);
    wait_listeners(&d, 1);
    assert_eq!(ours("s6-ftrig-notify", &[d.as_os_str(), os("xab")]).status.code(), Some(0));
    assert_eq!(ours("s6-ftrig-notify", &[d.as_os_str(), os("cd")]).status.code(), Some(0));
    let o = w.finish();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // 2.11 prints the last byte of the match; 2.15 (ours) prints the whole sequence.
    assert_eq!(out(&o), "c\n");

    let o = theirs(
        "s6-ftrig-listen1",
        &[os("-t9000"), d.as_os_str(), os("U"), bin("s6-ftrig-notify").as_os_str(), d.as_os_str(), os("suU")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "U\n");

    let e = mkfifodir(&t, "fd2");
    let body = format!(
        "{n} {d} x; {n} {e} y",
        n = bin("s6-ftrig-notify").display(),
        d = d.display(),
        e = e.display()
    );
    let o = theirs(
        "s6-ftrig-listen",
        &[
            os("-t9000"),
            d.as_os_str(),
            os("x"),
            e.as_os_str(),
            os("y"),
            os(""),
            os("sh"),
            os("-c"),
            os(&body),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(listeners(&d).is_empty() && listeners(&e).is_empty());
}

#[test]
fn mkfifodir_and_cleanfifodir_match_real_ones() {
    let t = TempDir::new("iftrig-mk");
    for args in [&[][..], &["-g", "1"][..]] {
        let (a, b) = (t.join(&format!("ours{}", args.len())), t.join(&format!("theirs{}", args.len())));
        let mut va: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let mut vb = va.clone();
        va.push(a.as_os_str());
        vb.push(b.as_os_str());
        assert_eq!(ours("s6-mkfifodir", &va).status.code(), Some(0));
        assert_eq!(theirs("s6-mkfifodir", &vb).status.code(), Some(0));
        let (ma, mb) = (std::fs::metadata(&a).unwrap(), std::fs::metadata(&b).unwrap());
        assert_eq!(ma.permissions().mode(), mb.permissions().mode(), "{args:?}");
        assert_eq!((ma.uid(), ma.gid()), (mb.uid(), mb.gid()), "{args:?}");
    }

    // A fifo whose real listener is gone: 2.11's s6-cleanfifodir never removes it (it checks
    // for names of 49 characters), 2.15's and ours do.
    let d = mkfifodir(&t, "fd");
    let stale = d.join("ftrig1:@400000006b04da63357c621b:s_6QAe");
    let c = std::ffi::CString::new(stale.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo on a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert_eq!(theirs("s6-cleanfifodir", &[&d]).status.code(), Some(0));
    assert!(stale.exists());
    assert_eq!(ours("s6-cleanfifodir", &[&d]).status.code(), Some(0));
    assert!(!stale.exists());
}

/// Runs Debian's and our `prog` side by side with the same arguments, once both are
/// subscribed (plus `extra` listeners already there) calls `act`, and returns both outputs.
fn side_by_side(
    prog: &str,
    args: &[&OsStr],
    event: &Path,
    extra: usize,
    act: impl FnOnce(),
) -> (std::process::Output, std::process::Output) {
    let theirs = bg(real(prog), args);
    let ours = bg(bin(prog), args);
    wait_listeners(event, extra + 2);
    act();
    (theirs.finish(), ours.finish())
}

fn same(codes: (std::process::Output, std::process::Output), want: i32) {
    let (t, o) = codes;
    assert_eq!(t.status.code(), Some(want), "real: {}", err(&t));
    assert_eq!(o.status.code(), Some(want), "ours: {}", err(&o));
}

#[test]
fn svwait_agrees_with_real_one() {
    let t = TempDir::new("iftrig-svwait");
    let up = service_dir(t.path(), "up", "#!/bin/sh\necho >&3\nexec sleep 1000\n");
    std::fs::write(up.join("notification-fd"), "3\n").unwrap();
    std::fs::write(up.join("down"), "").unwrap();
    let down = service_dir(t.path(), "down", SLEEPER);
    std::fs::write(down.join("down"), "").unwrap();
    let perma = service_dir(t.path(), "perma", "#!/bin/sh\nexit 3\n");
    script(&perma.join("finish"), "#!/bin/sh\nexit 125\n");
    std::fs::write(perma.join("down"), "").unwrap();
    let mut tree = Tree::new();
    let _u = supervise(&mut tree, &up);
    let _d = supervise(&mut tree, &down);
    let _p = supervise(&mut tree, &perma);
    let svc = |flags: &str, dir: &Path| {
        assert_eq!(theirs("s6-svc", &[os(flags), dir.as_os_str()]).status.code(), Some(0));
    };

    // -U: both see the service come up and notify.
    let ev = up.join("event");
    same(side_by_side("s6-svwait", &[os("-U"), os("-t9000"), up.as_os_str()], &ev, 1, || svc("-u", &up)), 0);
    adopt_service(&mut tree, &up);
    // Timeouts, and -a / -o over an up and a down service.
    let both = [up.as_os_str(), down.as_os_str()];
    for (opts, want) in
        [(&["-u", "-t300"][..], 99), (&["-o", "-u", "-t9000"], 0), (&["-o", "-D", "-t9000"], 0)]
    {
        let mut args: Vec<&OsStr> = opts.iter().map(OsStr::new).collect();
        args.extend(both);
        let (a, b) = (theirs("s6-svwait", &args), ours("s6-svwait", &args));
        assert_eq!(a.status.code(), Some(want), "real {opts:?}: {}", err(&a));
        assert_eq!(b.status.code(), Some(want), "ours {opts:?}: {}", err(&b));
    }
    // -d while it goes down.
    same(side_by_side("s6-svwait", &[os("-d"), os("-t9000"), up.as_os_str()], &ev, 1, || svc("-d", &up)), 0);
    // A permanent failure while waiting for up: exit 1 (one service).
    let pev = perma.join("event");
    same(
        side_by_side("s6-svwait", &[os("-U"), os("-t9000"), perma.as_os_str()], &pev, 1, || {
            svc("-u", &perma)
        }),
        1,
    );
    // The supervisor exits while the service is not in the wanted state: exit 1.
    let dev = down.join("event");
    same(
        side_by_side("s6-svwait", &[os("-u"), os("-t9000"), down.as_os_str()], &dev, 1, || svc("-x", &down)),
        1,
    );
}

#[test]
fn svlisten1_agrees_with_real_one() {
    let t = TempDir::new("iftrig-svlisten1");
    let dir = service_dir(t.path(), "svc", "#!/bin/sh\necho >&3\nexec sleep 1000\n");
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    let mut tree = Tree::new();
    let mut s = supervise(&mut tree, &dir);
    s.ev.wait(b'U');
    let s6svc = real("s6-svc");
    for prog in ["real", "ours"] {
        let before = status(&dir).pid;
        let args = [os("-R"), os("-t9000"), dir.as_os_str(), s6svc.as_os_str(), os("-r"), dir.as_os_str()];
        let o = if prog == "real" { theirs("s6-svlisten1", &args) } else { ours("s6-svlisten1", &args) };
        assert_eq!(o.status.code(), Some(0), "{prog}: {}", err(&o));
        adopt_service(&mut tree, &dir);
        let st = status(&dir);
        assert!(st.is_up() && st.ready && st.pid != before, "{prog}: {st:?}");
    }

    // Both create a missing event/ as 3730 with their egid before subscribing.
    for prog in ["real", "ours"] {
        let d = t.join(&format!("fake-{prog}"));
        std::fs::create_dir_all(d.join("supervise")).unwrap();
        let mut st = [0u8; 35];
        st[34] = 8;
        std::fs::write(d.join("supervise/status"), st).unwrap();
        let args = [os("-D"), d.as_os_str()];
        let o = if prog == "real" { theirs("s6-svwait", &args) } else { ours("s6-svwait", &args) };
        assert_eq!(o.status.code(), Some(0), "{prog}: {}", err(&o));
        let md = std::fs::metadata(d.join("event")).unwrap();
        assert_eq!(md.permissions().mode() & 0o7777, 0o3730, "{prog}");
    }
}
