//! s6-svc: every command letter's effect on a service run by the REAL s6-supervise (2.11),
//! the bytes it writes, its 2.15 exit codes over several directories, and `-w`.
//!
//! 2.11's s6-supervise ignores the 2.13+ letters `l P C K`; for those the test checks the
//! bytes on the control fifo instead.

use std::collections::BTreeSet;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::Command;

use super::clients_util::*;
use crate::support::*;

/// A service that logs every trapped signal to `./sigs`, exits 0 on TERM, and notifies
/// readiness once its traps are in place.
const TRAPPER: &str = r#"#!/bin/sh
for s in ALRM ABRT QUIT HUP INT USR1 USR2 WINCH; do trap "echo $s >> sigs" $s; done
trap 'echo TERM >> sigs; exit 0' TERM
echo >&3
while :; do sleep 1 & wait $!; done
"#;

fn sigs(dir: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(dir.join("sigs")).unwrap_or_default().lines().map(str::to_owned).collect()
}

fn svc(args: &[&str], dir: &Path) -> std::process::Output {
    let mut v: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    v.push(dir.as_os_str());
    ours("s6-svc", &v)
}

fn ok(o: &std::process::Output) {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", err(o));
    assert!(o.stderr.is_empty(), "stderr: {}", err(o));
}

fn tally_tail(dir: &Path) -> Vec<u8> {
    let t = std::fs::read(dir.join("supervise/death_tally")).unwrap();
    assert!(!t.is_empty(), "empty tally");
    assert_eq!(t.len() % 14, 0, "tally of {} bytes", t.len());
    t[t.len() - 2..].to_vec()
}

#[test]
fn svc_signal_letters_reach_the_service() {
    let t = TempDir::new("svc-sig");
    let dir = service_dir(t.path(), "svc", TRAPPER);
    std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    let mut tree = Tree::new();
    let mut s = supervise(&mut tree, &dir);
    s.ev.wait(b'U');
    let pid = status(&dir).pid;

    ok(&svc(&["-abqhi12y"], &dir));
    let want: BTreeSet<String> = ["ALRM", "ABRT", "QUIT", "HUP", "INT", "USR1", "USR2", "WINCH"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(wait_until(T, || sigs(&dir) == want), "got {:?}", sigs(&dir));

    // -s takes names in any case, with or without SIG, and numbers.
    std::fs::remove_file(dir.join("sigs")).unwrap();
    ok(&svc(&["-s", "usr1", "-ssigwinch", "-s", "1"], &dir));
    let want: BTreeSet<String> = ["USR1", "WINCH", "HUP"].iter().map(|s| s.to_string()).collect();
    assert!(wait_until(T, || sigs(&dir) == want), "got {:?}", sigs(&dir));
    assert_eq!(status(&dir).pid, pid, "trapped signals must not restart the service");

    // -t: the script exits on TERM, and the supervisor restarts it (still wanted up).
    ok(&svc(&["-t"], &dir));
    s.ev.wait_seq(b"du");
    adopt_service(&mut tree, &dir);
    assert!(sigs(&dir).contains("TERM"));
    let st = status(&dir);
    assert!(st.is_up() && st.wantup && st.pid != pid);
    assert_eq!(st.wstat, 0, "exit 0 after TERM");
}

#[test]
fn svc_down_up_once_and_the_death_tally() {
    let t = TempDir::new("svc-dudo");
    let dir = service_dir(t.path(), "svc", SLEEPER);
    let mut tree = Tree::new();
    let mut s = supervise(&mut tree, &dir);

    ok(&svc(&["-d"], &dir));
    s.ev.wait_seq(b"dD");
    let st = status(&dir);
    assert!(!st.is_up() && !st.wantup && st.ready);
    assert_eq!(st.wstat, libc::SIGTERM as u16);
    assert_eq!(tally_tail(&dir), [0x8f, 0x0f]);

    ok(&svc(&["-u"], &dir));
    s.ev.wait(b'u');
    adopt_service(&mut tree, &dir);
    let st = status(&dir);
    assert!(st.is_up() && st.wantup);

    // -O: no restart, the service keeps running.
    let pid = st.pid;
    ok(&svc(&["-O"], &dir));
    assert!(wait_until(T, || !status(&dir).wantup));
    assert_eq!(status(&dir).pid, pid);

    // -o on a down service starts it once.
    ok(&svc(&["-d"], &dir));
    s.ev.wait_seq(b"dD");
    ok(&svc(&["-o"], &dir));
    s.ev.wait(b'u');
    adopt_service(&mut tree, &dir);
    let st = status(&dir);
    assert!(st.is_up() && !st.wantup);
}

#[test]
fn svc_kill_is_recorded_and_restarts() {
    let t = TempDir::new("svc-k");
    let dir = service_dir(t.path(), "svc", SLEEPER);
    let mut tree = Tree::new();
    let mut s = supervise(&mut tree, &dir);
    let pid = status(&dir).pid;
    ok(&svc(&["-k"], &dir));
    s.ev.wait_seq(b"du");
    adopt_service(&mut tree, &dir);
    assert_eq!(tally_tail(&dir), [0x89, 0x09]);
    let st = status(&dir);
    assert!(st.is_up() && st.pid != pid);
}

fn proc_state(pid: u64) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit(')').next().unwrap().trim_start().chars().next().unwrap()
}

