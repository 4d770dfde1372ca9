//! s6-svwait, s6-svlisten1 and s6-svlisten against services run by the REAL s6-supervise
//! (2.11), driven by the real s6-svc; and s6-notifyoncheck making such a service ready.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use super::clients_util::*;
use super::ftrig::{listeners, wait_listeners, Bg};
use crate::support::*;

/// A service that notifies readiness on fd 3 once started.
const NOTIFIER: &str = "#!/bin/sh\necho >&3\nexec sleep 1000\n";

/// A service that dies at once and whose finish reports permanent failure.
fn permafail(root: &Path, name: &str) -> std::path::PathBuf {
    let dir = service_dir(root, name, "#!/bin/sh\nexit 3\n");
    script(&dir.join("finish"), "#!/bin/sh\nexit 125\n");
    std::fs::write(dir.join("down"), "").unwrap();
    dir
}

fn real_svc(flags: &str, dir: &Path) -> std::ffi::OsString {
    format!("{} {flags} {}", real("s6-svc").display(), dir.display()).into()
}

/// Runs one of our waiting tools with `args`, then `sh -c body` as the spawned prog.
fn listen_with(prog: &str, args: &[&OsStr], body: &OsStr) -> std::process::Output {
    let mut v: Vec<&OsStr> = args.to_vec();
    v.extend([OsStr::new("sh"), OsStr::new("-c"), body]);
    ours(prog, &v)
}

