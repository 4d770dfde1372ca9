//! `s6-rs check`: lints a service directory before it is linked into a scan directory,
//! reading each setting file through supervise's own accessors (`supervise::servicedir`),
//! so a value is accepted here exactly when s6-supervise would use it.
//!
//! What s6-supervise would silently ignore or clamp is a problem here: a missing or
//! non-executable `run`, a non-executable `finish`, a setting that is not a number or not a
//! signal, an fd of 0, `notification-fd` equal to `lock-fd`, a timeout beyond what upstream's
//! unsigned int holds, a `max-death-tally` beyond 4096, and the same for `log/`, which must be
//! a service directory itself. The files of the s6-rs extensions are checked too:
//! `notify-socket` (s6-supervise's own `NOTIFY_SOCKET`, `supervise::sdnotify`) must be a
//! regular, empty file, since s6-supervise ignores any other with a warning.

use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use s6rs_supervise::dtally;
use s6rs_supervise::sdnotify;
use s6rs_supervise::servicedir::{self, Setting};

/// `s6-rs check`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service directories to check.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
}

/// One problem: the file it is in, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (or directory) at fault.
    pub path: PathBuf,
    /// What is wrong with it.
    pub what: String,
}

fn errtext(e: &io::Error) -> String {
    e.raw_os_error().map_or_else(|| e.to_string(), s6rs_sys::cli::strerror)
}

/// Settings holding a file descriptor for the child.
const FD_FILES: [&str; 2] = ["notification-fd", "lock-fd"];
/// Settings holding milliseconds, an unsigned int upstream.
const TIMEOUT_FILES: [&str; 2] = ["timeout-kill", "timeout-finish"];
/// Settings holding a signal.
const SIGNAL_FILES: [&str; 2] = ["down-signal", "reload-signal"];

fn script(dir: &Path, name: &str, required: bool, out: &mut Vec<Problem>) {
    let path = dir.join(name);
    let mut bad = |what: &str| out.push(Problem { path: path.clone(), what: what.to_owned() });
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if required {
                bad("missing");
            }
        }
        Err(e) => bad(&format!("unable to stat: {}", errtext(&e))),
        Ok(m) if !m.is_file() => bad("not a regular file"),
        Ok(m) if m.permissions().mode() & 0o111 == 0 => bad("not executable"),
        Ok(_) => {}
    }
}

fn uint(dir: &Path, name: &str, out: &mut Vec<Problem>) -> Option<u64> {
    let path = dir.join(name);
    match servicedir::uint(dir, name) {
        Ok(Setting::Value(n)) => Some(n),
        Ok(Setting::Absent) => None,
        Ok(Setting::Invalid(s)) => {
            out.push(Problem { path, what: format!("not an unsigned integer: {s:?}") });
            None
        }
        Err(e) => {
            out.push(Problem { path, what: format!("unable to read: {}", errtext(&e)) });
            None
        }
    }
}

/// Every problem of one service directory; `log/` is checked as a service directory too.
pub fn check(dir: &Path) -> Vec<Problem> {
    let mut out = Vec::new();
    check_one(dir, &mut out);
    let log = dir.join("log");
    match std::fs::metadata(&log) {
        Ok(m) if m.is_dir() => check_one(&log, &mut out),
        Ok(_) => out.push(Problem { path: log, what: "not a directory".into() }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => out.push(Problem { path: log, what: format!("unable to stat: {}", errtext(&e)) }),
    }
    out
}

fn check_one(dir: &Path, out: &mut Vec<Problem>) {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            out.push(Problem { path: dir.to_owned(), what: "not a directory".into() });
            return;
        }
        Err(e) => {
            out.push(Problem { path: dir.to_owned(), what: errtext(&e) });
            return;
        }
    }
    script(dir, "run", true, out);
    script(dir, "finish", false, out);
    let fds: Vec<Option<u64>> = FD_FILES.iter().map(|f| uint(dir, f, out)).collect();
    for (name, fd) in FD_FILES.iter().zip(&fds) {
        if *fd == Some(0) {
            out.push(Problem { path: dir.join(name), what: "fd 0 is the service's stdin".into() });
        }
    }
    if fds[0].is_some() && fds[0] == fds[1] {
        out.push(Problem { path: dir.join("lock-fd"), what: "same fd as notification-fd".into() });
    }
    for name in TIMEOUT_FILES {
        if uint(dir, name, out).is_some_and(|n| n > u64::from(u32::MAX)) {
            out.push(Problem { path: dir.join(name), what: format!("out of range (at most {})", u32::MAX) });
        }
    }
    if uint(dir, "max-death-tally", out).is_some_and(|n| n > dtally::MAX as u64) {
        out.push(Problem {
            path: dir.join("max-death-tally"),
            what: format!("out of range (at most {})", dtally::MAX),
        });
    }
    notify_socket(dir, out);
    for name in SIGNAL_FILES {
        match servicedir::signal(dir, name) {
            Ok(Setting::Invalid(s)) => {
                out.push(Problem { path: dir.join(name), what: format!("does not name a signal: {s:?}") });
            }
            Err(e) => {
                out.push(Problem { path: dir.join(name), what: format!("unable to read: {}", errtext(&e)) })
            }
            Ok(_) => {}
        }
    }
}

