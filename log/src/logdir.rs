//! A logdir as s6-log keeps it (upstream page: s6-log.html, "Logdirs", "Rotation",
//! "Processors"; byte layout and order of operations: FORMATS §8).
//!
//! Files: `lock` (fcntl-locked for life), `current` (u+x once closed cleanly), `state`,
//! and during a rotation `previous`, `processed`, `newstate`; archives `@<tai64n>.s` (rotated)
//! and `@<tai64n>.u` (found unfinished at start-up), made with link + unlink.
//!
//! Every step that can fail is a state: on failure the logdir warns and retries the same step
//! after the `r` delay, keeping its buffered lines, so a full disk or a failing processor
//! delays logging but loses nothing.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use s6rs_sys::cli::{warn, warn_sys, Fatal};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::exec::{Command, Report, WaitStatus};
use s6rs_sys::fd::open_trunc;
use s6rs_sys::tai::Tain;

use crate::script::LogdirSpec;

/// Where a logdir is in its life: writing, waiting to retry a write, one of the rotation
/// steps (in the order they run), or closing down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// `RenameState` renames the file `state`; the suffix is not this enum's name.
#[allow(clippy::enum_variant_names)]
pub(crate) enum State {
    /// Lines can be appended to `current`.
    Writable,
    /// A write to `current` failed; it is retried at the retry deadline.
    Flushing,
    /// Rotation: fsync `current`.
    Sync,
    /// Rotation: rename `current` to `previous`.
    Rename,
    /// Rotation: open a new `current`.
    NewCurrent,
    /// Rotation: mark `previous` complete (u+x).
    ChmodPrevious,
    /// Rotation without processor: archive `previous` as `.s`.
    FinishPrevious,
    /// Rotation with processor: start it.
    RunProcessor,
    /// Rotation with processor: it is running.
    WaitProcessor,
    /// The processor succeeded: fsync `processed`, mark it complete.
    SyncProcessed,
    /// fsync `newstate`.
    SyncNewstate,
    /// Remove `previous`.
    UnlinkPrevious,
    /// Rename `newstate` to `state`.
    RenameState,
    /// Archive `processed` as `.s`.
    FinishProcessed,
    /// Closing: mark `current` complete (u+x) after its fsync.
    EndChmod,
    /// Closed cleanly.
    Ended,
}

/// The fixed file names inside one logdir, built once.
#[derive(Debug)]
struct Names {
    dir: PathBuf,
    current: PathBuf,
    previous: PathBuf,
    processed: PathBuf,
    state: PathBuf,
    newstate: PathBuf,
}

impl Names {
    fn new(dir: &Path) -> Names {
        Names {
            dir: dir.to_owned(),
            current: dir.join("current"),
            previous: dir.join("previous"),
            processed: dir.join("processed"),
            state: dir.join("state"),
            newstate: dir.join("newstate"),
        }
    }
}

/// One open logdir with its pending output.
#[derive(Debug)]
pub(crate) struct Logdir {
    spec: LogdirSpec,
    names: Names,
    /// `0666 & ~umask`: the mode of every file s6-log creates here.
    mask: u32,
    verbose: bool,
    _lock: File,
    current: File,
    /// Size of `current`.
    size: u64,
    buf: Vec<u8>,
    /// Bytes of `buf` already written.
    head: usize,
    state: State,
    retry_at: Deadline,
    rotate_at: Deadline,
    pid: Option<i32>,
}

fn open_append(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).mode(mode).custom_flags(libc::O_NONBLOCK).open(path)
}

fn unlink_void(path: &Path) {
    let _ = std::fs::remove_file(path);
}

fn is_enoent(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
}

/// Whether `name` is an archive name: `@` + 24 hex digits + `.s` or `.u`.
pub(crate) fn is_archive(name: &[u8]) -> bool {
    name.len() == 27
        && Tain::parse_label(name).is_some()
        && name[25] == b'.'
        && matches!(name[26], b's' | b'u')
}

/// A step that failed: what was being done, and why.
type StepErr = (String, io::Error);

