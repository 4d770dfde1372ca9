//! s6-svscan and s6-svscanboot as process 1 of a PID namespace with no init above them, as
//! the entry point of a container: each test starts our program through
//! `unshare --pid --fork --mount-proc` and watches the namespace from the host's /proc. As
//! pid 1 the program must reap orphans it never started; SIGTERM (what `docker stop` sends)
//! and SIGINT must bring every service down within its timeouts, then run
//! `.s6-svscan/finish`, whose exit code becomes the namespace's (unshare's); nothing of the
//! namespace may be left running afterwards; and the tree's output must reach the
//! namespace's outer stdout, natively for s6-svscan and through the catch-all logger's copy
//! (`--catchall-stdout`) for s6-svscanboot.
//!
//! Making a PID namespace needs root (or user namespaces): where unshare is refused, each
//! test prints why on stderr and passes, unless `S6RS_REQUIRE_UNSHARE` is set, as `.ci/run`
//! sets it, and then it fails.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use s6rs_supervise::svstatus::Status;

use super::svscan::{service, start_ignoring, stop};
use crate::support::*;

/// Every bound: generous, since two CPU burners may share the machine's two cores.
const T: Duration = Duration::from_secs(30);

/// Whether PID namespaces can be made here, probed once. When they cannot, says so on
/// stderr (the test then passes without running), or fails if `S6RS_REQUIRE_UNSHARE` is set.
fn unshare_permitted(test: &str) -> bool {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    let probe = PROBE.get_or_init(|| {
        let mut c = Command::new("unshare");
        c.args(["--pid", "--fork", "--mount-proc", "true"]);
        c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let child = c.spawn().map_err(|e| format!("cannot run unshare: {e}"))?;
        let out = wait_output(child, T, "the unshare probe");
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
        }
    });
    match probe {
        Ok(()) => true,
        Err(why) => {
            assert!(
                std::env::var_os("S6RS_REQUIRE_UNSHARE").is_none(),
                "{test}: unshare --pid --fork --mount-proc is refused here ({why}), and \
                 S6RS_REQUIRE_UNSHARE says these tests must run"
            );
            // Straight to fd 2, past the test harness's capture, so that the skip shows.
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped: unshare --pid --fork --mount-proc is refused here ({why}); \
                 PID-namespace tests need root or user namespaces"
            );
            false
        }
    }
}

/// A program running as process 1 of a PID namespace of its own.
struct Ns {
    /// unshare, our child: it waits for the namespace's process 1 and exits as it does.
    unshare: u32,
    /// The namespace's process 1, by its pid on the host.
    init: i32,
    /// The namespace, as /proc/PID/ns/pid names it.
    id: String,
    /// unshare's stdout and stderr, the namespace's outer ones.
    out: PathBuf,
    err: PathBuf,
}

