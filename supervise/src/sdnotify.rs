//! systemd's `NOTIFY_SOCKET` readiness protocol, written once for the two bridges
//! (s6-notify-fd-from-socket, s6-notify-socket-from-fd) and for s6-supervise's own socket.
//!
//! # The `notify-socket` extension of s6-supervise
//!
//! A service directory holding a file named `notify-socket` gets, for each run of `./run`,
//! a datagram socket made by s6-supervise itself, named to `./run` in `NOTIFY_SOCKET`; a
//! `READY=1` from the service makes the service ready exactly as a newline on
//! `notification-fd` does (status file ready flag and time, event `U`), so real s6-svwait
//! `-U` and s6-svstat see it. A systemd-notifying daemon then needs no
//! s6-notify-fd-from-socket in its run script.
//!
//! * The file must be empty (a lone newline or blanks are fine): its content is reserved.
//!   Anything else is reported (`invalid notify-socket`) and the service runs without a
//!   socket, as a garbled setting file falls back to its default. `s6-rs check` reports it.
//! * The socket is bound to a fresh Linux abstract name the kernel picks (autobind:
//!   `NOTIFY_SOCKET=@xxxxx`, which sd_notify clients accept), not to a file under
//!   `supervise/`: `supervise/` is mode 0700, so a daemon that dropped its privileges could
//!   not reach a socket in it; there is no `sun_path` length to run out of for deep service
//!   directories; and nothing is left behind on disk when a supervisor is killed. A service
//!   that moves into another network namespace cannot reach it (use the bridge there).
//! * One socket per run: made just before `./run` is spawned, closed when `./run` dies, so
//!   each run has its own name and no datagram of a previous run is read. A failure to make
//!   it is a failed start (warning, retry in 60 seconds), as a failed notification pipe is.
//! * Only datagrams whose sender (SO_PASSCRED credentials) belongs to the service's process
//!   group count: `./run` is a session leader, so that group's id is its pid. A sender that
//!   is gone before it is looked up, a datagram carrying fds (the kernel closes them), one
//!   that is not text, and any assignment other than a `READY=1` line are ignored. A
//!   datagram longer than [`DATAGRAM_MAX`] bytes is ignored with a warning, when it comes
//!   from the service.
//! * Readiness is reported once per run. The socket is still read to the end of the run
//!   and what comes is dropped, so a daemon that keeps sending (`STATUS=`, `WATCHDOG=1`)
//!   never fills the socket's queue and blocks.
//! * With `notification-fd` too, both channels are open and whichever says ready first
//!   makes the service ready; the other is then ignored.
//! * Without the file nothing of this exists: no socket, no fd, no buffer.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use s6rs_sys::cli::{parse_uint, Fatal, Flag, Opt, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{poll, PollFd};
use s6rs_sys::exec::{self, Fork};
use s6rs_sys::socket;

use crate::servicedir::{self, Setting};

/// The environment variable naming the socket.
pub const VAR: &str = "NOTIFY_SOCKET";

/// The service-directory file that turns s6-supervise's own socket on.
pub const FILE: &str = "notify-socket";

/// The most bytes of one datagram looked at (upstream's buffer for the bridge): a longer
/// one is not a notification anyone sends.
pub const DATAGRAM_MAX: usize = 8191;

/// Whether a datagram holds the line `READY=1`, as systemd reads its lines: anywhere among
/// them, with or without a newline after the last.
pub fn says_ready(msg: &[u8]) -> bool {
    msg.split(|&b| b == b'\n').any(|line| line == b"READY=1")
}

/// Reads the service directory's [`FILE`]: `Value(())` when it is there and empty (blanks
/// allowed), `Invalid` with what it holds otherwise.
pub fn setting(dir: &Path) -> io::Result<Setting<()>> {
    servicedir::empty_file(dir, FILE)
}

/// A non-blocking datagram socket bound to a fresh abstract name, for a daemon to notify.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    name: Vec<u8>,
    /// Room for one datagram's credentials; empty when they are not asked for.
    creds: Vec<u8>,
}

/// What one datagram read from a [`Socket`] was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// It holds a `READY=1` line.
    Ready,
    /// Anything else that fit the buffer.
    Other,
    /// It was longer than [`DATAGRAM_MAX`].
    Oversized,
}

