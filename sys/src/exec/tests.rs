//! What every strategy must do alike: the child routine's behaviour seen from outside,
//! through each way of starting a child.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::*;

/// A child waiting for a lock, or any child before its exec, holds copies of the test
/// harness's close-on-exec fds (other tests' report pipes among them): serialise the tests
/// that start children.
pub(super) static FORKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    FORKS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The ways a child can be started, each reached through the public API.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// `Report::ExecFailure`: clone(CLONE_VM|CLONE_VFORK), waits for the exec.
    Vfork,
    /// `Report::ByChild` with a Spawner: clone(CLONE_VM) on a pooled stack.
    Pooled,
    /// `Report::ByChild` without one: a fork-like clone.
    Fork,
}

const WAYS: [Way; 3] = [Way::Vfork, Way::Pooled, Way::Fork];

fn start(way: Way, sp: &mut Spawner, cmd: &Command, msg: &[u8]) -> io::Result<i32> {
    match way {
        Way::Vfork => cmd.spawn(Report::ExecFailure),
        Way::Pooled => sp.spawn(cmd, Report::ByChild(msg)),
        Way::Fork => cmd.spawn(Report::ByChild(msg)),
    }
}

fn read_all(fd: &OwnedFd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = crate::fd::read(fd.as_fd(), &mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Runs `argv` through `way` with its stdout (and stderr, if `err`) on a pipe: (exit code, output).
fn output(way: Way, argv: &[&str], err: bool, msg: &[u8]) -> (Option<i32>, String) {
    let mut sp = Spawner::new();
    let (r, w) = crate::fd::pipe().unwrap();
    let mut c = Command::new(argv).unwrap();
    c.fd(w.as_fd(), 1).unwrap();
    if err {
        c.fd(w.as_fd(), 2).unwrap();
    }
    let pid = start(way, &mut sp, &c, msg).unwrap();
    drop(c);
    drop(w);
    let out = String::from_utf8(read_all(&r)).unwrap();
    (wait(pid).unwrap().exit_code(), out)
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("s6rs-exec-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn spawn_and_wait_statuses() {
    let _g = serial();
    let pid = Command::new(&["sh", "-c", "exit 7"]).unwrap().spawn(Report::ExecFailure).unwrap();
    let st = wait(pid).unwrap();
    assert_eq!(st.exit_code(), Some(7));
    assert_eq!(st.estatus(), 7);
    let pid = Command::new(&["sh", "-c", "kill -TERM $$"]).unwrap().spawn(Report::ExecFailure).unwrap();
    let st = wait(pid).unwrap();
    assert_eq!(st.signal(), Some(libc::SIGTERM));
    assert_eq!(st.estatus(), 143);
}

#[test]
fn arg0_names_the_program_without_changing_what_runs() {
    let _g = serial();
    let mut c = Command::new(&["sh", "-c", "test \"$0\" = other-name"]).unwrap();
    c.arg0(std::ffi::OsStr::new("other-name")).unwrap();
    assert_eq!(c.program(), "sh");
    let mut sp = Spawner::new();
    for way in WAYS {
        let pid = start(way, &mut sp, &c, b"").unwrap();
        assert_eq!(wait(pid).unwrap().exit_code(), Some(0), "{way:?}");
    }
}

#[test]
fn every_way_runs_with_fds_env_order_directory_and_path_search() {
    let _g = serial();
    let set = |n: &str, v: &str| (OsString::from(n), Some(OsString::from(v)));
    let env = vec![set("S6RS_A", "1"), (OsString::from("HOME"), None), set("S6RS_B", "x=y")];
    // The environment as skalibs' env_merge gives it, in order.
    let mut want: Vec<Vec<u8>> =
        std::env::vars_os().map(|(n, v)| [n.as_bytes(), b"=", v.as_bytes()].concat()).collect();
    let named = |e: &Vec<u8>, n: &[u8]| e.len() > n.len() && e.starts_with(n) && e[n.len()] == b'=';
    for (n, v) in &env {
        let new = v.as_ref().map(|v| [n.as_bytes(), b"=", v.as_bytes()].concat());
        super::env::apply(&mut want, n.as_bytes(), new, named);
    }
    let want: String = want.iter().map(|e| format!("{}\n", String::from_utf8_lossy(e))).collect();
    for way in WAYS {
        let mut sp = Spawner::new();
        let (r, w) = crate::fd::pipe().unwrap();
        let mut c = Command::new(&["sh", "-c", "echo \"$0 $S6RS_A $S6RS_B ${HOME-unset} $(pwd)\""]).unwrap();
        c.fd(w.as_fd(), 1).unwrap().env(&env).unwrap().cwd(Path::new("/")).unwrap();
        let pid = start(way, &mut sp, &c, b"").unwrap();
        drop(w);
        assert_eq!(wait(pid).unwrap().exit_code(), Some(0), "{way:?}");
        assert_eq!(String::from_utf8(read_all(&r)).unwrap(), "sh 1 x=y unset /\n", "{way:?}");
        let (r, w) = crate::fd::pipe().unwrap();
        let mut c = Command::new(&["env"]).unwrap();
        c.fd(w.as_fd(), 1).unwrap().env(&env).unwrap();
        let pid = start(way, &mut sp, &c, b"").unwrap();
        drop(w);
        assert_eq!(wait(pid).unwrap().exit_code(), Some(0), "{way:?}");
        assert_eq!(String::from_utf8_lossy(&read_all(&r)), want, "{way:?}");
    }
}

#[test]
fn every_way_gives_127_for_a_missing_program_and_126_for_a_non_executable() {
    let _g = serial();
    let missing = ["s6rs-no-such-program", "/nonexistent/prog"];
    for way in WAYS {
        for prog in missing {
            match way {
                Way::Vfork => {
                    let err = Command::new(&[prog]).unwrap().spawn(Report::ExecFailure).unwrap_err();
                    assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "{prog}");
                    assert_eq!(exec_fatal(prog, &err).code, 127);
                }
                _ => {
                    let (code, out) = output(way, &[prog], true, b"t: unable to spawn: ");
                    assert_eq!(code, Some(127), "{way:?} {prog}");
                    assert_eq!(out, "t: unable to spawn: No such file or directory\n", "{way:?}");
                }
            }
        }
        match way {
            Way::Vfork => {
                let err = Command::new(&["/etc/passwd"]).unwrap().spawn(Report::ExecFailure).unwrap_err();
                assert_eq!(err.raw_os_error(), Some(libc::EACCES));
                assert_eq!(exec_fatal("/etc/passwd", &err).code, 126);
            }
            _ => {
                let (code, out) = output(way, &["/etc/passwd"], true, b"x: ");
                assert_eq!((code, out.as_str()), (Some(126), "x: Permission denied\n"), "{way:?}");
                // An empty message: the child exits without a word.
                assert_eq!(output(way, &["/etc/passwd"], true, b""), (Some(126), String::new()));
            }
        }
    }
}

#[test]
fn placement_failures_are_the_spawns_error_or_the_childs_126() {
    let _g = serial();
    // SAFETY: fd 1000 is not open in the test process; the child's dup of it must fail.
    let closed = unsafe { BorrowedFd::borrow_raw(1000) };
    for way in WAYS {
        let mut sp = Spawner::new();
        let (r, w) = crate::fd::pipe().unwrap();
        let mut c = Command::new(&["true"]).unwrap();
        c.fd(w.as_fd(), 2).unwrap().fd(closed, 5).unwrap();
        match start(way, &mut sp, &c, b"p: ") {
            Err(e) => {
                assert!(matches!(way, Way::Vfork));
                assert_eq!(e.raw_os_error(), Some(libc::EBADF));
            }
            Ok(pid) => {
                drop(w);
                assert_eq!(wait(pid).unwrap().exit_code(), Some(126), "{way:?}");
                assert_eq!(read_all(&r), b"p: Bad file descriptor\n", "{way:?}");
            }
        }
    }
}

#[test]
fn missing_is_checked_before_a_spawn_that_does_not_wait() {
    let _g = serial();
    let d = scratch("missing");
    let mut sp = Spawner::new();
    for pooled in [false, true] {
        let c = Command::new(&["/nonexistent/prog"]).unwrap();
        let err =
            if pooled { sp.spawn(&c, Report::Missing(b"m: ")) } else { c.spawn(Report::Missing(b"m: ")) };
        assert_eq!(err.unwrap_err().raw_os_error(), Some(libc::ENOENT));
    }
    // Executable, but its interpreter is missing: only the exec finds out, in the child.
    let script = d.join("bad-interp");
    std::fs::write(&script, "#!/nonexistent/interp\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    for pooled in [false, true] {
        let (r, w) = crate::fd::pipe().unwrap();
        let mut c = Command::new(&[&script]).unwrap();
        c.fd(w.as_fd(), 2).unwrap();
        let pid =
            if pooled { sp.spawn(&c, Report::Missing(b"m: ")) } else { c.spawn(Report::Missing(b"m: ")) };
        let pid = pid.unwrap();
        drop(w);
        assert_eq!(wait(pid).unwrap().exit_code(), Some(127));
        assert_eq!(read_all(&r), b"m: No such file or directory\n");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn every_way_resets_signals_identically() {
    let _g = serial();
    // SIGTTIN ignored behind sig's back, as if inherited; SIGPIPE ignored by Rust's runtime;
    // SIGUSR2 blocked. Children get the first as it is, the second at default, nothing
    // blocked. A handler of ours (SIGWINCH's) makes every spawn from now on block all
    // signals across its clone: the child must unblock them all the same.
    crate::sig::interrupt_with(libc::SIGWINCH).unwrap();
    assert!(crate::sig::has_handlers());
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: a disposition and a mask nothing in these tests relies on; undone below.
    unsafe {
        libc::signal(libc::SIGTTIN, libc::SIG_IGN);
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR2);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    let script = "grep -E '^Sig(Ign|Blk)' /proc/self/status";
    let outs: Vec<_> = WAYS.iter().map(|&way| output(way, &["sh", "-c", script], false, b"")).collect();
    // SAFETY: undoing the changes above.
    unsafe {
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGTTIN, libc::SIG_DFL);
    }
    crate::sig::default(libc::SIGWINCH).unwrap();
    let (code, out) = &outs[0];
    assert_eq!(*code, Some(0), "{out}");
    assert!(out.contains("SigBlk:\t0000000000000000"), "{out}");
    let ign = out.lines().find(|l| l.starts_with("SigIgn")).unwrap();
    let bits = u64::from_str_radix(ign.trim_start_matches("SigIgn:\t"), 16).unwrap();
    assert_eq!(bits & (1 << (libc::SIGPIPE - 1)), 0, "{out}");
    assert_ne!(bits & (1 << (libc::SIGTTIN - 1)), 0, "{out}");
    for (way, o) in WAYS.iter().zip(&outs) {
        assert_eq!(o, &outs[0], "{way:?}");
    }
}

#[test]
fn every_way_returns_once_a_setsid_child_leads_its_session() {
    let _g = serial();
    let mut c = Command::new(&["sleep", "10"]).unwrap();
    c.setsid();
    for way in WAYS {
        let mut sp = Spawner::new();
        for _ in 0..20 {
            let pid = start(way, &mut sp, &c, b"").unwrap();
            // SAFETY: plain queries and a group kill of our own child's fresh session.
            let (sid, pgid, killed) =
                unsafe { (libc::getsid(pid), libc::getpgid(pid), libc::kill(-pid, libc::SIGKILL)) };
            assert_eq!((sid, pgid, killed), (pid, pid, 0), "{way:?}: child {pid} not yet a session leader");
            assert_eq!(wait(pid).unwrap().signal(), Some(libc::SIGKILL));
        }
    }
}

#[test]
fn every_way_keeps_an_fd_placed_on_its_own_number() {
    let _g = serial();
    for way in WAYS {
        let mut sp = Spawner::new();
        let (r, w) = crate::fd::pipe().unwrap(); // close-on-exec
        let fd = w.as_raw_fd();
        let script = format!("echo kept >&{fd}");
        let mut c = Command::new(&["sh", "-c", &script]).unwrap();
        c.fd(w.as_fd(), fd).unwrap();
        let pid = start(way, &mut sp, &c, b"").unwrap();
        drop(c);
        drop(w);
        assert_eq!(wait(pid).unwrap().exit_code(), Some(0), "{way:?}");
        assert_eq!(read_all(&r), b"kept\n", "{way:?}");
    }
}

#[test]
fn the_report_pipe_survives_placements_on_every_low_number() {
    let _g = serial();
    // Whatever numbers the report pipe gets, the child places something on each of them:
    // the pipe must be kept apart, or the exec's ENOENT would never come back.
    let (_r, w) = crate::fd::pipe().unwrap();
    // Far from the fixed numbers other tests of this crate dup onto (fd.rs uses 200).
    let high = crate::fd::dup_min(w.as_fd(), 700).unwrap();
    let mut c = Command::new(&["/nonexistent/prog"]).unwrap();
    for n in 3..100 {
        c.fd(high.as_fd(), n).unwrap();
    }
    let err = c.spawn(Report::ExecFailure).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
}

#[test]
fn lock_at_waits_for_the_lock_without_blocking_the_parent() {
    let _g = serial();
    let d = scratch("lock");
    let lockfile = d.join("lock");
    let mut sp = Spawner::new();
    for pooled in [false, true] {
        let held = std::fs::File::create(&lockfile).unwrap();
        assert!(crate::lock::try_lock(held.as_fd(), true).unwrap());
        let out = d.join("out");
        let _ = std::fs::remove_file(&out);
        let body = format!("[ -e /proc/self/fd/5 ] && echo ok > {}", out.display());
        let mut c = Command::new(&["sh", "-c", &body]).unwrap();
        c.lock_at(&lockfile, 5).unwrap().setsid();
        let pid = if pooled { sp.spawn(&c, Report::ExecFailure) } else { c.spawn(Report::ExecFailure) };
        let pid = pid.unwrap();
        // The child is alive and waiting: reaping it must find nothing yet.
        assert_eq!(try_wait(pid).unwrap(), None);
        assert!(!out.exists());
        drop(held);
        assert_eq!(wait(pid).unwrap().exit_code(), Some(0));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "ok\n");
    }
    // An exec failure after the lock is the child's, with its own message.
    let (r, w) = crate::fd::pipe().unwrap();
    let mut c = Command::new(&["/nonexistent/prog"]).unwrap();
    c.lock_at(&lockfile, 5).unwrap().fd(w.as_fd(), 2).unwrap();
    let pid = c.spawn(Report::ExecFailure).unwrap();
    drop(w);
    assert_eq!(wait(pid).unwrap().exit_code(), Some(127));
    let msg = String::from_utf8(read_all(&r)).unwrap();
    assert!(
        msg.ends_with(" (child): fatal: unable to exec /nonexistent/prog: No such file or directory\n"),
        "{msg}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn new_pid_ns_reports_exec_failure_when_asked() {
    let _g = serial();
    let mut c = Command::new(&["/nonexistent/prog"]).unwrap();
    c.new_pid_ns();
    let err = c.spawn(Report::ExecFailure).unwrap_err();
    // ENOENT from exec, or EPERM when not allowed to make a PID namespace.
    assert!(matches!(err.raw_os_error(), Some(libc::ENOENT) | Some(libc::EPERM)), "{err}");
}

#[test]
fn new_pid_ns_child_is_pid_1_whatever_the_way() {
    let _g = serial();
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return; // creating a PID namespace needs CAP_SYS_ADMIN
    }
    for way in WAYS {
        let mut sp = Spawner::new();
        let (r, w) = crate::fd::pipe().unwrap();
        let mut c = Command::new(&["sh", "-c", "echo $$"]).unwrap();
        c.new_pid_ns().setsid().fd(w.as_fd(), 1).unwrap();
        let pid = start(way, &mut sp, &c, b"").unwrap();
        drop(w);
        assert_eq!(wait(pid).unwrap().exit_code(), Some(0), "{way:?}");
        assert_eq!(read_all(&r), b"1\n", "{way:?}");
    }
}

#[test]
fn slots_are_reused_once_children_have_exec_d() {
    let _g = serial();
    let mut sp = Spawner::new();
    let c = Command::new(&["/bin/true"]).unwrap();
    for _ in 0..50 {
        let pid = sp.spawn(&c, Report::ByChild(b"")).unwrap();
        assert_eq!(wait(pid).unwrap().exit_code(), Some(0));
    }
    // Each child was waited for, so it left our memory before the next spawn.
    assert_eq!(sp.slots(), 1);
}

#[test]
fn child_routine_stack_use_is_small() {
    let _g = serial();
    // A fresh slot's stack is all zeros: after one child, the lowest written byte bounds
    // what the routine used, on its success path and on its longest failure path.
    let mut most = 0;
    for (argv, msg) in [(&["/bin/true"][..], &b""[..]), (&["s6rs-no-such-program"][..], &b"m: "[..])] {
        let mut sp = Spawner::new();
        let (_r, w) = crate::fd::pipe().unwrap();
        let mut c = Command::new(argv).unwrap();
        c.fd(w.as_fd(), 2).unwrap().setsid();
        let pid = sp.spawn(&c, Report::ByChild(msg)).unwrap();
        wait(pid).unwrap();
        let bytes = sp.stack_bytes(0);
        let lowest = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        most = most.max(bytes.len() - lowest);
    }
    // Vfork and Fork children run below the caller's frame: the routine must need little.
    assert!(most > 0 && most <= 4096, "the child routine used {most} bytes of stack");
}

#[test]
fn wait_keeps_the_raw_status_word() {
    let _g = serial();
    // A real-time signal has no name in nix's Signal: the status must still come back whole.
    let rt = libc::SIGRTMIN() + 2;
    let cmd = Command::new(&["sh", "-c", &format!("kill -{rt} $$")]).unwrap();
    let pid = cmd.spawn(Report::ExecFailure).unwrap();
    let st = wait(pid).unwrap();
    assert_eq!((st.signal(), st.exit_code(), st.0), (Some(rt), None, rt));
    let cmd = Command::new(&["sh", "-c", "exit 3"]).unwrap();
    let st = wait(cmd.spawn(Report::ExecFailure).unwrap()).unwrap();
    assert_eq!((st.exit_code(), st.0), (Some(3), 3 << 8));
}

#[test]
fn is_executable_asks_for_an_execute_bit() {
    use std::os::unix::fs::PermissionsExt;
    let d = scratch("isexec");
    let f = d.join("f");
    std::fs::write(&f, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(!is_executable(&f));
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o744)).unwrap();
    assert!(is_executable(&f));
    assert!(!is_executable(&d.join("missing")));
    assert!(!is_executable(Path::new(std::ffi::OsStr::from_bytes(b"nul\0in/path"))));
    std::fs::remove_dir_all(&d).unwrap();
}
