//! s6-log reliability: nothing read is lost on a clean stop, restarts after SIGKILL recover
//! every line exactly once, a full disk delays logging without losing lines.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{archives, arg, children_of, content, lines, log, mode, pipe, size, with_fd3, Running};
use crate::support::{wait_until, TempDir};

const T: Duration = Duration::from_secs(20);

#[test]
fn sigterm_mid_stream_loses_nothing() {
    let t = TempDir::new("rel-term");
    let d = t.join("d");
    let data = lines("term", 4000, 100);
    let (r, w) = pipe();
    // Like s6-svscan, the test keeps its own copy of the read end: what s6-log does not
    // read stays in the pipe for the next logger.
    let stdin_for_log: OwnedFd = r.try_clone().unwrap();
    let (rr, rw) = pipe();
    let mut cmd = Command::new(log());
    cmd.args(["-d3", "s4096", "l0", "n1000", &arg(t.path(), "d")])
        .stdin(Stdio::from(stdin_for_log))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    with_fd3(&mut cmd, rw.as_raw_fd());
    let mut child = cmd.spawn().unwrap();
    drop(rw);
    super::wait_ready(rr, T);

    // First 1000 lines and half of the next one, then wait for the go-ahead.
    let first = 1000 * 100 + 50;
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let to_write = data.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::File::from(w);
        f.write_all(&to_write[..first]).unwrap();
        go_rx.recv().unwrap();
        // The rest: s6-log finishes the half line, then stops reading.
        let _ = f.write_all(&to_write[first..]);
    });
    assert!(wait_until(T, || content(&d).len() == 100_000), "first lines not logged");
    // SAFETY: kill of our child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    go_tx.send(()).unwrap();
    let deadline = Instant::now() + T;
    let st = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "s6-log did not stop");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(st.success());
    // s6-log made the shared pipe description non-blocking: undo it to drain.
    s6rs_sys::fd::set_nonblock(r.as_fd(), false).unwrap();
    let mut rest = Vec::new();
    let mut rf = std::fs::File::from(r);
    let drain = std::thread::spawn(move || {
        let _ = rf.read_to_end(&mut rest);
        rest
    });
    writer.join().unwrap();
    let rest = drain.join().unwrap();
    let logged = content(&d);
    // The half line is finished and logged if s6-log had read its start when TERM came;
    // otherwise it is left in the pipe whole. Either way, at a line boundary.
    assert!(logged.len() == 100_000 || logged.len() == 100_100, "{}", logged.len());
    let mut all = logged.clone();
    all.extend(&rest);
    assert_eq!(all, data, "logged + left in the pipe == input");
    assert_eq!(mode(&d.join("current")), 0o744);
}

#[test]
fn kill9_and_restart_recover_every_line_once() {
    let t = TempDir::new("rel-kill");
    let d = t.join("d");
    let da = arg(t.path(), "d");
    let a = lines("a", 50, 80);
    let b = lines("b", 50, 80);
    let c = lines("c", 50, 80);

    // A clean run leaves current marked done: the next run appends to it.
    let mut l = Running::start(&log(), &["-d3", &da], t.path(), true);
    l.write(&a);
    assert_eq!(l.finish(T).0, 0);
    let mut l = Running::start(&log(), &["-d3", &da], t.path(), true);
    assert!(archives(&d).is_empty());
    l.write(&b);
    assert!(wait_until(T, || size(&d.join("current")) == (a.len() + b.len()) as u64));
    l.signal(libc::SIGKILL);
    let _ = l.wait(T);
    assert_eq!(mode(&d.join("current")) & 0o100, 0, "killed: current not marked done");

    // The next start archives the unfinished current as .u.
    let mut l = Running::start(&log(), &["-d3", &da], t.path(), true);
    let names = archives(&d);
    assert_eq!(names.len(), 1);
    assert!(names[0].ends_with(".u"));
    assert_eq!(mode(&d.join(&names[0])), 0o644);
    l.write(&c);
    assert_eq!(l.finish(T).0, 0);
    let mut expect = a.clone();
    expect.extend(&b);
    expect.extend(&c);
    assert_eq!(content(&d), expect);
}