#[test]
fn svc_pause_and_continue() {
    let t = TempDir::new("svc-pc");
    let dir = service_dir(t.path(), "svc", SLEEPER);
    let mut tree = Tree::new();
    let _s = supervise(&mut tree, &dir);
    let pid = status(&dir).pid;
    ok(&svc(&["-p"], &dir));
    assert!(wait_until(T, || status(&dir).paused));
    assert!(wait_until(T, || proc_state(pid) == 'T'));
    ok(&svc(&["-c"], &dir));
    assert!(wait_until(T, || !status(&dir).paused));
    assert!(wait_until(T, || proc_state(pid) != 'T'));
    assert_eq!(status(&dir).pid, pid);
}

#[test]
fn svc_down_files_q_d_u() {
    let t = TempDir::new("svc-qdu");
    let dir = service_dir(t.path(), "svc", SLEEPER);
    let mut tree = Tree::new();
    let mut s = supervise(&mut tree, &dir);
    let pid = status(&dir).pid;

    // -Q: ./down and no restart, but the service keeps running.
    ok(&svc(&["-Q"], &dir));
    assert!(wait_until(T, || dir.join("down").exists() && !status(&dir).wantup));
    assert_eq!(status(&dir).pid, pid);

    // -U: ./down goes and the service is wanted up again.
    ok(&svc(&["-U"], &dir));
    assert!(wait_until(T, || !dir.join("down").exists() && status(&dir).wantup));

    // -D: ./down again, and the service stops.
    ok(&svc(&["-D"], &dir));
    s.ev.wait_seq(b"dD");
    assert!(dir.join("down").exists());
    assert!(!status(&dir).is_up());

    ok(&svc(&["-U"], &dir));
    s.ev.wait(b'u');
    adopt_service(&mut tree, &dir);
    assert!(!dir.join("down").exists());
    assert!(status(&dir).is_up());
}

#[test]
fn svc_dx_stops_the_service_and_the_supervisor() {
    let t = TempDir::new("svc-x");
    let dir = service_dir(t.path(), "svc", SLEEPER);
    let mut tree = Tree::new();
    let mut s = supervise(&mut tree, &dir);
    ok(&svc(&["-dx"], &dir));
    s.ev.wait_seq(b"dDx");
    let st = tree.wait_exit(s.pid, T).expect("s6-supervise exited");
    assert_eq!(st.code(), Some(0));
    let o = svc(&["-u"], &dir);
    assert_eq!(o.status.code(), Some(102));
}

