//! The README's demo tree (examples/scandir) runs under our programs: the ticker comes up
//! ready, its logger writes stamped lines, and `s6-svscanctl -t` stops everything.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

const T: Duration = Duration::from_secs(15);

#[test]
fn demo_tree_runs_logs_and_stops() {
    let t = TempDir::new("demo");
    let scan = t.join("service");
    let logs = t.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/scandir");
    let cp = Command::new("cp").arg("-R").arg(&src).arg(&scan).status().unwrap();
    assert!(cp.success());
    let bindir = bin("s6-svscan").parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bindir.display(), std::env::var("PATH").unwrap_or_default());

    let mut tree = Tree::new();
    let mut svscan = Command::new(bin("s6-svscan"));
    svscan.arg(&scan).env("PATH", &path).env("S6RS_DEMO_LOGS", &logs).env("S6RS_DEMO_RUN", t.path());
    svscan.stdin(Stdio::null()).stdout(Stdio::null());
    let pid = tree.spawn(svscan);

    // s6-svwait reads supervise/status first (and fails without it, as upstream does), so
    // wait for both supervisors to have published one.
    let published =
        || ["ticker", "ticker/log"].iter().all(|d| scan.join(d).join("supervise/status").exists());
    assert!(wait_until(T, published), "the supervisors never started");
    // Ready means: the ticker wrote its newline on notification-fd.
    let mut wait = Command::new(bin("s6-svwait"));
    wait.args(["-U", "-t", "10000"]).arg(scan.join("ticker")).arg(scan.join("ticker/log"));
    let out = run(wait, T);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for d in ["ticker", "ticker/log", "greeter", "greeter/log"] {
        if let Ok(st) = s6rs_supervise::svstatus::Status::read(&scan.join(d)) {
            tree.adopt(st.pid as i32);
        }
    }

    let current = logs.join("ticker/current");
    assert!(
        wait_until(T, || std::fs::read_to_string(&current).is_ok_and(|s| s.contains("ticker: tick 1"))),
        "the logger wrote nothing to {}",
        current.display()
    );
    let text = std::fs::read_to_string(&current).unwrap();
    let first = text.lines().next().unwrap();
    assert!(s6rs_sys::tai::Tain::parse_label(first.as_bytes()).is_some(), "unstamped line {first:?}");

    // The greeter: its user is served, anyone else is refused (no greeting, a deny line).
    let sock = t.join("greeter.sock");
    assert!(wait_until(T, || sock.exists()), "the greeter never bound its socket");
    let ask = |pre: &[std::path::PathBuf]| {
        let mut c = Command::new(pre.first().cloned().unwrap_or_else(|| bin("s6-ipcclient")));
        for p in pre.iter().skip(1) {
            c.arg(p);
        }
        if !pre.is_empty() {
            c.arg(bin("s6-ipcclient"));
        }
        c.arg(&sock).args(["sh", "-c", "cat <&6"]);
        let out = run(c, T);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // SAFETY: getuid cannot fail.
    let me = unsafe { libc::getuid() };
    let answer = ask(&[]);
    assert!(answer.starts_with(&format!("hello, uid {me}: you are client number 0 of ")), "{answer:?}");
    if me == 0 {
        let nobody = ask(&[bin("s6-setuidgid"), "nobody".into()]);
        assert_eq!(nobody, "", "a client of another uid was served");
        let glog = logs.join("greeter/current");
        assert!(
            wait_until(T, || std::fs::read_to_string(&glog).is_ok_and(|s| s.contains("deny"))),
            "no deny line in {}",
            glog.display()
        );
    }

    // hello: a socket-activated service whose socket the fd holder keeps across restarts.
    let hello = t.join("hello.sock");
    assert!(wait_until(T, || hello.exists()), "hello never bound its socket");
    let greet = || {
        let mut c = Command::new(bin("s6-ipcclient"));
        c.arg(&hello).args(["sh", "-c", "cat <&6"]).env("PATH", &path);
        let o = run(c, T);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let first = greet();
    assert!(first.starts_with("hello from server pid "), "{first}");
    let mut svc = Command::new(bin("s6-svc"));
    svc.args(["-wr", "-T", "10000", "-r"]).arg(scan.join("hello"));
    assert_eq!(run(svc, T + T).status.code(), Some(0));
    let second = greet();
    assert!(second.starts_with("hello from server pid ") && second != first, "{first} then {second}");

    let mut ctl = Command::new(bin("s6-svscanctl"));
    ctl.arg("-t").arg(&scan);
    assert_eq!(run(ctl, T).status.code(), Some(0));
    assert!(tree.wait_exit(pid, T).is_some(), "s6-svscan did not exit after -t");
}