impl Logdir {
    /// Creates (mode 02700 under the umask), locks and recovers the logdir, and opens
    /// `current` for appending (FORMATS §8.1-8.2). `mask` is `0666 & ~umask`.
    pub(crate) fn open(spec: LogdirSpec, mask: u32, verbose: bool) -> Result<Logdir, Fatal> {
        let names = Names::new(&spec.path);
        let dir = names.dir.display().to_string();
        match std::fs::DirBuilder::new().mode(0o2700).create(&names.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Fatal::sys(format_args!("mkdir {dir}"), &e)),
        }
        let lockpath = names.dir.join("lock");
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .mode(0o666)
            .custom_flags(libc::O_NONBLOCK)
            .open(&lockpath)
            .map_err(|e| Fatal::sys(format_args!("open {}", lockpath.display()), &e))?;
        match s6rs_sys::lock::try_lock(lock.as_fd(), true) {
            Ok(true) => {}
            Ok(false) => {
                let e = io::Error::from_raw_os_error(libc::EBUSY);
                return Err(Fatal::sys(format_args!("lock {}", lockpath.display()), &e));
            }
            Err(e) => return Err(Fatal::sys(format_args!("lock {}", lockpath.display()), &e)),
        }
        let mut ld = Logdir {
            names,
            mask,
            verbose,
            _lock: lock,
            // Replaced below once recovery is done; a handle on the lock file until then.
            current: File::open("/dev/null").map_err(|e| Fatal::sys("open /dev/null", &e))?,
            size: 0,
            buf: Vec::with_capacity(64 << 10),
            head: 0,
            state: State::Writable,
            retry_at: Deadline::Never,
            rotate_at: Deadline::Never,
            pid: None,
            spec,
        };
        let clean = match std::fs::metadata(&ld.names.current) {
            Ok(st) if st.mode() & 0o100 != 0 => Some(st.len()),
            Ok(_) => None,
            Err(e) if is_enoent(&e) => None,
            Err(e) => return Err(Fatal::sys(format_args!("stat {dir}/current"), &e)),
        };
        ld.size = match clean {
            Some(size) => size,
            None => {
                ld.recover().map_err(|(what, e)| Fatal::sys(what, &e))?;
                0
            }
        };
        let current = open_append(&ld.names.current, 0o666)
            .map_err(|e| Fatal::sys(format_args!("open {dir}/current"), &e))?;
        s6rs_sys::fd::set_nonblock(current.as_fd(), false)
            .map_err(|e| Fatal::sys(format_args!("set {dir}/current blocking"), &e))?;
        current
            .set_permissions(std::fs::Permissions::from_mode(mask))
            .map_err(|e| Fatal::sys(format_args!("chmod {dir}/current"), &e))?;
        ld.current = current;
        ld.rotate_at = ld.period_deadline();
        Ok(ld)
    }

    /// Start-up recovery after an unclean stop (FORMATS §8.2).
    fn recover(&mut self) -> Result<(), StepErr> {
        let dir = self.names.dir.display().to_string();
        unlink_void(&self.names.state);
        unlink_void(&self.names.newstate);
        let processed_done = match std::fs::metadata(&self.names.processed) {
            Ok(st) => st.mode() & 0o100 != 0,
            Err(e) if is_enoent(&e) => false,
            Err(e) => return Err((format!("stat {dir}/processed"), e)),
        };
        if processed_done {
            unlink_void(&self.names.previous);
            let p = self.names.processed.clone();
            self.finish(&p, b's').map_err(|e| (format!("finish processed .s for logdir {dir}"), e))?;
        } else {
            unlink_void(&self.names.processed);
            let p = self.names.previous.clone();
            self.finish(&p, b'u').map_err(|e| (format!("finish previous .u for logdir {dir}"), e))?;
        }
        let c = self.names.current.clone();
        self.finish(&c, b'u').map_err(|e| (format!("finish current .u for logdir {dir}"), e))?;
        open_trunc(&self.names.state).map_err(|e| (format!("create {dir}/state"), e))?;
        Ok(())
    }

    fn period_deadline(&self) -> Deadline {
        match self.spec.period {
            0 => Deadline::Never,
            secs => Deadline::after(Duration::from_secs(u64::from(secs))),
        }
    }

    /// Where the logdir is.
    pub(crate) fn state(&self) -> State {
        self.state
    }

    /// Size of `current` as s6-log counts it.
    #[cfg(test)]
    pub(crate) fn current_size(&self) -> u64 {
        self.size
    }

    /// Appends one output line, given in pieces (stamps, prefix, line, newline).
    pub(crate) fn push(&mut self, parts: &[&[u8]]) {
        for p in parts {
            self.buf.extend_from_slice(p);
        }
    }

    /// Whether lines are waiting to be written.
    pub(crate) fn has_data(&self) -> bool {
        self.head < self.buf.len()
    }

    /// Whether the logdir holds output it cannot write now (for `-b`).
    pub(crate) fn blocked(&self) -> bool {
        self.has_data() && self.state != State::Writable
    }

    /// Whether nothing is pending: all written, no rotation in progress.
    pub(crate) fn idle(&self) -> bool {
        !self.has_data() && self.state == State::Writable
    }

    /// The next time this logdir needs [`Logdir::on_timer`].
    pub(crate) fn deadline(&self) -> Deadline {
        self.retry_at.min(self.rotate_at)
    }

    /// Writes buffered lines to `current`, rotating whenever `current` reaches the size
    /// limit at a line boundary. Stops at the first error (then retried after `r`).
    pub(crate) fn flush(&mut self) {
        while self.state == State::Writable && self.has_data() {
            let pending = &self.buf[self.head..];
            let limit = u64::from(self.spec.size).saturating_sub(u64::from(self.spec.tolerance));
            // The rotation point: the end of the first line at which size + tolerance
            // reaches s. Writing only up to it keeps archives at the configured size
            // whatever the input chunking.
            let need = limit.saturating_sub(self.size).max(1);
            let cut = if need > pending.len() as u64 {
                None
            } else {
                let from = need as usize - 1;
                memchr::memchr(b'\n', &pending[from..]).map(|i| from + i + 1)
            };
            let end = cut.unwrap_or(pending.len());
            match (&self.current).write(&pending[..end]) {
                Ok(0) => {
                    let e = io::Error::from_raw_os_error(libc::ENOSPC);
                    self.write_failed(&e);
                }
                Ok(n) => {
                    self.head += n;
                    self.size += n as u64;
                    if self.head == self.buf.len() {
                        self.buf.clear();
                        self.head = 0;
                    }
                    if n == end && cut.is_some() {
                        self.state = State::Sync;
                        self.rotator();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.write_failed(&e),
            }
        }
        if self.head > 0 && self.head >= self.buf.len() / 2 {
            self.buf.drain(..self.head);
            self.head = 0;
        }
    }

    fn write_failed(&mut self, e: &io::Error) {
        if self.verbose {
            warn_sys(format_args!("write to {}/current", self.names.dir.display()), e);
        }
        self.state = State::Flushing;
        self.retry_at = Deadline::after(self.spec.retry);
    }

    /// Forces a rotation (SIGALRM, or the `R` period), unless one is already running.
    pub(crate) fn rotate(&mut self) {
        if matches!(self.state, State::Writable | State::Flushing) {
            self.state = State::Sync;
        }
        self.rotator();
    }

    /// Runs what is due: a retry after an error, a periodic rotation.
    pub(crate) fn on_timer(&mut self) {
        if self.retry_at.passed() {
            self.retry_at = Deadline::Never;
            match self.state {
                State::Flushing => {
                    self.state = State::Writable;
                    self.flush();
                }
                // Closing down retries through finalize().
                State::Writable | State::EndChmod | State::Ended => {}
                _ => {
                    self.rotator();
                }
            }
        }
        if self.rotate_at.passed() {
            self.rotate_at = self.period_deadline();
            self.rotate();
        }
    }

    /// Handles the death of a child: returns false if it was not this logdir's processor.
    pub(crate) fn child_exited(&mut self, pid: i32, status: WaitStatus) -> bool {
        if self.pid != Some(pid) {
            return false;
        }
        self.pid = None;
        let failure = match (status.signal(), status.exit_code()) {
            (Some(_), _) => Some("crashed"),
            (None, Some(0)) => None,
            _ => Some("failed"),
        };
        match failure {
            Some(how) => {
                if self.verbose {
                    warn(format_args!("processor {how} in {}", self.names.dir.display()));
                }
                self.state = State::RunProcessor;
                self.retry_at = Deadline::after(self.spec.retry);
            }
            None => {
                self.state = State::SyncProcessed;
                self.rotator();
            }
        }
        true
    }

    /// Runs rotation steps from the current state until the rotation is over (true), a
    /// step fails (retry later), or the processor is running.
    fn rotator(&mut self) -> bool {
        loop {
            let next = match self.step() {
                Ok(next) => next,
                Err((what, e)) => {
                    if self.verbose {
                        warn_sys(what, &e);
                    }
                    self.retry_at = Deadline::after(self.spec.retry);
                    return false;
                }
            };
            self.state = next;
            match next {
                State::Writable => {
                    self.retry_at = Deadline::Never;
                    return true;
                }
                State::WaitProcessor => {
                    self.retry_at = Deadline::Never;
                    return false;
                }
                // Not rotation steps: nothing to run (callers never start from these).
                State::Flushing | State::EndChmod | State::Ended => return false,
                State::Sync
                | State::Rename
                | State::NewCurrent
                | State::ChmodPrevious
                | State::FinishPrevious
                | State::RunProcessor
                | State::SyncProcessed
                | State::SyncNewstate
                | State::UnlinkPrevious
                | State::RenameState
                | State::FinishProcessed => {}
            }
        }
    }

    /// One rotation step; returns the next state.
    fn step(&mut self) -> Result<State, StepErr> {
        let n = &self.names;
        let show = |p: &Path| p.display().to_string();
        Ok(match self.state {
            State::Sync => {
                self.current.sync_all().map_err(|e| (format!("fsync {}", show(&n.current)), e))?;
                State::Rename
            }
            State::Rename => {
                std::fs::rename(&n.current, &n.previous)
                    .map_err(|e| (format!("rename {} to {}", show(&n.current), show(&n.previous)), e))?;
                State::NewCurrent
            }
            State::NewCurrent => {
                self.current =
                    open_append(&n.current, 0o666).map_err(|e| (format!("open {}", show(&n.current)), e))?;
                self.size = 0;
                State::ChmodPrevious
            }
            State::ChmodPrevious => {
                std::fs::set_permissions(&n.previous, std::fs::Permissions::from_mode(self.mask | 0o100))
                    .map_err(|e| (format!("chmod {}", show(&n.previous)), e))?;
                if self.spec.processor.is_some() {
                    State::RunProcessor
                } else {
                    State::FinishPrevious
                }
            }
            State::FinishPrevious => {
                let p = n.previous.clone();
                self.finish(&p, b's')
                    .map_err(|e| (format!("finish previous .s to logdir {}", self.names.dir.display()), e))?;
                State::Writable
            }
            State::RunProcessor => {
                let pid = self
                    .spawn_processor()
                    .map_err(|e| (format!("spawn processor for logdir {}", self.names.dir.display()), e))?;
                self.pid = Some(pid);
                State::WaitProcessor
            }
            State::WaitProcessor => State::WaitProcessor,
            State::SyncProcessed => {
                let f = open_append(&n.processed, 0o666)
                    .map_err(|e| (format!("open {}", show(&n.processed)), e))?;
                f.sync_all().map_err(|e| (format!("fsync {}", show(&n.processed)), e))?;
                f.set_permissions(std::fs::Permissions::from_mode(self.mask | 0o100))
                    .map_err(|e| (format!("chmod {}", show(&n.processed)), e))?;
                State::SyncNewstate
            }
            State::SyncNewstate => {
                let f = open_append(&n.newstate, 0o666)
                    .map_err(|e| (format!("open {}", show(&n.newstate)), e))?;
                f.sync_all().map_err(|e| (format!("fsync {}", show(&n.newstate)), e))?;
                State::UnlinkPrevious
            }
            State::UnlinkPrevious => {
                match std::fs::remove_file(&n.previous) {
                    Err(e) if !is_enoent(&e) => return Err((format!("unlink {}", show(&n.previous)), e)),
                    _ => {}
                }
                State::RenameState
            }
            State::RenameState => {
                std::fs::rename(&n.newstate, &n.state)
                    .map_err(|e| (format!("rename {} to {}", show(&n.newstate), show(&n.state)), e))?;
                State::FinishProcessed
            }
            State::FinishProcessed => {
                let p = n.processed.clone();
                self.finish(&p, b's').map_err(|e| {
                    (format!("finish processed .s to logdir {}", self.names.dir.display()), e)
                })?;
                State::Writable
            }
            s @ (State::Writable | State::Flushing | State::EndChmod | State::Ended) => s,
        })
    }

    /// Starts the processor: cwd = the logdir, fd 0 = previous, 1 = processed, 4 = state,
    /// 5 = newstate.
    fn spawn_processor(&self) -> io::Result<i32> {
        let Some(proc) = &self.spec.processor else { return Err(io::Error::from_raw_os_error(libc::EINVAL)) };
        let n = &self.names;
        let previous = File::open(&n.previous)?;
        let processed = open_trunc(&n.processed)?;
        let state = File::open(&n.state)?;
        let newstate = open_trunc(&n.newstate)?;
        let argv: [OsString; 3] = if proc.shell {
            ["/bin/sh".into(), "-c".into(), proc.cmd.clone()]
        } else {
            ["execlineb".into(), "-Pc".into(), proc.cmd.clone()]
        };
        let mut cmd = Command::new(&argv)?;
        cmd.fd(previous.as_fd(), 0)?
            .fd(processed.as_fd(), 1)?
            .fd(state.as_fd(), 4)?
            .fd(newstate.as_fd(), 5)?
            .cwd(&n.dir)?;
        cmd.spawn(Report::ExecFailure)
    }

    /// Archives `path` as `@now.<suffix>` (link + unlink; an empty file, or one already
    /// linked by an interrupted earlier attempt, is only unlinked), then trims.
    fn finish(&mut self, path: &Path, suffix: u8) -> io::Result<()> {
        let st = match std::fs::metadata(path) {
            Ok(st) => st,
            Err(e) if is_enoent(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        if st.nlink() == 1 && st.len() > 0 {
            let mut stamp = Tain::now();
            loop {
                let mut name = [0u8; 27];
                name[..25].copy_from_slice(&stamp.label_bytes());
                name[25] = b'.';
                name[26] = suffix;
                let target = self.names.dir.join(std::ffi::OsStr::from_bytes(&name));
                match std::fs::hard_link(path, &target) {
                    Ok(()) => break,
                    // Two archives in the same nanosecond: take the next one.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        stamp = stamp.add(Duration::from_nanos(1))
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        std::fs::remove_file(path)?;
        self.trim()
    }

    /// Deletes the oldest archives while there are more than `n` or, with `S`, while their
    /// total size is over `S`.
    fn trim(&self) -> io::Result<()> {
        let mut archives: Vec<([u8; 27], u64)> = Vec::new();
        let mut total = 0u64;
        for ent in std::fs::read_dir(&self.names.dir)? {
            let ent = ent?;
            let name = ent.file_name();
            if !is_archive(name.as_bytes()) {
                continue;
            }
            let path = ent.path();
            match std::fs::metadata(&path) {
                Ok(st) => {
                    let mut key = [0u8; 27];
                    key.copy_from_slice(name.as_bytes());
                    archives.push((key, st.len()));
                    total += st.len();
                }
                Err(e) => {
                    if self.verbose {
                        warn_sys(format_args!("stat {}", path.display()), &e);
                    }
                }
            }
        }
        let count = u64::from(self.spec.count);
        let over =
            |left: usize, total: u64| left as u64 > count || (self.spec.total > 0 && total > self.spec.total);
        if !over(archives.len(), total) {
            return Ok(());
        }
        archives.sort_unstable_by(|a, b| a.0[1..].cmp(&b.0[1..]));
        let mut left = archives.len();
        for (name, size) in &archives {
            if !over(left, total) {
                break;
            }
            let path = self.names.dir.join(std::ffi::OsStr::from_bytes(name));
            match std::fs::remove_file(&path) {
                Ok(()) => total -= size,
                Err(e) => {
                    if is_enoent(&e) {
                        total -= size;
                    }
                    if self.verbose {
                        warn_sys(format_args!("unlink {}", path.display()), &e);
                    }
                }
            }
            left -= 1;
        }
        Ok(())
    }

    /// Closing down: fsync `current` and mark it complete (u+x). Returns true once done;
    /// on failure warns and returns false, to be called again after [`Logdir::deadline`].
    pub(crate) fn finalize(&mut self) -> bool {
        loop {
            match self.state {
                State::Ended => return true,
                State::Writable => {
                    if let Err(e) = self.current.sync_all() {
                        return self.finalize_failed("fsync", &e);
                    }
                    self.state = State::EndChmod;
                }
                State::EndChmod => {
                    let mode = std::fs::Permissions::from_mode(self.mask | 0o100);
                    if let Err(e) = self.current.set_permissions(mode) {
                        return self.finalize_failed("chmod", &e);
                    }
                    self.state = State::Ended;
                }
                // Only called once idle; anything else has nothing left to close.
                _ => return true,
            }
        }
    }

    fn finalize_failed(&mut self, verb: &str, e: &io::Error) -> bool {
        if self.verbose {
            warn_sys(format_args!("{verb} {}/current", self.names.dir.display()), e);
        }
        self.retry_at = Deadline::after(self.spec.retry);
        false
    }

    /// The retry deadline only (used while closing down, when rotations no longer start).
    pub(crate) fn retry_deadline(&self) -> Deadline {
        self.retry_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::LogdirSpec;

    fn spec(dir: &Path) -> LogdirSpec {
        LogdirSpec {
            path: dir.to_owned(),
            count: 3,
            size: 4096,
            total: 0,
            tolerance: 0,
            retry: Duration::from_millis(10),
            period: 0,
            processor: None,
        }
    }

    fn tmp(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("s6rs-logdir-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn archives(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| is_archive(n.as_bytes()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn archive_names() {
        assert!(is_archive(b"@400000006b04da9f37b874fd.u"));
        assert!(is_archive(b"@400000006b04da9f37b874fd.s"));
        assert!(!is_archive(b"@400000006b04da9f37b874fd.x"));
        assert!(!is_archive(b"@400000006b04da9f37b874f.s"));
        assert!(!is_archive(b"current"));
    }

    #[test]
    fn rotates_at_line_boundaries_and_trims() {
        let base = tmp("rot");
        let dir = base.join("ld");
        let mut ld = Logdir::open(spec(&dir), 0o644, false).unwrap();
        let line = [b'x'; 99];
        for _ in 0..200 {
            ld.push(&[&line, b"\n"]);
        }
        ld.flush();
        assert!(ld.idle());
        let names = archives(&dir);
        assert_eq!(names.len(), 3, "{names:?}");
        for n in &names {
            let len = std::fs::metadata(dir.join(n)).unwrap().len();
            // 41 lines of 100 bytes reach 4096.
            assert_eq!(len, 4100);
            assert!(n.ends_with(".s"));
        }
        assert!(ld.finalize());
        let mode = std::fs::metadata(dir.join("current")).unwrap().mode();
        assert_eq!(mode & 0o777, 0o744);
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn recovery_archives_unfinished_files() {
        let base = tmp("rec");
        let dir = base.join("ld");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("current"), b"cur\n").unwrap();
        std::fs::write(dir.join("previous"), b"prev\n").unwrap();
        std::fs::write(dir.join("processed"), b"").unwrap();
        std::fs::write(dir.join("newstate"), b"ns").unwrap();
        let ld = Logdir::open(spec(&dir), 0o644, false).unwrap();
        let names = archives(&dir);
        assert_eq!(names.len(), 2);
        assert!(names.iter().all(|n| n.ends_with(".u")));
        let mut contents: Vec<Vec<u8>> = names.iter().map(|n| std::fs::read(dir.join(n)).unwrap()).collect();
        contents.sort();
        assert_eq!(contents, vec![b"cur\n".to_vec(), b"prev\n".to_vec()]);
        assert!(!dir.join("processed").exists() && !dir.join("newstate").exists());
        assert_eq!(std::fs::read(dir.join("state")).unwrap(), b"");
        assert_eq!(std::fs::metadata(dir.join("current")).unwrap().len(), 0);
        drop(ld);
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn empty_files_are_not_archived_and_clean_current_is_reopened() {
        let base = tmp("empty");
        let dir = base.join("ld");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("current"), b"").unwrap();
        drop(Logdir::open(spec(&dir), 0o644, false).unwrap());
        assert!(archives(&dir).is_empty());
        // A clean current (u+x) is appended to, not archived.
        std::fs::write(dir.join("current"), b"kept\n").unwrap();
        std::fs::set_permissions(dir.join("current"), std::fs::Permissions::from_mode(0o744)).unwrap();
        let ld = Logdir::open(spec(&dir), 0o644, false).unwrap();
        assert_eq!(ld.current_size(), 5);
        assert!(archives(&dir).is_empty());
        let mode = std::fs::metadata(dir.join("current")).unwrap().mode();
        assert_eq!(mode & 0o777, 0o644);
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn total_size_trimming() {
        let base = tmp("total");
        let dir = base.join("ld");
        let mut s = spec(&dir);
        s.count = 100;
        s.total = 10000;
        let mut ld = Logdir::open(s, 0o644, false).unwrap();
        let line = [b'y'; 99];
        for _ in 0..500 {
            ld.push(&[&line, b"\n"]);
        }
        ld.flush();
        let names = archives(&dir);
        let total: u64 = names.iter().map(|n| std::fs::metadata(dir.join(n)).unwrap().len()).sum();
        assert!(total <= 10000, "{total}");
        assert_eq!(names.len(), 2);
        let _ = std::fs::remove_dir_all(&base);
    }
}