#[test]
fn svc_writes_all_letters_in_order_in_one_write() {
    let t = TempDir::new("svc-bytes");
    let dir = t.join("svc");
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    let fifo = dir.join("supervise/control");
    s6rs_sys::fd::mkfifo(&fifo, 0o600).unwrap();
    let r = s6rs_sys::fd::open_read_nb(&fifo).unwrap();
    let all = "abqhkti12pcyrlPCKoduDUxOQ";
    ok(&svc(&[&format!("-{all}")], &dir));
    let mut buf = [0u8; 64];
    let n = s6rs_sys::fd::read(r.as_fd(), &mut buf).unwrap();
    assert_eq!(&buf[..n], all.as_bytes());

    // -s is translated to its letter, in place; options may be split and repeated.
    ok(&svc(&["-d", "-s", "TERM", "-sSIGSTOP", "-s", "28", "-xu"], &dir));
    let n = s6rs_sys::fd::read(r.as_fd(), &mut buf).unwrap();
    assert_eq!(&buf[..n], b"dtpyxu");

    // Several dirs: one write each.
    ok(&ours("s6-svc", &[std::ffi::OsStr::new("-ud"), dir.as_os_str(), dir.as_os_str()]));
    let n = s6rs_sys::fd::read(r.as_fd(), &mut buf).unwrap();
    assert_eq!(&buf[..n], b"udud");
}

#[test]
fn svc_exit_codes_and_messages() {
    let t = TempDir::new("svc-codes");
    // Never supervised: no supervise/ at all.
    let never = service_dir(t.path(), "never", SLEEPER);
    // Supervised once: the fifo is there, nobody reads it.
    let gone = service_dir(t.path(), "gone", SLEEPER);
    std::fs::create_dir(gone.join("supervise")).unwrap();
    s6rs_sys::fd::mkfifo(&gone.join("supervise/control"), 0o600).unwrap();
    // Broken: supervise/ without a fifo.
    let broken = service_dir(t.path(), "broken", SLEEPER);
    std::fs::create_dir(broken.join("supervise")).unwrap();
    let missing = t.join("missing");

    let o = svc(&["-u"], &never);
    assert_eq!(o.status.code(), Some(102));
    assert_eq!(
        err(&o),
        format!("s6-svc: warning: unable to control {}: supervisor not listening\n", never.display())
    );
    assert_eq!(svc(&["-u"], &gone).status.code(), Some(102));
    let o = svc(&["-u"], &broken);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err(&o),
        format!("s6-svc: warning: something is wrong with the {}/supervise directory: No such file or directory\n", broken.display())
    );
    let o = svc(&["-u"], &missing);
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        err(&o),
        format!("s6-svc: warning: unable to control {}: No such file or directory\n", missing.display())
    );

    // Several dirs: every one is tried, the last failure decides.
    let mut tree = Tree::new();
    let good = service_dir(t.path(), "good", SLEEPER);
    std::fs::write(good.join("down"), "").unwrap();
    let mut s = supervise(&mut tree, &good);
    let o = ours(
        "s6-svc",
        &[std::ffi::OsStr::new("-u"), broken.as_os_str(), good.as_os_str(), never.as_os_str()],
    );
    assert_eq!(o.status.code(), Some(102));
    assert_eq!(err(&o).lines().count(), 2);
    s.ev.wait(b'u');
    adopt_service(&mut tree, &good);
    let o = ours("s6-svc", &[never.as_os_str(), broken.as_os_str()]);
    assert_eq!(o.status.code(), Some(1), "no letters still checks every dir");
    assert!(ours("s6-svc", &[good.as_os_str()]).status.success());

    // Real 2.11 s6-svc says 100 where 2.15 (and we) say 102.
    assert_eq!(theirs("s6-svc", &[std::ffi::OsStr::new("-u"), never.as_os_str()]).status.code(), Some(100));
}