#[test]
fn kill9_during_processing_recovers_previous() {
    let t = TempDir::new("rel-kill-proc");
    let d = t.join("d");
    let da = arg(t.path(), "d");
    let gate = t.join("gate");
    let proc_ = format!("?while [ ! -e {} ]; do sleep 0.05; done; cat", gate.display());
    let mut l = Running::start(&log(), &["-d3", &proc_, &da], t.path(), true);
    l.write(b"rotated\n");
    assert!(wait_until(T, || size(&d.join("current")) == 8));
    l.signal(libc::SIGALRM);
    assert!(wait_until(T, || d.join("processed").exists() && d.join("previous").exists()));
    let procs = children_of(l.pid());
    l.signal(libc::SIGKILL);
    let _ = l.wait(T);
    for p in procs {
        // SAFETY: kill of the processor our s6-log started.
        unsafe { libc::kill(p, libc::SIGKILL) };
    }
    let mut l = Running::start(&log(), &["-d3", &da], t.path(), true);
    let names = archives(&d);
    // previous became a .u archive; the new current was empty, so it was just removed.
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with(".u"));
    assert!(!d.join("processed").exists() && !d.join("previous").exists());
    l.write(b"after\n");
    assert_eq!(l.finish(T).0, 0);
    assert_eq!(content(&d), b"rotated\nafter\n");
}

/// A tmpfs mounted for one test, unmounted at drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &std::path::Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "the ENOSPC test needs to mount a small tmpfs (run the tests as root, as CI does): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(at.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_disk_delays_but_loses_nothing() {
    let t = TempDir::new("rel-enospc");
    let mnt = t.join("mnt");
    let _fs = Tmpfs::mount(&mnt, "64k");
    let d = mnt.join("d");
    let mut l = Running::start(
        &log(),
        &["-d3", "r50", "s4096", "l96", "n100", &d.display().to_string()],
        t.path(),
        true,
    );
    // Fill the file system, leaving a few pages.
    let filler = mnt.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = [b'f'; 4096];
        for _ in 0..13 {
            if f.write_all(&block).is_err() {
                break;
            }
        }
    }
    // Archives of 4000 bytes: one page each.
    let data = lines("full", 150, 100);
    l.write(&data);
    l.wait_stderr("No space left on device", T);
    std::fs::remove_file(&filler).unwrap();
    let (code, err) = l.finish(T);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "s6-log: warning: unable to write to {}/current: No space left on device",
            d.display()
        )),
        "{err}"
    );
    assert_eq!(content(&d), data);
}

#[test]
fn last_line_timeout_and_remainder() {
    let t = TempDir::new("rel-lastline");
    let d = t.join("d");
    let mut l = Running::start(&log(), &["-d3", "-t", "300", &arg(t.path(), "d")], t.path(), true);
    l.write(b"first\npartial");
    assert!(wait_until(T, || size(&d.join("current")) == 6));
    let t0 = Instant::now();
    l.signal(libc::SIGTERM);
    let (code, _) = l.wait(T);
    let waited = t0.elapsed();
    assert_eq!(code, 0);
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert_eq!(content(&d), b"first\npartial\n");

    // The rest of the line arrives in time: only that line is taken.
    let mut l = Running::start(&log(), &["-d3", "-t", "0", &arg(t.path(), "d")], t.path(), true);
    l.write(b"second\nhalf");
    assert!(wait_until(T, || size(&d.join("current")) == 21));
    l.signal(libc::SIGTERM);
    l.write(b"-done\nnot taken\n");
    let (code, _) = l.wait(T);
    assert_eq!(code, 0);
    assert_eq!(content(&d), b"first\npartial\nsecond\nhalf-done\n");
}

/// Like `wait_until`, without sleeping between looks (yielding only): for a test that must
/// act within microseconds of what it waits for.
fn spin_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !cond() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

