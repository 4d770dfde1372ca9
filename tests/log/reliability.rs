//! s6-log reliability: nothing read is lost on a clean stop, restarts after SIGKILL recover
//! every line exactly once, a full disk delays logging without losing lines.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{archives, arg, children_of, content, lines, mode, pipe, with_fd3, Running};
use crate::support::{bin, wait_until, TempDir};

const T: Duration = Duration::from_secs(20);

fn log() -> std::path::PathBuf {
    bin("s6-log")
}

fn size(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

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