#[test]
fn svc_usage_errors() {
    let code = |args: &[&str]| {
        let o = ours("s6-svc", args);
        (o.status.code(), err(&o))
    };
    let usage = "s6-svc: usage: s6-svc [ -wu | -wU | -wd | -wD | -wr | -wR ] [ -T timeout ] [ -s signal | -abqhkti12pcyrlPCK ] [ -oduDUxOQ ] servicedirs...\n";
    assert_eq!(code(&["-u"]), (Some(100), usage.to_owned()));
    assert_eq!(code(&["-wz", "d"]), (Some(100), usage.to_owned()));
    assert_eq!(code(&["-Z", "d"]), (Some(100), usage.to_owned()));
    assert_eq!(code(&["-T", "1s", "d"]), (Some(100), usage.to_owned()));
    assert_eq!(
        code(&["-s", "SEGV", "d"]),
        (Some(100), "s6-svc: fatal: SEGV is not in the list of user-available signals\n".to_owned())
    );
    assert_eq!(code(&["-s", "NOPE", "d"]), (Some(100), "s6-svc: fatal: invalid signal: NOPE\n".to_owned()));
    assert_eq!(code(&["-u", ""]), (Some(100), "s6-svc: fatal: invalid service path\n".to_owned()));
}

/// A copy of our s6-svc in a fresh directory, next to `siblings` (name, target) so that
/// `-w` execs those instead of our own waiters.
fn svc_with_siblings(t: &TempDir, siblings: &[(&str, &Path)]) -> std::path::PathBuf {
    let bindir = t.join("bin");
    std::fs::create_dir_all(&bindir).unwrap();
    let svc = bindir.join("s6-svc");
    std::fs::copy(bin("s6-svc"), &svc).unwrap();
    for (name, target) in siblings {
        std::os::unix::fs::symlink(target, bindir.join(name)).unwrap();
    }
    svc
}

