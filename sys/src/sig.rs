//! Signals: one signalfd trap per process (nothing runs in signal context), dispositions,
//! and the signal name table s6 uses in files and on command lines.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

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

    /// Every signal the C library lets a program block (all but its private ones).
    pub fn full() -> SigSet {
        // SAFETY: sigfillset initialises the zeroed set.
        unsafe {
            let mut s: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut s);
            SigSet(s)
        }
    }

    /// Whether `sig` is in the set.
    pub fn contains(&self, sig: i32) -> bool {
        // SAFETY: self.0 is an initialised set.
        unsafe { libc::sigismember(&self.0, sig) == 1 }
    }

    /// The raw set, for posix_spawn attributes.
    pub fn raw(&self) -> &libc::sigset_t {
        &self.0
    }

    /// Signals 1..=64 as a bit mask (bit `n - 1` for signal `n`).
    fn bits(&self) -> u64 {
        (1..=64).filter(|&s| self.contains(s)).fold(0, |acc, s| acc | 1 << (s - 1))
    }

    /// The set of the signals whose bits (`n - 1` for signal `n`) are set in `bits`.
    pub(crate) fn from_bits(bits: u64) -> SigSet {
        let mut s = SigSet::empty();
        for sig in (1..=64).filter(|s| bits & (1 << (s - 1)) != 0) {
            // SAFETY: s.0 is an initialised set; numbers the C library reserves are refused.
            unsafe { libc::sigaddset(&mut s.0, sig) };
        }
        s
    }
}

/// The signals a spawned child gets back at their default disposition, as bits (bit `n - 1`
/// for signal `n`): SIGPIPE, and every signal whose disposition this process changed through
/// this module (Rust's runtime ignores SIGPIPE before `main`; our programs ignore SIGPIPE,
/// reset SIGCHLD, install wake-up handlers). Every other disposition passes to the child as
/// this process inherited it, ignored signals included. That is what s6's C programs hand
/// on: they trap signals by blocking them, leave dispositions alone, and ignore SIGPIPE
/// through a handler that exec puts back to the default. Checked against s6-supervise 2.11:
/// `./run` keeps the HUP, INT, USR1... the supervisor inherited ignored, never an ignored
/// SIGPIPE.
pub(crate) fn spawn_defaults() -> u64 {
    TOUCHED.load(Ordering::Relaxed) | 1 << (libc::SIGPIPE - 1)
}

// What this process changed in its signal state, and how it was before the first change. A
// C chain-loader changes nothing, so ours put back exactly what they changed (or what Rust's
// runtime changed: it ignores SIGPIPE before `main`) before exec: see [`restore_inherited`].
// Bit `n - 1` stands for signal `n`.
static TOUCHED: AtomicU64 = AtomicU64::new(0);
static WAS_IGNORED: AtomicU64 = AtomicU64::new(0);
static MASK_TOUCHED: AtomicBool = AtomicBool::new(false);
static MASK_BEFORE: AtomicU64 = AtomicU64::new(0);
static PIPE_RECORDED: AtomicBool = AtomicBool::new(false);

// Runs from the C library's constructors, before Rust's `main` wrapper ignores SIGPIPE, to
// learn whether the parent had SIGPIPE ignored. It lives beside the statics it writes, so
// linking any reader links it too.
#[used]
#[link_section = ".init_array"]
static RECORD_SIGPIPE: extern "C" fn() = record_sigpipe;

extern "C" fn record_sigpipe() {
    // SAFETY: sigaction is plain data; a null new action only queries the current one.
    let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
    if unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut act) } == 0 {
        note_change(libc::SIGPIPE, act.sa_sigaction == libc::SIG_IGN);
        PIPE_RECORDED.store(true, Ordering::Relaxed);
    }
}

/// Records the disposition `sig` had before this process first changed it.
fn note_change(sig: i32, was_ignored: bool) {
    if !(1..=64).contains(&sig) {
        return;
    }
    let bit = 1u64 << (sig - 1);
    if TOUCHED.fetch_or(bit, Ordering::Relaxed) & bit == 0 && was_ignored {
        WAS_IGNORED.fetch_or(bit, Ordering::Relaxed);
    }
}