impl Socket {
    /// A socket under a fresh abstract name; with `creds`, every datagram comes with its
    /// sender's pid ([`Socket::recv_from`]).
    pub fn new(creds: bool) -> io::Result<Socket> {
        let fd = socket::socket(socket::Kind::Datagram, true)?;
        // Before the name exists: no datagram may come in without credentials.
        if creds {
            socket::pass_credentials(fd.as_fd())?;
        }
        let name = socket::bind_abstract_auto(fd.as_fd())?;
        let creds = if creds { socket::creds_space() } else { Vec::new() };
        Ok(Socket { fd, name, creds })
    }

    /// The `NOTIFY_SOCKET` value naming it: `@` and the abstract name.
    pub fn env_value(&self) -> OsString {
        let mut v = Vec::with_capacity(self.name.len() + 1);
        v.push(b'@');
        v.extend_from_slice(&self.name);
        OsString::from_vec(v)
    }

    /// Reads one datagram into `buf` (at least [`DATAGRAM_MAX`] bytes) and says what it
    /// was, ignoring the sender. WouldBlock when there is none left.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Message> {
        let n = socket::recv_datagram(self.fd.as_fd(), buf)?;
        Ok(if says_ready(&buf[..n]) { Message::Ready } else { Message::Other })
    }

    /// Reads one datagram into `buf` and says what it was, or `None` when its sender is not
    /// in process group `pgid` (gone, unknown, or someone else). WouldBlock when there is
    /// none left. Needs a socket made with credentials.
    pub fn recv_from(&mut self, buf: &mut [u8], pgid: i32) -> io::Result<Option<Message>> {
        let d = socket::recv_datagram_creds(self.fd.as_fd(), &mut buf[..DATAGRAM_MAX], &mut self.creds)?;
        // Pid 0 would be our own group to getpgid, and means "not visible from here".
        let ours = d.pid.is_some_and(|p| p > 0 && s6rs_sys::proc::pgid_of(p).is_ok_and(|g| g == pgid));
        Ok(match ours {
            false => None,
            true if d.truncated => Some(Message::Oversized),
            true if says_ready(&buf[..d.len]) => Some(Message::Ready),
            true => Some(Message::Other),
        })
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The option-table rows of [`HelperOpts`], for both bridges' `Spec`s.
pub const HELPER_FLAGS: [Flag; 3] = [
    Flag::new('f', Show::Own, "fork once: the helper stays a child of prog").long("no-doublefork"),
    Flag::new('F', Show::LongOnly, "double-fork the helper (the default)").long("doublefork"),
    Flag::arg('t', "timeout", Show::Own, "give up after this many milliseconds (0: never)").long("timeout"),
];

/// Parses a bridge's command line: the [`HelperOpts`] options here, every other option
/// through `other` (which refuses what it does not know); returns them and prog, which
/// must not be empty.
pub fn parse_bridge<'a>(
    spec: &'a Spec,
    args: &'a [OsString],
    mut other: impl FnMut(&Opt) -> Result<(), Fatal>,
) -> Result<(HelperOpts, &'a [OsString]), Fatal> {
    let mut h = HelperOpts::default();
    let mut g = spec.getopt(args);
    while let Some(opt) = g.next_long() {
        let opt = opt.map_err(|e| e.fatal(&spec.usage()))?;
        if !h.take(&opt)? {
            other(&opt)?;
        }
    }
    let prog = g.operands();
    if prog.is_empty() {
        return Err(spec.usage_error());
    }
    Ok((h, prog))
}

/// The options both bridges take, beside their notification fd: `-f`/`-F` (fork once or
/// double-fork the helper) and `-t` (the helper's timeout).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HelperOpts {
    /// `-f`: fork once, so the helper stays a child of prog.
    pub single: bool,
    /// `-t`: milliseconds before the helper gives up; 0 never.
    pub timeout: u32,
}

