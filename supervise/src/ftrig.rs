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
//! Patterns are POSIX extended regular expressions, run with the `regex` crate in byte
//! mode (`regex::bytes`, Unicode off, `.` matching any byte including `\n`, as `regcomp`
//! without `REG_NEWLINE` does). [`compile_ere`] rewrites what the two dialects spell
//! differently:
//!
//! * bracket expressions are parsed with POSIX rules (a leading `]` is literal, `\` is
//!   literal inside, `[:class:]`, single-character `[=c=]` and `[.c.]`) and re-emitted as
//!   escaped bytes, so the regex crate's nested classes and `&&`/`--`/`~~` set operators
//!   never apply;
//! * `\` before punctuation is a literal; bytes of 0x80 and above are literal bytes.
//!
//! Remaining differences, all in corners POSIX leaves undefined or that glibc extends:
//! `\d`, `\D` and other letter escapes take the regex crate's meaning (glibc knows only
//! `\w \W \s \S \b \B \< \> \` \'`, the last two being unsupported here); a repetition
//! operator with nothing to repeat (`*a`) and a bare `{` are errors rather than literals;
//! multi-character collating elements and equivalence classes are refused. Whether a
//! sequence matches never depends on leftmost-longest versus leftmost-first, since only
//! the fact of a match is used. Upstream hands the sequence to `regexec` as a C string, so
//! a NUL event byte hides what follows it from the pattern; here NUL is an ordinary byte.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use regex::bytes::{Regex, RegexBuilder};
use s6rs_sys::deadline::Deadline;
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

/// The POSIX character classes, as both dialects spell them.
const CLASSES: &[&str] = &[
    "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper",
    "xdigit",
];

/// Compiles a POSIX extended regular expression (as `regcomp(REG_EXTENDED)` would) for
/// matching event bytes. The error text is for messages.
pub fn compile_ere(ere: &[u8]) -> Result<Regex, String> {
    let translated = translate(ere)?;
    RegexBuilder::new(&translated)
        .unicode(false)
        .dot_matches_new_line(true)
        .build()
        .map_err(|e| e.to_string())
}

