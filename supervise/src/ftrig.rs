//! Listening on fifodirs with a pattern: the matching layer of upstream's ftrigr/s6-ftrigrd
//! (doc/libs6/ftrigr.html, doc/s6-ftrig-wait.html), over [`crate::fifodir::Listener`].
//!
//! A [`Subscription`] is a listener fifo, a compiled pattern and the event bytes received
//! since its last match. As in s6 2.15's s6-ftrigrd, bytes are taken in small reads; after
//! each read the pattern runs over the whole accumulated sequence (no `REG_NOTBOL` or
//! `REG_NOTEOL`: `^` and `$` anchor at its two ends), and a match hands out **the whole
//! sequence** and starts a new, empty one. 2.11 ran with `REG_NOTBOL|REG_NOTEOL`, reported
//! only the last byte of the match and kept what followed it; s6-ftrig-wait's output shows
//! the difference (2.15 prints every byte read since the subscription, plus `\n`).
//!
//! Patterns are POSIX extended regular expressions, compiled by [`s6rs_sys::ere`] without
//! its `newline` flag, as upstream's `regcomp(REG_EXTENDED)` without `REG_NEWLINE`: `.` and
//! `[^...]` match `\n` like any other event byte, and `^` and `$` stand only at the two ends
//! of the sequence. Whether a sequence matches never depends on leftmost-longest versus
//! leftmost-first, since only the fact of a match is used. Upstream hands the sequence to
//! `regexec` as a C string, so a NUL event byte hides what follows it from the pattern; here
//! NUL is an ordinary byte.
//!
//! [`Pause`] and [`wait_for`] are the waiting half of the listener programs, and
//! [`timeout_options`] the option parsing of those that take only a timeout.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use regex::bytes::Regex;
use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::ere;
use s6rs_sys::event::{EventLoop, Watch};
use s6rs_sys::exec::WaitStatus;
use s6rs_sys::sig::Trap;

use crate::fifodir::Listener;

/// Bytes taken from the fifo per read: upstream reads through a 32-byte circular buffer,
/// which holds 31, and tries the pattern after each read. Keeping the same step keeps the
/// reported sequences the same when a notifier writes long events.
const READ_STEP: usize = 31;

/// Unmatched bytes kept at most; past this the oldest half is dropped. Upstream lets the
/// buffer grow without bound; a listener should not be made to swallow a flood. Only a
/// pattern anchored with `^` over a longer unmatched stream can tell the difference.
const MAX_PENDING: usize = 64 * 1024;

/// Event bytes are not lines: no `REG_NEWLINE` (see the module documentation).
const EVENTS: ere::Flags = ere::Flags { newline: false };

/// Why a subscription could not be made.
#[derive(Debug)]
pub(crate) enum SubscribeError {
    /// The pattern does not compile (upstream reports EINVAL, nothing more).
    Pattern,
    /// The listener fifo could not be created.
    Io(io::Error),
}

impl SubscribeError {
    /// The error as upstream reports it: a bad pattern is EINVAL.
    pub(crate) fn into_io(self) -> io::Error {
        match self {
            SubscribeError::Pattern => io::Error::from_raw_os_error(libc::EINVAL),
            SubscribeError::Io(e) => e,
        }
    }
}

/// A listener fifo in a fifodir, with the pattern its events must match.
#[derive(Debug)]
pub(crate) struct Subscription {
    listener: Listener,
    re: Regex,
    buf: Vec<u8>,
    /// The previous call handed out `buf`: empty it before reading on.
    consumed: bool,
}

impl Subscription {
    /// Subscribes to `dir` with the POSIX ERE `pattern`. The pattern is checked first, so a bad
    /// one leaves no fifo behind.
    pub(crate) fn new(dir: &Path, pattern: &[u8]) -> Result<Subscription, SubscribeError> {
        let re = ere::compile(pattern, EVENTS).map_err(|_| SubscribeError::Pattern)?;
        let listener = Listener::subscribe(dir).map_err(SubscribeError::Io)?;
        Ok(Subscription { listener, re, buf: Vec::with_capacity(READ_STEP * 2), consumed: false })
    }

    /// Reads pending events until the pattern matches, and returns the whole sequence read
    /// since the previous match; `None` once the fifo is drained without a match. Call it
    /// until it returns `None` after each wake-up (the event loop is edge-triggered).
    pub(crate) fn next_match(&mut self) -> io::Result<Option<&[u8]>> {
        if self.consumed {
            self.buf.clear();
            self.consumed = false;
        }
        let mut chunk = [0u8; READ_STEP];
        loop {
            let n = self.listener.read(&mut chunk)?;
            if n == 0 {
                return Ok(None);
            }
            if self.buf.len() + n > MAX_PENDING {
                self.buf.drain(..MAX_PENDING / 2);
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if self.re.is_match(&self.buf) {
                self.consumed = true;
                return Ok(Some(&self.buf));
            }
        }
    }
}

impl AsFd for Subscription {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }
}

/// Token of the SIGCHLD trap in a [`Pause`] loop; subscriptions use their index.
const TRAP: usize = usize::MAX;

/// The waiting half shared by every listener program: an event loop over a set of
/// subscriptions and, for programs that spawn a child, a SIGCHLD trap whose children are
/// reaped as they die.
#[derive(Debug)]
pub(crate) struct Pause {
    lp: EventLoop,
    trap: Option<Trap>,
}