impl Ns {
    /// Starts `prog ARGS -d FD OPERAND` as pid 1 of a new PID namespace (with its own
    /// /proc), its outer stdout and stderr in files of `dir`, and waits for its readiness
    /// notification on FD. Every start is bounded; unshare is registered in `tree`, and
    /// with `--kill-child` killing it kills the namespace's process 1, which ends the
    /// namespace.
    fn start(tree: &mut Tree, dir: &Path, prog: &str, args: &[&OsStr], operand: &Path) -> Ns {
        let (out, err) = (dir.join("outer.out"), dir.join("outer.err"));
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fds that we own from here on.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: fresh fds from pipe2.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // The write end is the notification fd: it must survive unshare's exec and ours.
        // SAFETY: fcntl on an fd we own.
        unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETFD, 0) };
        let mut c = Command::new("unshare");
        c.args(["--pid", "--fork", "--mount-proc", "--kill-child"])
            .arg(bin(prog))
            .args(args)
            .arg(format!("-d{}", w.as_raw_fd()))
            .arg(operand)
            .stdin(Stdio::null())
            .stdout(File::create(&out).unwrap())
            .stderr(File::create(&err).unwrap());
        ignoring_signals(&mut c, &[]);
        let unshare = tree.spawn(c);
        drop(w);
        let mut pfd = libc::pollfd { fd: r.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, T.as_millis() as i32) };
        let outer_err = || std::fs::read_to_string(&err).unwrap_or_default();
        assert_eq!(n, 1, "{prog} as pid 1 never became ready; stderr: {}", outer_err());
        let mut byte = [0u8; 1];
        assert_eq!(File::from(r).read(&mut byte).unwrap_or(0), 1, "no readiness; stderr: {}", outer_err());

        // unshare's only child is the namespace's process 1; ready, it is our s6-svscan
        // (s6-svscanboot execs into it).
        let kids = std::fs::read_to_string(format!("/proc/{unshare}/task/{unshare}/children")).unwrap();
        let init: i32 = kids.split_whitespace().next().expect("unshare has no child").parse().unwrap();
        tree.adopt(init);
        let exe = std::fs::read_link(format!("/proc/{init}/exe")).unwrap();
        assert_eq!(exe, bin("s6-svscan").canonicalize().unwrap(), "pid 1 is not our s6-svscan");
        assert_eq!(ns_pid(init).as_deref(), Some("1"), "not pid 1 of its namespace");
        let id = ns_of(init).expect("namespace of pid 1");
        assert_ne!(Some(&id), ns_of(std::process::id() as i32).as_ref());
        Ns { unshare, init, id, out, err }
    }

    /// The namespace's processes, by host pid.
    fn members(&self) -> Vec<i32> {
        let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|&p| ns_of(p).as_ref() == Some(&self.id))
            .collect()
    }

    /// Registers every process of the namespace for cleanup.
    fn adopt_all(&self, tree: &mut Tree) {
        for p in self.members() {
            tree.adopt(p);
        }
    }

    /// The host pid of the namespace's process `nspid`.
    fn host_pid(&self, nspid: &str) -> Option<i32> {
        self.members().into_iter().find(|&p| ns_pid(p).as_deref() == Some(nspid))
    }

    /// Sends `sig` to the namespace's process 1, as a container runtime does from outside,
    /// and waits for unshare to end; returns its exit code.
    fn signal_and_wait(&self, tree: &mut Tree, sig: i32) -> Option<i32> {
        tree.adopt(self.init);
        // SAFETY: plain kill of the namespace's process 1, a grandchild we started, which
        // has not exited: unshare (our child, not reaped yet) is still waiting for it.
        assert_eq!(unsafe { libc::kill(self.init, sig) }, 0);
        let st = tree.wait_exit(self.unshare, T).unwrap_or_else(|| {
            panic!("the namespace did not end after signal {sig}; stderr: {}", self.outer_err())
        });
        st.code()
    }

    /// Asserts that none of the namespace's processes is left on the host.
    fn assert_empty(&self) {
        let left = self.members();
        assert!(left.is_empty(), "processes of the namespace left after it ended: {left:?}");
    }

    fn outer_out(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn outer_err(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }
}

/// The PID namespace of a process, as its /proc/PID/ns/pid link names it (`pid:[N]`).
fn ns_of(pid: i32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok().map(|p| p.to_string_lossy().into_owned())
}

/// A field of /proc/PID/status.
fn status_field(pid: i32, name: &str) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':').map(|v| v.trim().to_owned()))
}

/// A process's pid in its own (innermost) namespace.
fn ns_pid(pid: i32) -> Option<String> {
    status_field(pid, "NSpid")?.split_whitespace().last().map(str::to_owned)
}

/// The namespace's pid a script wrote into `path` (written whole by a rename).
fn read_pid_file(path: &Path) -> String {
    assert!(wait_until(T, || path.exists()), "{} never written", path.display());
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}

/// Whether `pid` still names the process that had start time `start`.
fn same_process(pid: i32, start: u64) -> bool {
    proc_stat(pid).is_some_and(|(_, s)| s == start)
}