#[test]
fn svc_w_execs_the_sibling_waiter_with_the_command_line() {
    let t = TempDir::new("svc-w-argv");
    let log = t.join("argv");
    let shim = t.join("shim");
    script(
        &shim,
        &format!(
            "#!/bin/sh\n{{ echo \"${{EXECLINE_STRICT-unset}}\"; echo \"$0\"; for a; do echo \"[$a]\"; done; }} > {}\n",
            log.display()
        ),
    );
    let svc = svc_with_siblings(&t, &[("s6-svlisten", &shim), ("s6-svwait", &shim)]);
    let bindir = svc.parent().unwrap().to_path_buf();
    let a = service_dir(t.path(), "a", SLEEPER);
    std::fs::write(a.join("notification-fd"), "3\n").unwrap();
    let b = service_dir(t.path(), "b", SLEEPER);
    let run_svc = |args: &[&std::ffi::OsStr]| {
        let mut c = Command::new(&svc);
        c.args(args).env("EXECLINE_STRICT", "2");
        let o = run(c, T);
        (o, std::fs::read_to_string(&log).unwrap())
    };
    let (o, argv) = run_svc(&[
        "-wU".as_ref(),
        "-T".as_ref(),
        "3000".as_ref(),
        "-du".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
    ]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", err(&o));
    let (a_, b_) = (a.display(), b.display());
    assert_eq!(
        argv,
        format!(
            "unset\n{}/s6-svlisten\n[-U]\n[-t]\n[3000]\n[--]\n[{a_}]\n[{b_}]\n[]\n[{}/s6-svc]\n[-du]\n[--]\n[{a_}]\n[{b_}]\n",
            bindir.display(),
            bindir.display()
        )
    );

    // No commands: s6-svwait. -wR without notification-fd in the FIRST dir becomes -r.
    let (o, argv) = run_svc(&["-wR".as_ref(), b.as_os_str(), a.as_os_str()]);
    assert!(o.status.success());
    assert_eq!(argv, format!("unset\n{}/s6-svwait\n[-r]\n[--]\n[{b_}]\n[{a_}]\n", bindir.display()));
    assert_eq!(
        err(&o),
        format!("s6-svc: warning: {b_}/notification-fd not present - ignoring request for readiness notification\n")
    );
}

/// `s6-svc -w` execs our s6-svlisten or s6-svwait, and a timeout or a permanent failure
/// used to be reported as `s6-svlisten: fatal: ...` (real 2.11 says `s6-svlisten1: ...`),
/// naming a program the user did not run, and without saying which service failed. The
/// messages keep 2.11's shape but name s6-svc and the failed services.
#[test]
fn svc_w_timeout_and_permanent_failure_name_s6_svc_and_the_service() {
    let t = TempDir::new("svc-w-msgs");
    // Never comes up: ./run is not executable.
    let never = service_dir(t.path(), "never", SLEEPER);
    std::fs::write(never.join("down"), "").unwrap();
    std::fs::set_permissions(never.join("run"), std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    // Fails permanently: ./run exits, ./finish exits 125.
    let perma = |name: &str| {
        let dir = service_dir(t.path(), name, "#!/bin/sh\nexit 3\n");
        script(&dir.join("finish"), "#!/bin/sh\nexit 125\n");
        std::fs::write(dir.join("down"), "").unwrap();
        std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
        dir
    };
    let (p1, p2, p3) = (perma("p1"), perma("p2"), perma("p3"));
    let mut tree = Tree::new();
    for d in [&never, &p1, &p2, &p3] {
        supervise(&mut tree, d);
    }
    let svc = |args: &[&str], dirs: &[&Path]| {
        let mut v: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        v.extend(dirs.iter().map(|d| d.as_os_str()));
        let o = ours("s6-svc", &v);
        (o.status.code(), err(&o))
    };

    // Timeouts, with commands (through s6-svlisten) and without (through s6-svwait).
    let timed_out = (Some(99), "s6-svc: fatal: timed out\n".to_owned());
    assert_eq!(svc(&["-wu", "-T", "200", "-u"], &[&never]), timed_out);
    assert_eq!(svc(&["-wu", "-T", "200"], &[&never]), timed_out);

    // A permanent failure names the service; several name them all, and the exit code
    // counts them.
    let failed = format!("s6-svc: fatal: {} failed permanently or its supervisor died\n", p1.display());
    assert_eq!(svc(&["-wU", "-T", "10000", "-u"], &[&p1]), (Some(1), failed));
    let failed = format!(
        "s6-svc: fatal: {}, {} failed permanently or their supervisors died\n",
        p2.display(),
        p3.display()
    );
    assert_eq!(svc(&["-wU", "-T", "10000", "-u"], &[&p2, &p3]), (Some(2), failed));

    // Run directly, the waiters keep their own names.
    let o = ours("s6-svwait", &[std::ffi::OsStr::new("-t100"), never.as_os_str()]);
    assert_eq!((o.status.code(), err(&o)), (Some(99), "s6-svwait: fatal: timed out\n".to_owned()));
}

#[test]
fn svc_w_waits_through_a_real_svlisten() {
    // Real 2.11 s6-svlisten/s6-svwait stand in for our siblings: they take the same command
    // line, and run our s6-svc (by absolute path) once subscribed.
    let t = TempDir::new("svc-w-real");
    let svc =
        svc_with_siblings(&t, &[("s6-svlisten", &real("s6-svlisten")), ("s6-svwait", &real("s6-svwait"))]);
    let dir = service_dir(t.path(), "svc", SLEEPER);
    let mut tree = Tree::new();
    let _s = supervise(&mut tree, &dir);
    let run_svc = |args: &[&str]| {
        let mut c = Command::new(&svc);
        c.args(args).arg(&dir);
        run(c, T)
    };
    let o = run_svc(&["-wD", "-T", "5000", "-d"]);
    assert!(o.status.success(), "{}", err(&o));
    let st = status(&dir);
    assert!(!st.is_up() && st.ready && !st.wantup);

    let o = run_svc(&["-wu", "-T", "5000", "-u"]);
    assert!(o.status.success(), "{}", err(&o));
    adopt_service(&mut tree, &dir);
    assert!(status(&dir).is_up());

    // Already up: plain s6-svwait returns at once.
    let o = run_svc(&["-wu", "-T", "5000"]);
    assert!(o.status.success(), "{}", err(&o));

    // A wait that cannot succeed times out with 99.
    let o = run_svc(&["-wd", "-T", "300"]);
    assert_eq!(o.status.code(), Some(99));
}