impl HelperOpts {
    /// Takes `opt` if it is one of the shared options: `Ok(false)` when it is not.
    pub fn take(&mut self, opt: &Opt) -> Result<bool, Fatal> {
        match opt.c {
            'f' => self.single = true,
            'F' => self.single = false,
            't' => {
                self.timeout = parse_uint(opt.arg_str())
                    .ok_or_else(|| Fatal::bad("timeout must be an unsigned integer"))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Forks the helper away from prog as asked.
    pub fn fork(&self) -> Result<Fork, Fatal> {
        let (forked, what) =
            if self.single { (exec::fork(), "fork") } else { (exec::doublefork(), "doublefork") };
        forked.map_err(|e| Fatal::sys(what, &e))
    }

    /// When the helper gives up.
    pub fn deadline(&self) -> Deadline {
        Deadline::from_ms(u64::from(self.timeout))
    }
}

/// Parses a bridge's notification-fd option.
pub fn fd_arg(opt: &Opt) -> Result<u32, Fatal> {
    parse_uint(opt.arg_str()).ok_or_else(|| Fatal::bad("notification-fd must be an unsigned integer"))
}

/// Waits on `fds` until one has an event or the deadline passes: `false` on timeout.
pub fn wait(fds: &mut [PollFd<'_>], deadline: Deadline) -> Result<bool, Fatal> {
    loop {
        if poll(fds, deadline).map_err(|e| Fatal::sys("poll", &e))? > 0 {
            return Ok(true);
        }
        if deadline.passed() {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_is_a_whole_line_anywhere_in_the_datagram() {
        assert!(says_ready(b"READY=1"));
        assert!(says_ready(b"READY=1\n"));
        assert!(says_ready(b"STATUS=up\nREADY=1\nMAINPID=4\n"));
        assert!(!says_ready(b"READY=0\n"));
        assert!(!says_ready(b"XREADY=1\n"));
        assert!(!says_ready(b"READY=10\n"));
        assert!(!says_ready(b" READY=1\n"));
        assert!(!says_ready(b"READY=1\r\n"));
        assert!(!says_ready(b"\xff\xfe\0READY"));
        assert!(!says_ready(b""));
    }

    #[test]
    fn only_our_group_counts_and_oversized_is_told_apart() {
        let mut s = Socket::new(true).unwrap();
        let to = s.env_value().into_vec();
        assert_eq!(to[0], b'@');
        let c = socket::socket(socket::Kind::Datagram, false).unwrap();
        let mut buf = vec![0u8; DATAGRAM_MAX];
        let me = s6rs_sys::proc::pgid_of(s6rs_sys::proc::pid()).unwrap();
        for (msg, want) in [
            (&b"STATUS=x\nREADY=1"[..], Message::Ready),
            (b"READY=0", Message::Other),
            (&[b'x'; DATAGRAM_MAX + 1][..], Message::Oversized),
            (&[b'x'; DATAGRAM_MAX][..], Message::Other),
        ] {
            socket::send_datagram(c.as_fd(), &to, msg, None).unwrap();
            assert_eq!(s.recv_from(&mut buf, me).unwrap(), Some(want));
        }
        socket::send_datagram(c.as_fd(), &to, b"READY=1", None).unwrap();
        assert_eq!(s.recv_from(&mut buf, me + 1).unwrap(), None);
        // A datagram carrying an fd: ignored, and the fd is closed, never ours.
        let (r, w) = s6rs_sys::fd::pipe().unwrap();
        socket::send_datagram(c.as_fd(), &to, b"READY=1", Some(w.as_fd())).unwrap();
        drop(w);
        assert_eq!(s.recv_from(&mut buf, me).unwrap(), None);
        assert_eq!(s6rs_sys::fd::read(r.as_fd(), &mut [0u8; 4]).unwrap(), 0);
        let e = s.recv_from(&mut buf, me).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn the_file_must_be_empty() {
        let d = std::env::temp_dir().join(format!("s6rs-sdnotify-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        assert_eq!(setting(&d).unwrap(), Setting::Absent);
        std::fs::write(d.join(FILE), "").unwrap();
        assert_eq!(setting(&d).unwrap(), Setting::Value(()));
        std::fs::write(d.join(FILE), " \n").unwrap();
        assert_eq!(setting(&d).unwrap(), Setting::Value(()));
        std::fs::write(d.join(FILE), "yes\n").unwrap();
        assert_eq!(setting(&d).unwrap(), Setting::Invalid("yes".into()));
        std::fs::write(d.join(FILE), "\n\nREADY=1\n").unwrap();
        assert_eq!(setting(&d).unwrap(), Setting::Invalid("READY=1".into()));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