#[test]
fn pid1_reaps_orphans_and_leaves_nothing_running() {
    if !unshare_permitted("pid1_reaps_orphans_and_leaves_nothing_running") {
        return;
    }
    let t = TempDir::new("pid1-orphans");
    let scan = t.join("scan");
    let gate = t.join("gate");
    s6rs_sys::fd::mkfifo(&gate, 0o600).unwrap();
    // Two grandchildren whose parent exits at once, so that they are re-parented to the
    // namespace's process 1: one ends when the test opens the gate, the other lives on.
    // Each writes its pid (in the namespace) first.
    service(
        &scan.join("orphaner"),
        &format!(
            "( sh -c 'echo $$ > {d}/gated.tmp; mv {d}/gated.tmp {d}/gated; read x < {g}' & )\n\
             ( sh -c 'echo $$ > {d}/lasting.tmp; mv {d}/lasting.tmp {d}/lasting; exec sleep 100000' & )\n\
             exec sleep 100000\n",
            d = t.path().display(),
            g = gate.display()
        ),
    );
    let mut tree = Tree::new();
    let ns = Ns::start(&mut tree, t.path(), "s6-svscan", &[], &scan);

    let nspid = read_pid_file(&t.join("gated"));
    let lasting = read_pid_file(&t.join("lasting"));
    let host = |nspid: &str| {
        let mut pid = None;
        assert!(wait_until(T, || {
            pid = ns.host_pid(nspid);
            pid.is_some()
        }));
        pid.unwrap()
    };
    let (gated, lasting) = (host(&nspid), host(&lasting));
    ns.adopt_all(&mut tree);
    let start = proc_stat(gated).expect("the gated orphan").1;
    let lasting_start = proc_stat(lasting).expect("the lasting orphan").1;
    let parent = |p: i32| status_field(p, "PPid").and_then(|v| v.parse::<i32>().ok());
    assert!(
        wait_until(T, || parent(gated) == Some(ns.init) && parent(lasting) == Some(ns.init)),
        "the orphans were not re-parented to pid 1: parents {:?} {:?}",
        parent(gated),
        parent(lasting)
    );

    // Open the gate: the gated orphan reads a line and exits, a zombie child of pid 1
    // until s6-svscan reaps it, and a zombie keeps its /proc entry until then.
    let mut w = None;
    assert!(
        wait_until(T, || {
            w = s6rs_sys::fd::open_write_nb(&gate).ok();
            w.is_some()
        }),
        "the gated orphan never opened the gate"
    );
    w.unwrap().write_all(b"go\n").unwrap();
    assert!(
        wait_until(T, || !same_process(gated, start)),
        "orphan {gated} was not reaped by s6-svscan as pid 1: state {:?}",
        proc_stat(gated)
    );
    let kids = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", ns.init)).unwrap();
    let zombies: Vec<&str> = kids
        .split_whitespace()
        .filter(|p| p.parse().ok().and_then(proc_stat).is_some_and(|s| s.0 == 'Z'))
        .collect();
    assert!(zombies.is_empty(), "zombie children of pid 1: {zombies:?}");

    // SIGTERM ends the tree; the lasting orphan, supervised by nobody, goes with the
    // namespace.
    assert_eq!(ns.signal_and_wait(&mut tree, libc::SIGTERM), Some(0), "stderr: {}", ns.outer_err());
    ns.assert_empty();
    assert!(!same_process(lasting, lasting_start), "the lasting orphan outlived the namespace");
}

