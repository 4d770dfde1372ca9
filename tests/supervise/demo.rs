//! The README's demo tree (examples/scandir) runs under our programs: the ticker comes up
//! ready, its logger writes stamped lines, the greeter and the sudo service serve only whom
//! their rules allow, and `s6-svscanctl -t` stops everything.

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
    let ready = ["ticker", "ticker/log", "greeter", "ticker-sudo"];
    let published = || ready.iter().all(|d| scan.join(d).join("supervise/status").exists());
    assert!(wait_until(T, published), "the supervisors never started");
    // Ready means: the ticker wrote its newline on notification-fd, the loggers opened
    // their logdirs, the socket services accept clients.
    let mut wait = Command::new(bin("s6-svwait"));
    wait.args(["-U", "-t", "10000"]);
    wait.args(ready.iter().map(|d| scan.join(d)));
    let out = run(wait, T);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for d in ["ticker", "ticker/log", "greeter", "greeter/log", "ticker-sudo", "ticker-sudo/log"] {
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
    assert!(sock.exists(), "the greeter is ready without its socket");
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

    if me == 0 {
        ticker_sudo(&mut tree, &scan, t.path(), &logs);
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

/// The sudo service: `nobody` restarts the ticker through it; the same call with an extra
/// argument is refused before anything runs, and so is root, whom the rules do not list;
/// the audit trail reaches the service's log.
fn ticker_sudo(tree: &mut Tree, scan: &std::path::Path, run_dir: &std::path::Path, logs: &std::path::Path) {
    let sock = run_dir.join("ticker-sudo.sock");
    assert!(sock.exists(), "the sudo service is ready without its socket");
    let ticker = scan.join("ticker");
    // The pid of the ticker once it runs and is ready (0 meanwhile: down, or its finish
    // script running).
    let pid = || {
        s6rs_supervise::svstatus::Status::read(&ticker).map_or(0, |s| {
            if s.is_up() && s.ready {
                s.pid
            } else {
                0
            }
        })
    };
    let sudo = |as_nobody: bool, args: &[&str]| {
        let mut c = Command::new(if as_nobody { bin("s6-setuidgid") } else { bin("s6-sudo") });
        if as_nobody {
            c.arg("nobody").arg(bin("s6-sudo"));
        }
        c.arg(&sock).args(args);
        run(c, T)
    };

    let before = pid();
    let out = sudo(true, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mut after = 0;
    assert!(
        wait_until(T, || {
            after = pid();
            after != 0 && after != before
        }),
        "the ticker was not restarted"
    );
    tree.adopt(after as i32);

    let out = sudo(true, &["-d"]);
    assert_ne!(out.status.code(), Some(0), "an extra argument was accepted");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Operation not permitted"), "{err}");
    let out = sudo(false, &[]);
    assert_ne!(out.status.code(), Some(0), "root, outside the rules, was served");
    assert_eq!(pid(), after, "a refused call restarted the ticker");

    let log = logs.join("ticker-sudo/current");
    let audited = |s: &str| {
        s.contains(": spawned: s6-svc -r ")
            && s.contains(" exited 0")
            && s.contains(": refused: ")
            && s.contains(" -d\n")
            && s.contains("deny")
    };
    assert!(
        wait_until(T, || std::fs::read_to_string(&log).is_ok_and(|s| audited(&s))),
        "no audit trail in {}: {}",
        log.display(),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}