impl Pause {
    /// Watches `subs`. With `reap`, SIGCHLD is blocked and trapped: create this before
    /// spawning children, so no death goes unnoticed.
    pub(crate) fn new(subs: &[Subscription], reap: bool) -> io::Result<Pause> {
        let lp = EventLoop::new(subs.len() + 1)?;
        for (i, s) in subs.iter().enumerate() {
            lp.add(s.as_fd(), i, Watch::Read)?;
        }
        let trap = if reap {
            let t = Trap::new(&[libc::SIGCHLD])?;
            lp.add(t.as_fd(), TRAP, Watch::Read)?;
            Some(t)
        } else {
            None
        };
        Ok(Pause { lp, trap })
    }

    /// Waits until something happens or `deadline` passes. Dead children are reaped and
    /// passed to `on_reap`. Returns `false` when the deadline has passed, `true` otherwise;
    /// the caller then drains every subscription.
    pub(crate) fn wait(
        &mut self,
        deadline: Deadline,
        mut on_reap: impl FnMut(i32, WaitStatus),
    ) -> io::Result<bool> {
        let mut woke = false;
        let mut signalled = false;
        self.lp.wait(deadline, |ev| {
            woke = true;
            signalled |= ev.token == TRAP;
        })?;
        if signalled {
            if let Some(t) = &self.trap {
                while t.next()?.is_some() {}
                while let Some((pid, st)) = s6rs_sys::exec::reap()? {
                    on_reap(pid, st);
                }
            }
        }
        Ok(woke || !deadline.passed())
    }
}

/// Waits until the subscriptions match: every one of them, or with `any` the first one.
/// Returns the sequence of the last match, or `None` on timeout. Spawned children are
/// reaped along the way when `pause` traps SIGCHLD.
pub(crate) fn wait_for(
    subs: &mut [Subscription],
    pause: &mut Pause,
    any: bool,
    deadline: Deadline,
) -> io::Result<Option<Vec<u8>>> {
    let mut done = vec![false; subs.len()];
    loop {
        for (i, s) in subs.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            if let Some(m) = s.next_match()? {
                done[i] = true;
                if any || done.iter().all(|&d| d) {
                    return Ok(Some(m.to_vec()));
                }
            }
        }
        if !pause.wait(deadline, |_, _| {})? {
            return Ok(None);
        }
    }
}

/// The `-t timeout` (`--timeout=timeout`) option of the listener programs.
pub(crate) const TIMEOUT: Flag =
    Flag::arg('t', "timeout", Show::Own, "give up after this many milliseconds (0: never)").long("timeout");

/// Parses a `-t`/`--timeout` value as upstream's gol programs do (bad value: exit 100).
pub(crate) fn parse_timeout(arg: &str) -> Result<Deadline, Fatal> {
    cli::parse_uint::<u64>(arg)
        .map(Deadline::from_ms)
        .ok_or_else(|| Fatal::bad("timeout must be an unsigned integer"))
}

/// Parses the options of the listener programs whose only option is `-t timeout`
/// (`--timeout=timeout`): s6-ftrig-wait and s6-ftrig-listen1. Returns the deadline and the
/// operands; a bad option is reported as upstream's gol does, with `spec`'s usage line.
pub(crate) fn timeout_options<'a>(
    args: &'a [OsString],
    spec: &'a Spec,
) -> Result<(Deadline, &'a [OsString]), Fatal> {
    let mut deadline = Deadline::Never;
    let mut g = spec.getopt(args);
    while let Some(opt) = g.next_long() {
        let opt = opt.map_err(|e| e.fatal(&spec.usage()))?;
        match opt.c {
            't' => deadline = parse_timeout(opt.arg_str())?,
            _ => return Err(spec.usage_error()),
        }
    }
    Ok((deadline, g.operands()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_accumulates_until_match_then_restarts() {
        let dir = std::env::temp_dir().join(format!("s6rs-ftrig-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        crate::fifodir::make(&dir, None, false).unwrap();
        let mut s = Subscription::new(&dir, b"ab+c").unwrap();
        assert!(s.next_match().unwrap().is_none());
        crate::fifodir::notify(&dir, b"xa").unwrap();
        assert!(s.next_match().unwrap().is_none());
        crate::fifodir::notify(&dir, b"b").unwrap();
        crate::fifodir::notify(&dir, b"bcz").unwrap();
        assert_eq!(s.next_match().unwrap(), Some(&b"xabbcz"[..]));
        assert!(s.next_match().unwrap().is_none());
        crate::fifodir::notify(&dir, b"abc").unwrap();
        assert_eq!(s.next_match().unwrap(), Some(&b"abc"[..]));
        assert!(matches!(Subscription::new(&dir, b"[z-a]"), Err(SubscribeError::Pattern)));
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn long_events_are_tried_in_steps() {
        let dir = std::env::temp_dir().join(format!("s6rs-ftrig-step-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        crate::fifodir::make(&dir, None, false).unwrap();
        let mut s = Subscription::new(&dir, b"a").unwrap();
        let mut ev = b"a".to_vec();
        ev.extend_from_slice(&[b'z'; 40]);
        crate::fifodir::notify(&dir, &ev).unwrap();
        assert_eq!(s.next_match().unwrap().map(<[u8]>::len), Some(READ_STEP));
        assert!(s.next_match().unwrap().is_none());
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