/// A tree with a service that ignores SIGTERM (killed after `timeout-kill`), one whose output
/// goes to s6-svscan's stdout, and a logged one; `.s6-svscan/finish` records which of the
/// namespace's processes it sees and its own pid, then exits `code`. `sig` to pid 1 must
/// bring it all down and end the namespace with `code`.
fn signal_brings_the_tree_down(test: &str, sig: i32, code: i32) {
    if !unshare_permitted(test) {
        return;
    }
    let t = TempDir::new("pid1-down");
    let scan = t.join("scan");
    service(&scan.join("stubborn"), "trap '' TERM\necho ready > up.tmp\nmv up.tmp up\nexec sleep 100000\n");
    std::fs::write(scan.join("stubborn/timeout-kill"), "300\n").unwrap();
    service(&scan.join("talker"), "echo talker-says-hello\nexec sleep 100000\n");
    service(&scan.join("logged"), "echo logged-says-hello\nexec sleep 100000\n");
    std::fs::create_dir_all(scan.join("logged/log/main")).unwrap();
    script(&scan.join("logged/log/run"), &format!("#!/bin/sh\nexec {} t ./main\n", bin("s6-log").display()));
    std::fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
    script(
        &scan.join(".s6-svscan/finish"),
        &format!(
            "#!/bin/sh\nfor p in /proc/[0-9]*; do echo \"${{p#/proc/}}\"; done > .s6-svscan/seen.tmp\n\
             echo $$ >> .s6-svscan/seen.tmp\nmv .s6-svscan/seen.tmp .s6-svscan/seen\nexit {code}\n"
        ),
    );
    let mut tree = Tree::new();
    let ns = Ns::start(&mut tree, t.path(), "s6-svscan", &[], &scan);

    assert!(wait_until(T, || scan.join("stubborn/up").exists()), "stubborn never came up");
    assert!(
        wait_until(T, || ns.outer_out().contains("talker-says-hello\n")),
        "a service's output never reached the namespace's stdout: {:?}; stderr: {}",
        ns.outer_out(),
        ns.outer_err()
    );
    let current = scan.join("logged/log/main/current");
    assert!(
        wait_until(T, || std::fs::read_to_string(&current).unwrap_or_default().contains("logged-says-hello")),
        "the logged service's line never reached its logdir"
    );
    ns.adopt_all(&mut tree);

    assert_eq!(ns.signal_and_wait(&mut tree, sig), Some(code), "stderr: {}", ns.outer_err());
    // finish ran as pid 1, once every other process of the namespace was gone: every
    // service and logger was down, and every supervisor had exited, before it.
    let seen = std::fs::read_to_string(scan.join(".s6-svscan/seen")).expect("finish did not run");
    assert_eq!(seen, "1\n1\n", "finish saw other processes, or was not pid 1");
    let st = Status::read(&scan.join("stubborn")).unwrap();
    assert_eq!(st.wstat & 0x7f, libc::SIGKILL as u16, "stubborn was not killed after timeout-kill");
    ns.assert_empty();
    assert!(!ns.outer_out().contains("logged-says-hello"), "a logged line leaked: {}", ns.outer_out());
    assert_eq!(ns.outer_err(), "");
}

#[test]
fn pid1_sigterm_brings_the_tree_down_and_exits_as_finish() {
    signal_brings_the_tree_down("pid1_sigterm_brings_the_tree_down_and_exits_as_finish", libc::SIGTERM, 42);
}

#[test]
fn pid1_sigint_brings_the_tree_down_and_exits_as_finish() {
    signal_brings_the_tree_down("pid1_sigint_brings_the_tree_down_and_exits_as_finish", libc::SIGINT, 7);
}

