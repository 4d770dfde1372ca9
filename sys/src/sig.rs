//! Signals: one signalfd trap per process (nothing runs in signal context), dispositions,
//! and the signal name table s6 uses in files and on command lines.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Signal names without the `SIG` prefix, as skalibs spells them.
const NAMES: &[(i32, &str)] = &[
    (libc::SIGHUP, "HUP"),
    (libc::SIGINT, "INT"),
    (libc::SIGQUIT, "QUIT"),
    (libc::SIGILL, "ILL"),
    (libc::SIGTRAP, "TRAP"),
    (libc::SIGABRT, "ABRT"),
    (libc::SIGBUS, "BUS"),
    (libc::SIGFPE, "FPE"),
    (libc::SIGKILL, "KILL"),
    (libc::SIGUSR1, "USR1"),
    (libc::SIGSEGV, "SEGV"),
    (libc::SIGUSR2, "USR2"),
    (libc::SIGPIPE, "PIPE"),
    (libc::SIGALRM, "ALRM"),
    (libc::SIGTERM, "TERM"),
    (libc::SIGSTKFLT, "STKFLT"),
    (libc::SIGCHLD, "CHLD"),
    (libc::SIGCONT, "CONT"),
    (libc::SIGSTOP, "STOP"),
    (libc::SIGTSTP, "TSTP"),
    (libc::SIGTTIN, "TTIN"),
    (libc::SIGTTOU, "TTOU"),
    (libc::SIGURG, "URG"),
    (libc::SIGXCPU, "XCPU"),
    (libc::SIGXFSZ, "XFSZ"),
    (libc::SIGVTALRM, "VTALRM"),
    (libc::SIGPROF, "PROF"),
    (libc::SIGWINCH, "WINCH"),
    (libc::SIGIO, "IO"),
    (libc::SIGPWR, "PWR"),
    (libc::SIGSYS, "SYS"),
];

/// Other names skalibs' `sig_number` accepts for the same numbers (Linux values).
const ALIASES: &[(i32, &str)] = &[(libc::SIGABRT, "IOT"), (libc::SIGCHLD, "CLD"), (libc::SIGIO, "POLL")];

/// The name of a signal with its `SIG` prefix (`SIGTERM`), or `None` if unknown.
pub fn name(sig: i32) -> Option<String> {
    NAMES.iter().find(|(n, _)| *n == sig).map(|(_, s)| format!("SIG{s}"))
}

/// The name without prefix (`TERM`).
pub fn short_name(sig: i32) -> Option<&'static str> {
    NAMES.iter().find(|(n, _)| *n == sig).map(|(_, s)| *s)
}

/// Parses a signal given as a number or a name, with or without `SIG`, case-insensitively.
pub fn parse(s: &str) -> Option<i32> {
    let s = s.trim();
    if let Some(n) = crate::cli::parse_uint::<i32>(s) {
        return (1..=64).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let bare = up.strip_prefix("SIG").unwrap_or(&up);
    NAMES.iter().chain(ALIASES).find(|(_, s)| *s == bare).map(|(n, _)| *n)
}

/// skalibs' `sig0_scan` on a whole word: a name or a decimal number, either one optionally
/// after `SIG`, case-insensitively (`TERM`, `sigterm`, `15`, `SIG15`). Numbers are not
/// range-checked: callers decide what they accept.
pub fn scan(word: &str) -> Option<u32> {
    let bare = |s: &str| {
        crate::cli::parse_uint::<u32>(s).or_else(|| {
            let up = s.to_ascii_uppercase();
            NAMES.iter().chain(ALIASES).find(|(_, n)| *n == up).map(|&(n, _)| n as u32)
        })
    };
    bare(word).or_else(|| {
        let prefixed = word.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("SIG"));
        if prefixed {
            word.get(3..).and_then(bare)
        } else {
            None
        }
    })
}

/// A set of signals.
#[derive(Clone, Copy)]
pub struct SigSet(libc::sigset_t);