fn w(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// Starts our s6-svwait with `flag` and a 10 s timeout on `dir`, waits until it listens,
/// sends `svc` to the service with real s6-svc, and returns s6-svwait's output.
fn svwait_through(flag: &str, dir: &Path, svc: &str) -> std::process::Output {
    let bg = Bg::start({
        let mut c = Command::new(bin("s6-svwait"));
        c.args([w(flag), w("-t10000"), dir.as_os_str()]);
        c
    });
    wait_listeners(&dir.join("event"), 2);
    assert_eq!(theirs("s6-svc", &[w(svc), dir.as_os_str()]).status.code(), Some(0));
    bg.finish()
}

#[test]
fn svwait_with_no_dirs_exits_at_once_and_usage() {
    assert_eq!(ours::<&str>("s6-svwait", &[]).status.code(), Some(0));
    assert_eq!(ours("s6-svwait", &["-t", "-1", "x"]).status.code(), Some(100));
    assert_eq!(ours("s6-svwait", &["-z", "x"]).status.code(), Some(100));
    assert_eq!(ours("s6-svlisten1", &["x"]).status.code(), Some(100));
    assert_eq!(ours("s6-svlisten", &["x", ""]).status.code(), Some(100));
    let o = ours("s6-svlisten", &["a", "b", "c"]);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(err(&o), "s6-svlisten: fatal: unterminated servicedir block\n");
    // An empty block execs prog.
    let o = ours("s6-svlisten", &["", "sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7));
    // Not supervised: no status to read.
    let t = TempDir::new("svwait-nosup");
    let dir = service_dir(t.path(), "svc", SLEEPER);
    let o = ours("s6-svwait", &[&dir]);
    assert_eq!(o.status.code(), Some(111));
    assert!(err(&o).contains("unable to read status for"), "{}", err(&o));
}

#[test]
fn svwait_creates_event_dir_with_our_group() {
    let t = TempDir::new("svwait-event");
    let dir = service_dir(t.path(), "svc", SLEEPER);
    // A status as a supervisor leaves it: down, ready.
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    let mut st = [0u8; 35];
    st[34] = 8;
    std::fs::write(dir.join("supervise/status"), st).unwrap();
    let o = ours("s6-svwait", &[w("-D"), dir.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let md = std::fs::metadata(dir.join("event")).unwrap();
    assert_eq!(md.permissions().mode() & 0o7777, 0o3730);
    // SAFETY: getegid cannot fail.
    assert_eq!(md.gid(), unsafe { libc::getegid() });
    // Up is not reached: timeout.
    let o = ours("s6-svwait", &[w("-u"), w("-t"), w("100"), dir.as_os_str()]);
    assert_eq!(o.status.code(), Some(99));
    assert_eq!(err(&o), "s6-svwait: fatal: timed out\n");
    assert!(listeners(&dir.join("event")).is_empty());
}

#[test]
fn svlisten1_up_ready_down_really_down() {
    let t = TempDir::new("svlisten1");
    let dir = service_dir(t.path(), "svc", NOTIFIER);
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    script(&dir.join("finish"), "#!/bin/sh\nsleep 0.3\n");
    std::fs::write(dir.join("down"), "").unwrap();
    let mut tree = Tree::new();
    let _s = supervise(&mut tree, &dir);

    let o = ours(
        "s6-svlisten1",
        &[
            w("-U"),
            w("-t"),
            w("10000"),
            dir.as_os_str(),
            real("s6-svc").as_os_str(),
            w("-u"),
            dir.as_os_str(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    adopt_service(&mut tree, &dir);
    let st = status(&dir);
    assert!(st.is_up() && st.ready, "{st:?}");
    // Already there: s6-svwait returns at once.
    assert_eq!(ours("s6-svwait", &[w("-U"), w("-t"), w("5000"), dir.as_os_str()]).status.code(), Some(0));

    // -D waits for the finish script too.
    let o = ours(
        "s6-svlisten1",
        &[w("-D"), w("-t10000"), dir.as_os_str(), real("s6-svc").as_os_str(), w("-d"), dir.as_os_str()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let st = status(&dir);
    assert!(st.pid == 0 && !st.finishing && st.ready, "{st:?}");

    // -u then -d with a plain up.
    let body = real_svc("-u", &dir);
    assert_eq!(
        listen_with("s6-svlisten1", &[w("-u"), w("-t10000"), dir.as_os_str()], &body).status.code(),
        Some(0)
    );
    adopt_service(&mut tree, &dir);
    assert!(status(&dir).is_up());
    let body = real_svc("-d", &dir);
    assert_eq!(
        listen_with("s6-svlisten1", &[w("-d"), w("-t10000"), dir.as_os_str()], &body).status.code(),
        Some(0)
    );
    assert!(!status(&dir).is_up());
}

#[test]
fn restart_waits_for_down_then_up() {
    let t = TempDir::new("svwait-restart");
    let dir = service_dir(t.path(), "svc", NOTIFIER);
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    let mut tree = Tree::new();
    let mut s = supervise(&mut tree, &dir);
    s.ev.wait(b'U');
    let before = status(&dir).pid;

    // The service is up: -r must still see it go down and come back.
    let body = real_svc("-r", &dir);
    let o = listen_with("s6-svlisten1", &[w("-R"), w("-t10000"), dir.as_os_str()], &body);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    adopt_service(&mut tree, &dir);
    let st = status(&dir);
    assert!(st.is_up() && st.ready && st.pid != before, "{st:?}");

    // s6-svwait -r, subscribed before the restart is asked for.
    let before = st.pid;
    let out = svwait_through("-r", &dir, "-r");
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    adopt_service(&mut tree, &dir);
    assert_ne!(status(&dir).pid, before);

    // Without anything happening, a restart is never seen.
    let o = ours("s6-svwait", &[w("-r"), w("-t"), w("300"), dir.as_os_str()]);
    assert_eq!(o.status.code(), Some(99));
}

#[test]
fn all_or_any() {
    let t = TempDir::new("svwait-ao");
    let up = service_dir(t.path(), "up", SLEEPER);
    let down = service_dir(t.path(), "down", SLEEPER);
    std::fs::write(down.join("down"), "").unwrap();
    let mut tree = Tree::new();
    let _a = supervise(&mut tree, &up);
    let _b = supervise(&mut tree, &down);
    let both = [up.as_os_str(), down.as_os_str()];
    let wait = |opts: &[&str]| {
        let mut v: Vec<&OsStr> = opts.iter().map(OsStr::new).collect();
        v.extend(both);
        ours("s6-svwait", &v).status.code()
    };
    assert_eq!(wait(&["-o", "-u", "-t", "5000"]), Some(0));
    assert_eq!(wait(&["-o", "-d", "-t", "5000"]), Some(0));
    assert_eq!(wait(&["-u", "-t", "300"]), Some(99));
    assert_eq!(wait(&["-a", "-d", "-t", "300"]), Some(99));

    // s6-svlisten in its argv form: both up once the second is started.
    let body = real_svc("-u", &down);
    let o = ours(
        "s6-svlisten",
        &[w("-u"), w("-t10000"), up.as_os_str(), down.as_os_str(), w(""), w("sh"), w("-c"), &body],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    adopt_service(&mut tree, &down);
    // Strict execline form, words with a leading space.
    let body = real_svc("-d", &down);
    let (u, d) = (format!(" {}", up.display()), format!(" {}", down.display()));
    let mut c = Command::new(bin("s6-svlisten"));
    c.args([w("-o"), w("-d"), w("-t10000"), w(&u), w(&d), w(""), w("sh"), w("-c"), &body])
        .env("EXECLINE_STRICT", "2");
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // -r with -o: warned about and treated as -a.
    let body = real_svc("-r", &up);
    let o = ours(
        "s6-svlisten",
        &[
            w("-o"),
            w("-r"),
            w("-t"),
            w("500"),
            up.as_os_str(),
            down.as_os_str(),
            w(""),
            w("sh"),
            w("-c"),
            &body,
        ],
    );
    assert_eq!(o.status.code(), Some(99), "{}", err(&o));
    assert!(err(&o).contains("warning: -o is unsupported when combined with -r"), "{}", err(&o));
    adopt_service(&mut tree, &up);
}

#[test]
fn permanent_failure_counts_services() {
    let t = TempDir::new("svwait-perma");
    let a = permafail(t.path(), "a");
    let b = permafail(t.path(), "b");
    let mut tree = Tree::new();
    let _a = supervise(&mut tree, &a);
    let _b = supervise(&mut tree, &b);

    // -U: u (not ready), d, then OD: a permanent failure.
    let body = real_svc("-u", &a);
    let o = listen_with("s6-svlisten1", &[w("-U"), w("-t10000"), a.as_os_str()], &body);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(
        err(&o),
        format!("s6-svlisten1: fatal: {} failed permanently or its supervisor died\n", a.display())
    );

    // Both fail: exit 2. (Debian's s6-svlisten times out here, because the `D` glued to
    // each `O` turns the first failed service back to "down"; see supervise::svwait.)
    let body: std::ffi::OsString =
        format!("{s} -u {a}; {s} -u {b}", s = real("s6-svc").display(), a = a.display(), b = b.display())
            .into();
    let o = ours(
        "s6-svlisten",
        &[w("-U"), w("-t10000"), a.as_os_str(), b.as_os_str(), w(""), w("sh"), w("-c"), &body],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert_eq!(
        err(&o),
        format!(
            "s6-svlisten: fatal: {}, {} failed permanently or their supervisors died\n",
            a.display(),
            b.display()
        )
    );

    // Waiting for down, the same events are no failure.
    let body = real_svc("-u", &a);
    let o = listen_with("s6-svlisten1", &[w("-D"), w("-t10000"), a.as_os_str()], &body);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

#[test]
fn supervisor_death_is_a_failure_unless_state_reached() {
    let t = TempDir::new("svwait-x");
    let a = service_dir(t.path(), "a", SLEEPER);
    std::fs::write(a.join("down"), "").unwrap();
    let mut tree = Tree::new();
    let s = supervise(&mut tree, &a);

    // Waiting for up on a down service whose supervisor exits: one failure.
    let out = svwait_through("-u", &a, "-x");
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(tree.wait_exit(s.pid, T).is_some(), "supervisor did not exit");

    // Waiting for down when it is down: x is no failure.
    let mut tree = Tree::new();
    let s = supervise(&mut tree, &a);
    let body = real_svc("-x", &a);
    let o = listen_with("s6-svlisten1", &[w("-d"), w("-t10000"), a.as_os_str()], &body);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(tree.wait_exit(s.pid, T).is_some(), "supervisor did not exit");
}

/// A service `svc` under `root` whose run script is `s6-notifyoncheck OPTS sleep 1000`, with
/// notification fd 3, `check` as its data/check script if given, and a `down` file if asked.
fn checked_service(root: &Path, opts: &str, check: Option<&str>, down: bool) -> std::path::PathBuf {
    let body = format!("#!/bin/sh\nexec {} {opts} sleep 1000\n", bin("s6-notifyoncheck").display());
    let dir = service_dir(root, "svc", &body);
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    if down {
        std::fs::write(dir.join("down"), "").unwrap();
    }
    if let Some(check) = check {
        std::fs::create_dir(dir.join("data")).unwrap();
        script(&dir.join("data/check"), check);
    }
    dir
}

#[test]
fn notifyoncheck_makes_a_polled_service_ready() {
    let t = TempDir::new("notifyoncheck");
    // The check fails twice, then succeeds.
    let check = "#!/bin/sh\necho x >> tries\n[ $(wc -l < tries) -ge 3 ]\n";
    let dir = checked_service(t.path(), "-s 0 -w 20 -n 10", Some(check), true);
    let mut tree = Tree::new();
    let _s = supervise(&mut tree, &dir);
    let svc_up = real_svc("-u", &dir);
    let o = listen_with("s6-svlisten1", &[w("-U"), w("-t10000"), dir.as_os_str()], &svc_up);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let pid = adopt_service(&mut tree, &dir);
    assert!(status(&dir).ready);
    assert_eq!(std::fs::read_to_string(dir.join("tries")).unwrap().lines().count(), 3);
    // The daemon itself never holds the notification fd.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(cmdline.starts_with(b"sleep\0"), "{:?}", String::from_utf8_lossy(&cmdline));
    assert!(!Path::new(&format!("/proc/{pid}/fd/3")).exists());
}

#[test]
fn notifyoncheck_doublefork_and_check_program() {
    let t = TempDir::new("notifyoncheck-c");
    let dir = checked_service(t.path(), "-d --initial-sleep=0 --check-program=\"exit 0\"", None, true);
    let mut tree = Tree::new();
    let _s = supervise(&mut tree, &dir);
    let svc_up = real_svc("-u", &dir);
    let o = listen_with("s6-svlisten1", &[w("-U"), w("-t10000"), dir.as_os_str()], &svc_up);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let pid = adopt_service(&mut tree, &dir);
    // With -d the helper was never the daemon's child.
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    assert!(children.trim().is_empty(), "daemon has children: {children}");
}

#[test]
fn notifyoncheck_gives_up_and_stops_with_the_service() {
    let t = TempDir::new("notifyoncheck-fail");
    // The check records its parent (the helper) and fails forever.
    let dir =
        checked_service(t.path(), "-s 0 -w 50 -n 0", Some("#!/bin/sh\necho $PPID > helper\nexit 1\n"), false);
    let mut tree = Tree::new();
    let mut s = supervise(&mut tree, &dir);
    assert_eq!(ours("s6-svwait", &[w("-U"), w("-t"), w("400"), dir.as_os_str()]).status.code(), Some(99));
    // Each attempt rewrites the file (`>` truncates first): wait for a whole pid.
    let mut helper = 0;
    assert!(wait_until(T, || {
        let pid = std::fs::read_to_string(dir.join("helper")).ok().and_then(|s| s.trim().parse().ok());
        helper = pid.unwrap_or(0);
        pid.is_some()
    }));
    tree.adopt(helper);
    // The service dies: the helper sees `d` and exits instead of polling on.
    assert_eq!(theirs("s6-svc", &[w("-d"), dir.as_os_str()]).status.code(), Some(0));
    s.ev.wait(b'd');
    let gone = || {
        std::fs::read_to_string(format!("/proc/{helper}/stat"))
            .map(|st| st.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')))
            .unwrap_or(true)
    };
    assert!(wait_until(T, gone), "helper {helper} still running after the service died");
}

#[test]
fn notifyoncheck_sanity_checks() {
    let t = TempDir::new("notifyoncheck-sanity");
    let dir = service_dir(t.path(), "svc", SLEEPER);
    let run_in = |args: &[&str]| {
        let mut c = Command::new(bin("s6-notifyoncheck"));
        c.args(args).current_dir(&dir);
        run(c, T)
    };
    let o = run_in(&["true"]);
    assert_eq!(o.status.code(), Some(111));
    assert!(err(&o).contains("unable to read ./notification-fd"), "{}", err(&o));
    std::fs::write(dir.join("notification-fd"), "x\n").unwrap();
    assert_eq!(run_in(&["true"]).status.code(), Some(100));
    // fd 2 is open; nobody supervises this dir.
    let o = run_in(&["-3", "2", "true"]);
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(err(&o), "s6-notifyoncheck: fatal: s6-supervise not running.\n");
    let o = run_in(&["-3", "47", "true"]);
    assert_eq!(o.status.code(), Some(111));
    assert!(err(&o).contains("notification-fd sanity check failed"), "{}", err(&o));
    assert_eq!(run_in(&["-n", "x", "true"]).status.code(), Some(100));
    assert_eq!(run_in(&["--tries"]).status.code(), Some(100));
    assert_eq!(run_in(&[]).status.code(), Some(100));
}