#[test]
fn svscanboot_as_pid1_copies_the_tree_output_to_stdout() {
    if !unshare_permitted("svscanboot_as_pid1_copies_the_tree_output_to_stdout") {
        return;
    }
    let t = TempDir::new("pid1-boot");
    let scan = t.join("scan");
    let logs = t.join("logs");
    // Its output goes to the catch-all fifo. It may write before the logger reads the fifo,
    // die of SIGPIPE and be restarted: it repeats itself.
    service(&scan.join("chatty"), "while :; do echo chatty-says-hello; sleep 0.2; done\n");
    let mut tree = Tree::new();
    let args = [OsStr::new("--catchall-stdout"), OsStr::new("-D"), logs.as_os_str()];
    let ns = Ns::start(&mut tree, t.path(), "s6-svscanboot", &args, &scan);

    let current = logs.join("current");
    assert!(
        wait_until(T, || std::fs::read_to_string(&current).unwrap_or_default().contains("chatty-says-hello")),
        "the service's output never reached the catch-all logdir; stderr: {}",
        ns.outer_err()
    );
    assert!(
        wait_until(T, || ns.outer_out().contains("chatty-says-hello\n")),
        "the catch-all logger never copied to the namespace's stdout: {:?}; stderr: {}",
        ns.outer_out(),
        ns.outer_err()
    );
    ns.adopt_all(&mut tree);
    // The logdir's lines carry `-o`'s stamp (the default `t`); the copy has the raw lines.
    let logged = std::fs::read_to_string(&current).unwrap();
    assert!(logged.lines().all(|l| l.starts_with('@') && l.ends_with(" chatty-says-hello")), "{logged}");

    assert_eq!(ns.signal_and_wait(&mut tree, libc::SIGTERM), Some(0), "stderr: {}", ns.outer_err());
    ns.assert_empty();
    let out = ns.outer_out();
    assert!(out.lines().all(|l| l == "chatty-says-hello"), "{out}");
    assert_eq!(ns.outer_err(), "");
}

/// An entry point may be started with SIGCHLD ignored; then the kernel would reap s6-svscan's
/// children itself and tell it of no death. It must still restart a dead supervisor, wait
/// for the tree at the end, and hand SIGCHLD on at its default, as upstream's does.
#[test]
fn svscan_started_with_sigchld_ignored_still_sees_deaths() {
    let t = TempDir::new("pid1-sigchld");
    let scan = t.join("scan");
    service(&scan.join("a"), RECORD_SIGNALS);
    let mut tree = Tree::new();
    let sv = start_ignoring(&mut tree, &bin("s6-svscan"), &scan, &[], &[libc::SIGCHLD]);
    let sigs = scan.join("a/sigs");
    assert!(wait_until(T, || sigs.exists()), "the service never ran: {}", sv.errors());
    assert_eq!(std::fs::read_to_string(&sigs).unwrap(), signal_lines(&[]), "SIGCHLD handed on ignored");
    let first = sv.supervisor("a").expect("a supervisor for a");
    tree.adopt(first);
    // SAFETY: plain kill of the supervisor our s6-svscan started, registered just above.
    unsafe { libc::kill(first, libc::SIGKILL) };
    let mut next = None;
    assert!(
        wait_until(T, || {
            next = sv.supervisor("a").filter(|&p| p != first);
            next.is_some()
        }),
        "the dead supervisor was not restarted: {}",
        sv.errors()
    );
    tree.adopt(next.unwrap());
    assert_eq!(stop(&mut tree, &sv), Some(0));
    assert_eq!(sv.errors(), "");
}

#[test]
fn a_scandir_that_is_a_file_is_refused_clearly() {
    let t = TempDir::new("pid1-file");
    let file = t.join("file");
    std::fs::write(&file, "").unwrap();
    let mut c = Command::new(bin("s6-svscan"));
    c.arg(&file);
    let o = run(c, T);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (Some(111), format!("s6-svscan: fatal: unable to chdir to {}: Not a directory\n", file.display()))
    );
    let mut c = Command::new(bin("s6-svscanboot"));
    c.arg("-D").arg(t.join("logs")).arg(&file);
    let o = run(c, T);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (
            Some(111),
            format!(
                "s6-svscanboot: fatal: unable to mkdir {}/s6-svscan-log: Not a directory\n",
                file.display()
            )
        )
    );
    let mut c = Command::new(bin("s6-svscanboot"));
    c.args(["--catchall-stdout", "-c", "/dev/null"]).arg(t.join("scan"));
    let o = run(c, T);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (Some(100), "s6-svscanboot: fatal: --catchall-stdout and --console cannot be used together\n".into())
    );
    assert!(!t.join("scan").exists());
}