/// TERM sent while a line is open, then the rest of the line and more: only the rest of
/// that line is taken, however the logger's loop interleaves the signal with its reads.
/// The logger has just written a line to `current` (that is what the test waits for) and
/// may be about to read again; that read must not take what was written after the
/// signal. Repeated, because the window is a few instructions wide.
#[test]
fn sigterm_before_more_input_is_handled_before_reading_it() {
    let t = TempDir::new("rel-sigfirst");
    for i in 0..200 {
        let d = t.join(&format!("d{i}"));
        let mut l =
            Running::start(&log(), &["-d3", "-t", "0", &arg(t.path(), &format!("d{i}"))], t.path(), true);
        l.write(b"second\nhalf");
        // Polled without pause (still bounded): the signal must follow the write to
        // `current` closely to land while the logger is between that write and its read.
        assert!(spin_until(T, || size(&d.join("current")) == 7));
        l.signal(libc::SIGTERM);
        l.write(b"-done\nnot taken\n");
        let (code, _) = l.wait(T);
        assert_eq!(code, 0);
        assert_eq!(content(&d), b"second\nhalf-done\n", "round {i}");
    }
}

#[test]
fn protect_ignores_sigterm_until_sighup() {
    let t = TempDir::new("rel-protect");
    let d = t.join("d");
    let mut l = Running::start(&log(), &["-d3", "-p", &arg(t.path(), "d")], t.path(), true);
    l.write(b"a\n");
    assert!(wait_until(T, || size(&d.join("current")) == 2));
    l.signal(libc::SIGTERM);
    l.write(b"b\n");
    assert!(wait_until(T, || size(&d.join("current")) == 4));
    l.signal(libc::SIGHUP);
    let (code, _) = l.wait(T);
    assert_eq!(code, 0);
    assert_eq!(content(&d), b"a\nb\n");
}

/// CPU time a process has used, user + system, in clock ticks (fields 14 and 15 of
/// /proc/PID/stat).
fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Field 2, the command name, is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Bytes waiting in a pipe, seen through one of its read ends.
fn unread(r: &OwnedFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD stores one int through the pointer.
    assert_eq!(unsafe { libc::ioctl(r.as_raw_fd(), libc::FIONREAD, &mut n) }, 0);
    n as usize
}

/// A logger reading a pipe of which the test keeps a read end, to see when everything
/// written has been read (so a stop signal cannot leave lines in the pipe).
struct Fed {
    l: Running,
    w: std::fs::File,
    r: OwnedFd,
}

impl Fed {
    fn start(args: &[&str], cwd: &std::path::Path, stdout: Stdio) -> Fed {
        let (r, w) = pipe();
        let l = Running::start_io(&log(), args, cwd, true, Stdio::from(r.try_clone().unwrap()), stdout);
        Fed { l, w: std::fs::File::from(w), r }
    }

    /// Writes `data` and waits (bounded) until the logger has read all of it.
    fn feed(&mut self, data: &[u8]) {
        // Blocks only while the pipe is full: without -b s6-log keeps reading.
        self.w.write_all(data).unwrap();
        assert!(wait_until(T, || unread(&self.r) == 0), "s6-log did not read its input");
    }
}

/// How long a stopping logger is watched, and the CPU time it may use meanwhile. Waiting by
/// sleeping costs nothing (0 ms measured, with or without load); the defect guarded here, a
/// wait loop polling with a zero timeout once the last-line deadline had passed, takes a
/// whole CPU: about 1000 ms a second on an idle machine, still 230-570 ms with these tests
/// spinning side by side, beside two CPU burners, on two cores.
const IDLE_WINDOW: Duration = Duration::from_secs(1);
const IDLE_BUDGET_MS: u64 = 100;