/// Rewrites a POSIX ERE into the regex crate's syntax (see the module documentation).
fn translate(ere: &[u8]) -> Result<String, String> {
    let mut out = String::with_capacity(ere.len() * 2);
    let mut i = 0;
    while i < ere.len() {
        let b = ere[i];
        match b {
            b'[' => i = bracket(ere, i + 1, &mut out)?,
            b'\\' => {
                let Some(&c) = ere.get(i + 1) else { return Err("trailing backslash".into()) };
                if c.is_ascii_alphanumeric() || c == b'<' || c == b'>' {
                    out.push('\\');
                    out.push(c as char);
                } else {
                    byte_escape(c, &mut out);
                }
                i += 2;
            }
            0x80.. => {
                byte_escape(b, &mut out);
                i += 1;
            }
            _ => {
                out.push(b as char);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn byte_escape(b: u8, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(out, "\\x{b:02X}");
}

/// One element inside a bracket expression, at `ere[j..]`: a literal byte or a
/// single-character collating element / equivalence class. Returns the byte and the next
/// index, or `None` when the element is a character class.
fn bracket_char(ere: &[u8], j: usize) -> Result<Option<(u8, usize)>, String> {
    let b = ere[j];
    if b == b'[' {
        if let Some(&d @ (b':' | b'=' | b'.')) = ere.get(j + 1) {
            let body = j + 2;
            let end = ere[body..]
                .windows(2)
                .position(|w| w[0] == d && w[1] == b']')
                .ok_or_else(|| "unterminated bracket element".to_string())?;
            let content = &ere[body..body + end];
            if d == b':' {
                return Ok(None);
            }
            let [c] = content else { return Err("unsupported collating element".into()) };
            return Ok(Some((*c, body + end + 2)));
        }
    }
    Ok(Some((b, j + 1)))
}

/// Translates the bracket expression whose body starts at `ere[start]` (just after `[`);
/// returns the index after its closing `]`.
fn bracket(ere: &[u8], start: usize, out: &mut String) -> Result<usize, String> {
    let mut j = start;
    out.push('[');
    if ere.get(j) == Some(&b'^') {
        out.push('^');
        j += 1;
    }
    let mut first = true;
    loop {
        let Some(&b) = ere.get(j) else { return Err("unterminated bracket expression".into()) };
        if b == b']' && !first {
            out.push(']');
            return Ok(j + 1);
        }
        first = false;
        match bracket_char(ere, j)? {
            None => {
                let body = j + 2;
                let end = ere[body..].windows(2).position(|w| w == b":]").unwrap_or(0);
                let name = std::str::from_utf8(&ere[body..body + end]).unwrap_or("");
                if !CLASSES.contains(&name) {
                    return Err(format!("unknown character class {name:?}"));
                }
                out.push_str("[:");
                out.push_str(name);
                out.push_str(":]");
                j = body + end + 2;
            }
            Some((lo, next)) => {
                j = next;
                // A `-` between two elements makes a range, unless it is the last thing
                // before the closing `]`.
                let is_range = ere.get(j) == Some(&b'-') && ere.get(j + 1).is_some_and(|&c| c != b']');
                byte_escape(lo, out);
                if is_range {
                    let Some((hi, after)) = bracket_char(ere, j + 1)? else {
                        return Err("character class as a range end".into());
                    };
                    if hi < lo {
                        return Err("invalid range end".into());
                    }
                    out.push('-');
                    byte_escape(hi, out);
                    j = after;
                }
            }
        }
    }
}

/// Why a subscription could not be made.
#[derive(Debug)]
pub enum SubscribeError {
    /// The pattern does not compile (upstream reports EINVAL).
    Pattern(String),
    /// The listener fifo could not be created.
    Io(io::Error),
}

impl SubscribeError {
    /// The error as upstream reports it: a bad pattern is EINVAL.
    pub fn into_io(self) -> io::Error {
        match self {
            SubscribeError::Pattern(_) => io::Error::from_raw_os_error(libc::EINVAL),
            SubscribeError::Io(e) => e,
        }
    }
}

/// A listener fifo in a fifodir, with the pattern its events must match.
pub struct Subscription {
    listener: Listener,
    re: Regex,
    buf: Vec<u8>,
    /// The previous call handed out `buf`: empty it before reading on.
    consumed: bool,
}

impl Subscription {
    /// Subscribes to `dir` with the POSIX ERE `ere`. The pattern is checked first, so a bad
    /// one leaves no fifo behind.
    pub fn new(dir: &Path, ere: &[u8]) -> Result<Subscription, SubscribeError> {
        let re = compile_ere(ere).map_err(SubscribeError::Pattern)?;
        let listener = Listener::subscribe(dir).map_err(SubscribeError::Io)?;
        Ok(Subscription { listener, re, buf: Vec::with_capacity(READ_STEP * 2), consumed: false })
    }

    /// Reads pending events until the pattern matches, and returns the whole sequence read
    /// since the previous match; `None` once the fifo is drained without a match. Call it
    /// until it returns `None` after each wake-up (the event loop is edge-triggered).
    pub fn next_match(&mut self) -> io::Result<Option<&[u8]>> {
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

    /// The listener fifo's path.
    pub fn path(&self) -> &Path {
        self.listener.path()
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
pub struct Pause {
    lp: EventLoop,
    trap: Option<Trap>,
}

impl Pause {
    /// Watches `subs`. With `reap`, SIGCHLD is blocked and trapped: create this before
    /// spawning children, so no death goes unnoticed.
    pub fn new(subs: &[Subscription], reap: bool) -> io::Result<Pause> {
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
    pub fn wait(&mut self, deadline: Deadline, mut on_reap: impl FnMut(i32, WaitStatus)) -> io::Result<bool> {
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
pub fn wait_for(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn m(ere: &str, s: &[u8]) -> bool {
        compile_ere(ere.as_bytes()).unwrap().is_match(s)
    }

    #[test]
    fn ere_basics_and_anchors() {
        assert!(m("[DuUdOx]", b"sU"));
        assert!(!m("[DuUdOx]", b"s"));
        assert!(m("ab+c", b"xabbbc"));
        assert!(m("^s", b"su"));
        assert!(!m("^u", b"su"));
        assert!(m("u$", b"su"));
        assert!(m("a.b", b"a\nb"));
        assert!(m("a.b", b"a\xffb"));
        assert!(m("(ab|cd){2}", b"abcd"));
        assert!(m("", b""));
    }

    #[test]
    fn ere_brackets_follow_posix() {
        assert!(m("[]a]", b"]"));
        assert!(m("[^]a]", b"b"));
        assert!(!m("[^]a]", b"]"));
        assert!(m("[\\]", b"\\"));
        assert!(m("[a&&b]", b"&"));
        assert!(m("[a-]", b"-"));
        assert!(compile_ere(b"[a--]").is_err());
        assert!(m("[!--]", b","));
        assert!(m("[[:digit:]x]", b"7"));
        assert!(m("[[=e=]]", b"e"));
        assert!(m("[[.-.]a]", b"-"));
        assert!(m("[[]", b"["));
        assert!(m("[a-c]", b"b"));
        assert!(!m("[a-c]", b"d"));
        assert!(compile_ere(b"[z-a]").is_err());
        assert!(compile_ere(b"[[:nope:]]").is_err());
        assert!(compile_ere(b"[abc").is_err());
        assert!(compile_ere(b"[[.ab.]]").is_err());
    }

    #[test]
    fn ere_escapes_and_high_bytes() {
        assert!(m("a\\.b", b"a.b"));
        assert!(!m("a\\.b", b"axb"));
        assert!(m("\\w", b"_"));
        assert!(m("\\<ab\\>", b"x ab y"));
        assert!(m("\u{e9}", "caf\u{e9}".as_bytes()));
        assert!(compile_ere(b"\xe9").unwrap().is_match(b"\xe9"));
        assert!(compile_ere(b"a\\").is_err());
    }

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
        assert!(matches!(Subscription::new(&dir, b"[z-a]"), Err(SubscribeError::Pattern(_))));
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