/// Puts back the signal state this process inherited, as a C chain-loader hands it on: the
/// mask, if it was changed, and each disposition changed through this module (SIGPIPE
/// always): ignored if it came ignored, default otherwise.
pub fn restore_inherited() -> io::Result<()> {
    let touched = TOUCHED.load(Ordering::Relaxed) | 1 << (libc::SIGPIPE - 1);
    let ignored = WAS_IGNORED.load(Ordering::Relaxed);
    for sig in (1..=64).filter(|s| touched & (1 << (s - 1)) != 0) {
        let was_ignored = ignored & (1 << (sig - 1)) != 0;
        // Without the constructor's record, SIGPIPE goes back to the default, as Rust's own
        // process spawning does.
        let was_ignored = was_ignored && (sig != libc::SIGPIPE || PIPE_RECORDED.load(Ordering::Relaxed));
        disposition(sig, if was_ignored { libc::SIG_IGN } else { libc::SIG_DFL })?;
    }
    if MASK_TOUCHED.load(Ordering::Relaxed) {
        mask(libc::SIG_SETMASK, &SigSet::from_bits(MASK_BEFORE.load(Ordering::Relaxed)))?;
    }
    Ok(())
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
    let mut old = SigSet::empty();
    // SAFETY: both sets are initialised.
    let rc = unsafe { libc::pthread_sigmask(how, &set.0, &mut old.0) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    if !MASK_TOUCHED.swap(true, Ordering::Relaxed) {
        MASK_BEFORE.store(old.bits(), Ordering::Relaxed);
    }
    Ok(())
}

/// Sets `sig` to be ignored.
pub fn ignore(sig: i32) -> io::Result<()> {
    disposition(sig, libc::SIG_IGN)
}

/// Ignores `sig` in this process and in the program it chain-loads: unlike [`ignore`], the
/// change is meant to be handed on, so [`restore_inherited`] leaves it alone (s6-setsid -g
/// gives prog SIGTTOU ignored).
pub fn ignore_across_exec(sig: i32) -> io::Result<()> {
    // SAFETY: SIG_IGN is a valid disposition; no handler code runs.
    if unsafe { libc::signal(sig, libc::SIG_IGN) } == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    if (1..=64).contains(&sig) {
        let bit = 1u64 << (sig - 1);
        TOUCHED.fetch_and(!bit, Ordering::Relaxed);
        WAS_IGNORED.fetch_and(!bit, Ordering::Relaxed);
    }
    Ok(())
}

/// Restores the default action of `sig`.
pub fn default(sig: i32) -> io::Result<()> {
    disposition(sig, libc::SIG_DFL)
}

extern "C" fn wake(_: libc::c_int) {}

/// Makes `sig` interrupt blocking system calls: an empty handler, installed without
/// SA_RESTART, so a blocked `fcntl(F_SETLKW)` or `read` returns EINTR when it arrives. The
/// handler does nothing, so no program logic runs in signal context. Exec restores the
/// inherited disposition.
pub fn interrupt_with(sig: i32) -> io::Result<()> {
    // SAFETY: sigaction is plain data; `wake` is an async-signal-safe no-op of the right type.
    let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
    act.sa_sigaction = wake as extern "C" fn(libc::c_int) as libc::sighandler_t;
    act.sa_flags = 0;
    // SAFETY: act.sa_mask is a set inside the zeroed struct; sigemptyset initialises it.
    unsafe { libc::sigemptyset(&mut act.sa_mask) };
    // SAFETY: plain data, filled in by sigaction.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    syscall!(sigaction(sig, &act, &mut old))?;
    note_change(sig, old.sa_sigaction == libc::SIG_IGN);
    Ok(())
}

/// Arms the real-time interval timer: SIGALRM once, `after` from now (setitimer
/// ITIMER_REAL). The timer survives exec: call [`alarm_cancel`] before exec'ing.
pub fn alarm_after(after: Duration) -> io::Result<()> {
    // A zero value would disarm the timer: wait at least a microsecond.
    let after = after.max(Duration::from_micros(1));
    let it = libc::itimerval {
        it_interval: libc::timeval { tv_sec: 0, tv_usec: 0 },
        it_value: libc::timeval {
            tv_sec: after.as_secs().min(i32::MAX as u64) as _,
            tv_usec: after.subsec_micros().into(),
        },
    };
    syscall!(setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut())).map(drop)
}

/// Disarms the timer [`alarm_after`] armed.
pub fn alarm_cancel() -> io::Result<()> {
    let zero = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let it = libc::itimerval { it_interval: zero, it_value: zero };
    syscall!(setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut())).map(drop)
}

fn disposition(sig: i32, handler: libc::sighandler_t) -> io::Result<()> {
    // SAFETY: SIG_IGN and SIG_DFL are valid dispositions; no handler code runs.
    let old = unsafe { libc::signal(sig, handler) };
    if old == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    note_change(sig, old == libc::SIG_IGN);
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
        Trap::with_set(&SigSet::of(sigs))
    }

    /// Blocks every signal in `set` and opens a signalfd for them.
    pub fn with_set(set: &SigSet) -> io::Result<Trap> {
        mask(libc::SIG_BLOCK, set)?;
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

    #[test]
    fn inherited_state_is_recorded_before_main() {
        // The constructor ran in this test binary too; Rust's runtime ignored SIGPIPE after it.
        assert!(PIPE_RECORDED.load(Ordering::Relaxed));
        assert_ne!(TOUCHED.load(Ordering::Relaxed) & 1 << (libc::SIGPIPE - 1), 0);
        let set = SigSet::of(&[libc::SIGHUP, libc::SIGUSR2, 40]);
        assert_eq!(set.bits(), 1 | 1 << 11 | 1 << 39);
        let back = SigSet::from_bits(set.bits());
        assert!(back.contains(libc::SIGUSR2) && back.contains(40) && !back.contains(libc::SIGTERM));
        assert!(SigSet::full().contains(libc::SIGTERM));
    }
}