/// The `notify-socket` extension file: absent, or a regular file that is empty.
fn notify_socket(dir: &Path, out: &mut Vec<Problem>) {
    let path = dir.join(sdnotify::FILE);
    let mut bad = |what: String| out.push(Problem { path: path.clone(), what });
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(e) => return bad(format!("unable to stat: {}", errtext(&e))),
        Ok(m) if !m.is_file() => return bad("not a regular file".into()),
        Ok(_) => {}
    }
    match sdnotify::setting(dir) {
        Ok(Setting::Invalid(s)) => bad(format!("must be empty, holds {s:?}")),
        Err(e) => bad(format!("unable to read: {}", errtext(&e))),
        Ok(_) => {}
    }
}

/// Runs `s6-rs check`: 0 when every directory is sound, 1 when a problem was printed.
pub fn run(a: &Args) -> io::Result<u8> {
    let mut out = anstream::stdout().lock();
    let mut found = false;
    for d in &a.dirs {
        for p in check(d) {
            found = true;
            writeln!(out, "{}: {}", p.path.display(), p.what)?;
        }
    }
    out.flush()?;
    Ok(u8::from(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let t = std::env::temp_dir().join(format!("s6rs-frontend-check-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        std::fs::create_dir_all(&t).unwrap();
        t
    }

    fn exe(p: &Path) {
        std::fs::write(p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn whats(v: &[Problem], base: &Path) -> Vec<String> {
        v.iter().map(|p| format!("{}: {}", p.path.strip_prefix(base).unwrap().display(), p.what)).collect()
    }

    #[test]
    fn sound_directory_has_no_problem() {
        let d = scratch("ok");
        exe(&d.join("run"));
        exe(&d.join("finish"));
        std::fs::create_dir(d.join("log")).unwrap();
        exe(&d.join("log/run"));
        for (f, v) in [
            ("notification-fd", "3\n"),
            ("lock-fd", "4"),
            ("timeout-kill", "5000"),
            ("max-death-tally", "4096"),
            ("down-signal", "SIGHUP\n"),
            ("reload-signal", "10"),
            ("notify-socket", "\n"),
        ] {
            std::fs::write(d.join(f), v).unwrap();
        }
        assert_eq!(check(&d), []);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn every_problem_named() {
        let d = scratch("bad");
        std::fs::write(d.join("run"), "#!/bin/sh\n").unwrap();
        std::fs::create_dir(d.join("finish")).unwrap();
        std::fs::create_dir(d.join("log")).unwrap();
        for (f, v) in [
            ("notification-fd", "three\n"),
            ("lock-fd", "0"),
            ("timeout-kill", "4294967296"),
            ("timeout-finish", "-1"),
            ("max-death-tally", "4097"),
            ("down-signal", "SIGNOPE"),
            ("notify-socket", "yes please\n"),
        ] {
            std::fs::write(d.join(f), v).unwrap();
        }
        assert_eq!(
            whats(&check(&d), &d),
            [
                "run: not executable",
                "finish: not a regular file",
                "notification-fd: not an unsigned integer: \"three\"",
                "lock-fd: fd 0 is the service's stdin",
                "timeout-kill: out of range (at most 4294967295)",
                "timeout-finish: not an unsigned integer: \"-1\"",
                "max-death-tally: out of range (at most 4096)",
                "notify-socket: must be empty, holds \"yes please\"",
                "down-signal: does not name a signal: \"SIGNOPE\"",
                "log/run: missing",
            ]
        );
        std::fs::remove_dir_all(&d).unwrap();
        let d = scratch("same");
        exe(&d.join("run"));
        std::fs::write(d.join("notification-fd"), "5").unwrap();
        std::fs::write(d.join("lock-fd"), "5").unwrap();
        std::fs::write(d.join("log"), "").unwrap();
        std::fs::create_dir(d.join("notify-socket")).unwrap();
        assert_eq!(
            whats(&check(&d), &d),
            [
                "lock-fd: same fd as notification-fd",
                "notify-socket: not a regular file",
                "log: not a directory"
            ]
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