/// Sends `sig` (TERM or HUP) to a logger whose output cannot go out yet, then checks that
/// it waits by sleeping and is still there, holding its output. Its `-t` must be short, so
/// that the last-line deadline passes early in the window.
fn stop_and_check_it_sleeps(l: &mut Running, sig: i32) {
    // SAFETY: sysconf has no memory effects.
    let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    l.signal(sig);
    let before = cpu_ticks(l.pid());
    // A measuring window, not a synchronisation: nothing is expected to happen in it.
    std::thread::sleep(IDLE_WINDOW);
    let used_ms = (cpu_ticks(l.pid()) - before) * 1000 / tck;
    assert!(
        used_ms < IDLE_BUDGET_MS,
        "s6-log used {used_ms} ms of CPU in {IDLE_WINDOW:?} while waiting to finish: it spins"
    );
    assert!(l.child.try_wait().unwrap().is_none(), "s6-log exited with its output pending");
}

#[test]
fn sigterm_with_stdout_blocked_sleeps_and_then_delivers_everything() {
    let t = TempDir::new("rel-idle-out");
    let (or, ow) = pipe();
    let mut f = Fed::start(&["-d3", "-t", "50", "1"], t.path(), Stdio::from(ow));
    // Four times what the stdout pipe holds: most of it waits inside s6-log.
    let data = lines("out", 2560, 100);
    f.feed(&data);
    stop_and_check_it_sleeps(&mut f.l, libc::SIGTERM);
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        std::fs::File::from(or).read_to_end(&mut out).unwrap();
        out
    });
    let (code, err) = f.l.wait(T);
    assert_eq!(code, 0, "{err}");
    assert!(reader.join().unwrap() == data, "stdout lost or changed lines");
    assert_eq!(unread(&f.r), 0);
}

#[test]
fn sighup_while_processor_runs_sleeps_and_then_loses_nothing() {
    let t = TempDir::new("rel-idle-proc");
    let d = t.join("d");
    let gate = t.join("gate");
    let proc_ = format!("?while [ ! -e {} ]; do sleep 0.05; done; cat", gate.display());
    let mut f = Fed::start(&["-d3", "-t", "50", &proc_, &arg(t.path(), "d")], t.path(), Stdio::null());
    let first = lines("before", 20, 50);
    f.feed(&first);
    assert!(wait_until(T, || size(&d.join("current")) == first.len() as u64));
    f.l.signal(libc::SIGALRM);
    assert!(wait_until(T, || d.join("processed").exists() && d.join("previous").exists()));
    let procs = children_of(f.l.pid());
    // Lines that arrive while the processor runs wait in s6-log.
    let second = lines("after", 20, 50);
    f.feed(&second);
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        stop_and_check_it_sleeps(&mut f.l, libc::SIGHUP);
    }));
    if let Err(e) = res {
        for p in procs {
            // SAFETY: kill of the processor our s6-log started, which is still running.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
        std::panic::resume_unwind(e);
    }
    std::fs::write(&gate, b"").unwrap();
    let (code, err) = f.l.wait(T);
    assert_eq!(code, 0, "{err}");
    let names = archives(&d);
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(std::fs::read(d.join(&names[0])).unwrap(), first);
    assert_eq!(std::fs::read(d.join("current")).unwrap(), second);
    assert_eq!(mode(&d.join("current")), 0o744);
}

#[test]
fn sigterm_on_full_disk_sleeps_and_then_loses_nothing() {
    let t = TempDir::new("rel-idle-enospc");
    let mnt = t.join("mnt");
    let _fs = Tmpfs::mount(&mnt, "64k");
    let d = mnt.join("d");
    let da = d.display().to_string();
    let mut f = Fed::start(&["-d3", "-t", "50", "r50", "s4096", "l96", "n100", &da], t.path(), Stdio::null());
    let filler = mnt.join("filler");
    {
        let mut fl = std::fs::File::create(&filler).unwrap();
        let block = [b'f'; 4096];
        for _ in 0..13 {
            if fl.write_all(&block).is_err() {
                break;
            }
        }
    }
    let data = lines("full", 150, 100);
    f.feed(&data);
    f.l.wait_stderr("No space left on device", T);
    stop_and_check_it_sleeps(&mut f.l, libc::SIGTERM);
    std::fs::remove_file(&filler).unwrap();
    let (code, err) = f.l.wait(T);
    assert_eq!(code, 0, "{err}");
    assert_eq!(content(&d), data);
    assert_eq!(mode(&d.join("current")), 0o744);
}
