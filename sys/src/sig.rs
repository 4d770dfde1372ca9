//! Signals: one signalfd trap per process (nothing runs in signal context), dispositions,
//! and the signal name table s6 uses in files and on command lines.
//!
//! Signal sets, the mask and the signalfd go through `nix`. Three calls stay raw, each in
//! one function: `sigaction` (nix's is as unsafe as libc's, and its types cannot hand a
//! handler installed elsewhere back), `kill` (nix's `Signal` has no real-time signals, and
//! s6-background-watch relays any signal), and `setitimer` (nix has no form for it).

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{pthread_sigmask, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

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

/// A set of signals. It holds the signals `nix` names (every signal but the real-time ones);
/// a set read from the kernel ([`full`](SigSet::full), a saved mask) may hold any.
#[derive(Clone, Copy, Debug)]
pub struct SigSet(nix::sys::signal::SigSet);

impl SigSet {
    /// The empty set.
    pub fn empty() -> SigSet {
        SigSet(nix::sys::signal::SigSet::empty())
    }

    /// A set holding `sigs`. Numbers without a name (real-time signals, invalid ones) are
    /// left out: every caller passes `SIG*` constants.
    pub fn of(sigs: &[i32]) -> SigSet {
        let mut s = SigSet::empty();
        for sig in sigs.iter().filter_map(|&n| Signal::try_from(n).ok()) {
            s.0.add(sig);
        }
        s
    }

    /// Every signal the C library lets a program block (all but its private ones).
    pub fn full() -> SigSet {
        SigSet(nix::sys::signal::SigSet::all())
    }

    /// Whether the named signal `sig` is in the set.
    pub fn contains(&self, sig: i32) -> bool {
        Signal::try_from(sig).is_ok_and(|s| self.0.contains(s))
    }

    /// The raw set, for the system calls nix has no form for.
    pub fn raw(&self) -> &libc::sigset_t {
        self.0.as_ref()
    }

    /// The set as the kernel takes it (bit `n - 1` for signal `n`, real-time signals
    /// included): the first word of the C library's `sigset_t`.
    pub(crate) fn kernel_bits(&self) -> u64 {
        let raw: *const libc::sigset_t = self.0.as_ref();
        // SAFETY: a sigset_t is at least 64 bits long on Linux, and its first 64 bits are the
        // kernel's set of signals 1 to 64.
        unsafe { raw.cast::<u64>().read_unaligned() }
    }

    /// The set of the signals whose bits (`n - 1` for signal `n`) are set in `bits`, as
    /// [`of`](SigSet::of) takes them.
    #[cfg(test)]
    pub(crate) fn from_bits(bits: u64) -> SigSet {
        let sigs: Vec<i32> = (1..=64).filter(|s| bits & (1 << (s - 1)) != 0).collect();
        SigSet::of(&sigs)
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
// runtime changed: it ignores SIGPIPE before `main`) before exec: see [`inherited`].
// Bit `n - 1` stands for signal `n`.
static TOUCHED: AtomicU64 = AtomicU64::new(0);
static WAS_IGNORED: AtomicU64 = AtomicU64::new(0);
// The mask before this process first changed it, whole (real-time signals included).
static MASK_BEFORE: OnceLock<SigSet> = OnceLock::new();
static PIPE_RECORDED: AtomicBool = AtomicBool::new(false);
// Signals this module ever installed a handler for an asynchronous signal for
// ([`interrupt_with`]).
static HANDLED: AtomicU64 = AtomicU64::new(0);

/// Whether this process ever installed a handler of its own for an asynchronous signal
/// (only [`interrupt_with`] does; [`catch_with_info`]'s are for faults, which no mask holds
/// off): if not, no code of ours can run in signal context but on a fault, and a spawn need
/// not block signals across its clone.
pub(crate) fn has_handlers() -> bool {
    HANDLED.load(Ordering::Relaxed) != 0
}

/// Signals among `sigs` that have a handler installed outside this module (Rust's runtime
/// puts SIGSEGV and SIGBUS handlers in before `main`, unless they came ignored), as bits.
pub(crate) fn foreign_handlers(sigs: &[i32]) -> u64 {
    let mut bits = 0;
    for &sig in sigs {
        if sigaction(sig, None)
            .is_ok_and(|a| a.sa_sigaction != libc::SIG_DFL && a.sa_sigaction != libc::SIG_IGN)
        {
            bits |= 1 << (sig - 1);
        }
    }
    bits
}

// Runs from the C library's constructors, before Rust's `main` wrapper ignores SIGPIPE, to
// learn whether the parent had SIGPIPE ignored. It lives beside the statics it writes, so
// linking any reader links it too.
#[used]
#[link_section = ".init_array"]
static RECORD_SIGPIPE: extern "C" fn() = record_sigpipe;

extern "C" fn record_sigpipe() {
    if let Ok(act) = sigaction(libc::SIGPIPE, None) {
        note_change(libc::SIGPIPE, act.sa_sigaction == libc::SIG_IGN);
        PIPE_RECORDED.store(true, Ordering::Relaxed);
    }
}

/// A disposition: `handler` (SIG_DFL, SIG_IGN or a function), `flags`, no signal blocked
/// while it runs.
fn action(handler: libc::sighandler_t, flags: i32) -> libc::sigaction {
    libc::sigaction {
        sa_sigaction: handler,
        sa_mask: *SigSet::empty().raw(),
        sa_flags: flags,
        sa_restorer: None,
    }
}

/// `sigaction(2)`: installs `new` if given; returns the disposition before.
fn sigaction(sig: i32, new: Option<&libc::sigaction>) -> io::Result<libc::sigaction> {
    let mut old = action(libc::SIG_DFL, 0);
    let new = new.map_or(std::ptr::null(), |a| a as *const libc::sigaction);
    // SAFETY: `new` is null or a live sigaction, `old` a writable one. The handlers this
    // module installs are SIG_DFL, SIG_IGN, the no-op `wake`, or one whose caller promised
    // it is async-signal-safe ([`catch_with_info`]).
    Errno::result(unsafe { libc::sigaction(sig, new, &mut old) })?;
    Ok(old)
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

/// The signal state this process inherited, as far as it changed it: what a C chain-loader
/// hands on. Bit `n - 1` stands for signal `n`.
pub(crate) struct Inherited {
    /// Dispositions to put back to the default.
    pub(crate) to_default: u64,
    /// Dispositions to put back to ignored.
    pub(crate) to_ignore: u64,
    /// The mask as it came, if this process changed it.
    pub(crate) mask: Option<u64>,
}

/// What a chain-loaded program gets back: each disposition changed through this module
/// (SIGPIPE always), ignored if it came ignored, default otherwise; the mask, if changed.
pub(crate) fn inherited() -> Inherited {
    let touched = TOUCHED.load(Ordering::Relaxed) | 1 << (libc::SIGPIPE - 1);
    let mut ignored = WAS_IGNORED.load(Ordering::Relaxed) & touched;
    // Without the constructor's record, SIGPIPE goes back to the default, as Rust's own
    // process spawning does.
    if !PIPE_RECORDED.load(Ordering::Relaxed) {
        ignored &= !(1 << (libc::SIGPIPE - 1));
    }
    let mask = MASK_BEFORE.get().map(SigSet::kernel_bits);
    Inherited { to_default: touched & !ignored, to_ignore: ignored, mask }
}

/// Blocks `sigs` in this thread's mask.
pub fn block(sigs: &[i32]) -> io::Result<()> {
    mask(SigmaskHow::SIG_BLOCK, &SigSet::of(sigs))
}

fn mask(how: SigmaskHow, set: &SigSet) -> io::Result<()> {
    let mut old = SigSet::empty();
    pthread_sigmask(how, Some(&set.0), Some(&mut old.0))?;
    MASK_BEFORE.get_or_init(|| old);
    Ok(())
}

/// Sets `sig` to be ignored.
pub fn ignore(sig: i32) -> io::Result<()> {
    disposition(sig, libc::SIG_IGN)
}

/// Ignores `sig` in this process and in the program it chain-loads: unlike [`ignore`], the
/// change is meant to be handed on, so a chain-loaded program inherits it (see [`crate::exec::Command::exec`]) (s6-setsid -g
/// gives prog SIGTTOU ignored).
pub fn ignore_across_exec(sig: i32) -> io::Result<()> {
    sigaction(sig, Some(&action(libc::SIG_IGN, 0)))?;
    if (1..=64).contains(&sig) {
        let bit = 1u64 << (sig - 1);
        TOUCHED.fetch_and(!bit, Ordering::Relaxed);
        WAS_IGNORED.fetch_and(!bit, Ordering::Relaxed);
    }
    Ok(())
}

/// Restores the default action of `sig` in this process and in every program it starts or
/// chain-loads: unlike [`default`], the change is handed on, even if `sig` came ignored. For
/// SIGCHLD in a supervisor: ignored, it makes the kernel reap the children itself and send
/// no signal, so no death would be seen. Upstream's supervisors catch SIGCHLD, and a caught
/// signal is back to the default in what they exec, which this gives too.
pub fn default_across_exec(sig: i32) -> io::Result<()> {
    sigaction(sig, Some(&action(libc::SIG_DFL, 0)))?;
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
    let old = sigaction(sig, Some(&action(wake as extern "C" fn(libc::c_int) as libc::sighandler_t, 0)))?;
    note_change(sig, old.sa_sigaction == libc::SIG_IGN);
    if (1..=64).contains(&sig) {
        HANDLED.fetch_or(1 << (sig - 1), Ordering::Relaxed);
    }
    Ok(())
}

/// A handler for [`catch_with_info`]: signal number, `siginfo_t`, context.
pub type InfoHandler = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);

/// Runs `handler` on `sig`, with its `siginfo_t` (SA_SIGINFO). For synchronous faults
/// (SIGBUS on a mapped file), which a signalfd cannot take: a blocked fault kills the
/// process. Exec restores the inherited disposition.
///
/// # Safety
///
/// `handler` runs in signal context, at any point of the thread it interrupts: it must do
/// only async-signal-safe work (no allocation, no lock).
pub unsafe fn catch_with_info(sig: i32, handler: InfoHandler) -> io::Result<()> {
    let old = sigaction(sig, Some(&action(handler as libc::sighandler_t, libc::SA_SIGINFO)))?;
    note_change(sig, old.sa_sigaction == libc::SIG_IGN);
    Ok(())
}

/// Arms the real-time interval timer: SIGALRM once, `after` from now (setitimer
/// ITIMER_REAL). The timer survives exec: call [`alarm_cancel`] before exec'ing.
pub fn alarm_after(after: Duration) -> io::Result<()> {
    // A zero value would disarm the timer: wait at least a microsecond.
    let after = after.max(Duration::from_micros(1));
    set_real_timer(libc::timeval {
        tv_sec: after.as_secs().min(i32::MAX as u64) as _,
        tv_usec: after.subsec_micros().into(),
    })
}

/// Disarms the timer [`alarm_after`] armed.
pub fn alarm_cancel() -> io::Result<()> {
    set_real_timer(libc::timeval { tv_sec: 0, tv_usec: 0 })
}

/// `setitimer(ITIMER_REAL)`: one expiry `value` from now, no interval (zero disarms).
fn set_real_timer(value: libc::timeval) -> io::Result<()> {
    let it = libc::itimerval { it_interval: libc::timeval { tv_sec: 0, tv_usec: 0 }, it_value: value };
    // SAFETY: `it` is a live itimerval; no old value is asked for.
    Errno::result(unsafe { libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut()) })?;
    Ok(())
}

fn disposition(sig: i32, handler: libc::sighandler_t) -> io::Result<()> {
    let old = sigaction(sig, Some(&action(handler, 0)))?;
    note_change(sig, old.sa_sigaction == libc::SIG_IGN);
    Ok(())
}

/// Sends `sig` to `pid` (a negative pid is a process group; signal 0 only checks).
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes two integers and touches no memory of ours.
    Errno::result(unsafe { libc::kill(pid, sig) })?;
    Ok(())
}

/// A signalfd for a set of blocked signals, read from the event loop.
#[derive(Debug)]
pub struct Trap {
    fd: SignalFd,
}

impl Trap {
    /// Blocks `sigs` and opens a non-blocking, close-on-exec signalfd for them.
    pub fn new(sigs: &[i32]) -> io::Result<Trap> {
        Trap::with_set(&SigSet::of(sigs))
    }

    /// Blocks every signal in `set` and opens a signalfd for them. A trapped SIGCHLD is put
    /// back to its default action, in this process and in what it starts
    /// ([`default_across_exec`]): inherited ignored, it would make the kernel reap the
    /// children itself and send no SIGCHLD, so no death would ever be seen. (Other ignored
    /// signals need nothing: a blocked signal is queued whatever its disposition.)
    pub fn with_set(set: &SigSet) -> io::Result<Trap> {
        mask(SigmaskHow::SIG_BLOCK, set)?;
        if set.contains(libc::SIGCHLD) {
            default_across_exec(libc::SIGCHLD)?;
        }
        let fd = SignalFd::with_flags(&set.0, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Trap { fd })
    }

    /// The next pending trapped signal, or `None` when there is none (reads until EAGAIN).
    pub fn next(&self) -> io::Result<Option<i32>> {
        loop {
            match self.fd.read_signal() {
                Ok(info) => return Ok(info.map(|i| i.ssi_signo as i32)),
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
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
        let set = SigSet::from_bits(1 | 1 << 11 | 1 << 39);
        assert!(set.contains(libc::SIGHUP) && set.contains(libc::SIGUSR2) && !set.contains(libc::SIGTERM));
        // What the child routine hands the kernel: the named signals' bits, in place.
        assert_eq!(set.kernel_bits(), 1 | 1 << 11);
        assert!(SigSet::full().contains(libc::SIGTERM));
    }
}