impl SigSet {
    /// The empty set.
    pub fn empty() -> SigSet {
        // SAFETY: sigemptyset initialises the zeroed set.
        unsafe {
            let mut s: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut s);
            SigSet(s)
        }
    }

    /// A set holding `sigs`.
    pub fn of(sigs: &[i32]) -> SigSet {
        let mut s = SigSet::empty();
        for &sig in sigs {
            // SAFETY: s.0 is an initialised set; invalid numbers are rejected by libc.
            unsafe { libc::sigaddset(&mut s.0, sig) };
        }
        s
    }

    /// The raw set, for posix_spawn attributes.
    pub fn raw(&self) -> &libc::sigset_t {
        &self.0
    }
}

/// Blocks `sigs` in this thread's mask.
pub fn block(sigs: &[i32]) -> io::Result<()> {
    mask(libc::SIG_BLOCK, &SigSet::of(sigs))
}

/// Unblocks every signal (what a chain-loaded program expects to inherit).
pub fn unblock_all() -> io::Result<()> {
    mask(libc::SIG_SETMASK, &SigSet::empty())
}

fn mask(how: i32, set: &SigSet) -> io::Result<()> {
    // SAFETY: set is initialised; the old-mask pointer may be null.
    let rc = unsafe { libc::pthread_sigmask(how, &set.0, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// Sets `sig` to be ignored.
pub fn ignore(sig: i32) -> io::Result<()> {
    disposition(sig, libc::SIG_IGN)
}

/// Restores the default action of `sig`.
pub fn default(sig: i32) -> io::Result<()> {
    disposition(sig, libc::SIG_DFL)
}

fn disposition(sig: i32, handler: libc::sighandler_t) -> io::Result<()> {
    // SAFETY: SIG_IGN and SIG_DFL are valid dispositions; no handler code runs.
    let old = unsafe { libc::signal(sig, handler) };
    if old == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `sig` to `pid` (a negative pid is a process group).
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    syscall!(kill(pid, sig)).map(drop)
}

/// A signalfd for a set of blocked signals, read from the event loop.
pub struct Trap {
    fd: OwnedFd,
}

impl Trap {
    /// Blocks `sigs` and opens a non-blocking, close-on-exec signalfd for them.
    pub fn new(sigs: &[i32]) -> io::Result<Trap> {
        let set = SigSet::of(sigs);
        mask(libc::SIG_BLOCK, &set)?;
        let raw = syscall!(signalfd(-1, &set.0, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC))?;
        // SAFETY: signalfd returned a fresh fd.
        Ok(Trap { fd: unsafe { OwnedFd::from_raw_fd(raw) } })
    }

    /// The next pending trapped signal, or `None` when there is none (reads until EAGAIN).
    pub fn next(&self) -> io::Result<Option<i32>> {
        // SAFETY: signalfd_siginfo is plain data; all-zero is valid.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        loop {
            let res =
                syscall!(read(self.fd.as_raw_fd(), (&mut info as *mut libc::signalfd_siginfo).cast(), size));
            match res {
                Ok(n) if n as usize == size => return Ok(Some(info.ssi_signo as i32)),
                Ok(_) => return Err(io::Error::from_raw_os_error(libc::EPROTO)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl AsFd for Trap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_parsing() {
        assert_eq!(name(libc::SIGTERM).as_deref(), Some("SIGTERM"));
        assert_eq!(parse("TERM"), Some(libc::SIGTERM));
        assert_eq!(parse("sigkill"), Some(libc::SIGKILL));
        assert_eq!(parse("SIGHUP"), Some(libc::SIGHUP));
        assert_eq!(parse("9"), Some(9));
        assert_eq!(parse("0"), None);
        assert_eq!(parse("NOPE"), None);
        assert_eq!(parse("sigiot"), Some(libc::SIGABRT));
        assert_eq!(parse("POLL"), Some(libc::SIGIO));
        assert_eq!(scan("SIG15"), Some(15));
        assert_eq!(scan("sigTerm"), Some(15));
        assert_eq!(scan("0"), Some(0));
        assert_eq!(scan("SIGSIGTERM"), None);
        assert_eq!(scan(" TERM"), None);
        assert_eq!(scan(""), None);
    }
}
