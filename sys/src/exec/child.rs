//! The one child routine: what a new process does between its clone and its exec, the same
//! for every strategy ([`super::strategy`]), and what [`super::Command::exec`] does in place.
//!
//! In order: `setsid`, signal dispositions, signal mask, fd placement (`dup2` in order; an
//! fd placed on its own number only loses close-on-exec), `chdir`, the lock, then `execve`
//! on each `PATH` candidate in turn as musl's `execvp` does (`EACCES` wins over a later
//! `ENOENT`). Exit codes: 127 when the program was not found, 126 for any other exec or
//! set-up failure, 111 for the lock.
//!
//! The routine is written to the strictest standard any strategy needs: a child made with
//! `CLONE_VM` runs it in our memory while we carry on. So it reads only a [`Plan`] of raw
//! pointers built before the clone, makes its system calls through [`super::raw`] (no C
//! library, so no `errno` written into our thread's, no lock, no allocation), and has no
//! panic path that can be reached. The alternative, one routine per strategy or one generic
//! over the strategy, would let the fork path use the C library; it would also bring back
//! the three copies of this sequence the module had, and with them their drift.
//!
//! The parent may return before the exec: the plan's report fd (the write end of a
//! close-on-exec pipe) is closed at the *release point* the strategy chose, and the parent
//! returns at EOF. A failure before that point writes its errno there, so the spawn returns
//! it as an error; a failure after it is the child's to report: a message on stderr and an
//! exit code.

use std::ffi::c_void;
use std::io;
use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicU64, Ordering};

use super::command::Command;
use super::env;
use super::raw::{self, call4};

/// The signal state a child gets: dispositions set back to their default or to ignored, and
/// the mask (bit `n - 1` stands for signal `n`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub(super) struct SigPlan {
    to_default: u64,
    to_ignore: u64,
    set_mask: bool,
    mask: u64,
}

impl SigPlan {
    /// A spawned child's: an empty mask; SIGPIPE and what this process changed at their
    /// default ([`crate::sig`]'s `spawn_defaults`); the handlers Rust's runtime installed
    /// too, so that no code of ours can run in a child sharing our memory. Other
    /// dispositions pass on as they are, inherited ignored signals included.
    pub(super) fn spawn() -> SigPlan {
        SigPlan {
            to_default: crate::sig::spawn_defaults() | runtime_handlers(),
            to_ignore: 0,
            set_mask: true,
            mask: 0,
        }
    }

    /// A chain-loaded program's: the signal state this process inherited, as a C
    /// chain-loader leaves it ([`crate::sig::inherited`]).
    pub(super) fn chainload() -> SigPlan {
        let i = crate::sig::inherited();
        SigPlan {
            to_default: i.to_default,
            to_ignore: i.to_ignore,
            set_mask: i.mask.is_some(),
            mask: i.mask.unwrap_or(0),
        }
    }
}

/// Signals with a handler installed before `main` (Rust's runtime puts SIGSEGV and SIGBUS
/// handlers in for stack overflows), looked up on the first spawn. Every disposition this
/// process changes later goes through [`crate::sig`], which records it.
fn runtime_handlers() -> u64 {
    static FOUND: AtomicU64 = AtomicU64::new(u64::MAX);
    let known = FOUND.load(Ordering::Relaxed);
    if known != u64::MAX {
        return known;
    }
    let bits = crate::sig::foreign_handlers(&[libc::SIGSEGV, libc::SIGBUS]);
    FOUND.store(bits, Ordering::Relaxed);
    bits
}

/// Where in the routine the parent may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Release {
    /// At once: there is no report fd.
    AtOnce,
    /// Once the child leads its session.
    AfterSetsid,
    /// When the child starts waiting for its lock.
    BeforeLock,
    /// At the exec (the report fd is close-on-exec).
    AtExec,
}

/// What the child reads: raw pointers into an [`Image`], which outlives the child's use of it.
#[repr(C)]
pub(super) struct Plan {
    sigs: SigPlan,
    setsid: bool,
    pub(super) release: Release,
    /// The write end of the report pipe, or -1.
    pub(super) report: c_int,
    dups: *const (c_int, c_int),
    ndups: usize,
    cwd: *const c_char,
    lock: *const c_char,
    lock_fd: c_int,
    tries: *const *const c_char,
    ntries: usize,
    argv: *const *const c_char,
    envp: *const *const c_char,
    exec_msg: (*const u8, usize),
    open_msg: (*const u8, usize),
    lock_msg: (*const u8, usize),
}

impl Default for Plan {
    fn default() -> Plan {
        let none = (std::ptr::null(), 0);
        Plan {
            sigs: SigPlan::default(),
            setsid: false,
            release: Release::AtOnce,
            report: -1,
            dups: std::ptr::null(),
            ndups: 0,
            cwd: std::ptr::null(),
            lock: std::ptr::null(),
            lock_fd: -1,
            tries: std::ptr::null(),
            ntries: 0,
            argv: std::ptr::null(),
            envp: std::ptr::null(),
            exec_msg: none,
            open_msg: none,
            lock_msg: none,
        }
    }
}

/// Everything a child reads, built before the clone: its own copy of the command's strings
/// plus the `PATH` candidates and messages, and the pointer arrays into them and into the
/// C library's environment (that array itself when the command changes nothing in it). Reused by a [`super::Spawner`] slot, so a warm slot allocates
/// nothing.
#[derive(Default)]
pub(super) struct Image {
    strings: Vec<u8>,
    /// Offsets of the `PATH` candidates in `strings` (scratch, kept for its capacity).
    offs: Vec<usize>,
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
    tries: Vec<*const c_char>,
    dups: Vec<(c_int, c_int)>,
    plan: Plan,
}

impl Image {
    /// Fills the image from `cmd`, with the signal state `sigs` and `exec_msg` as what the
    /// child prints before the error text when it fails after the spawn has returned.
    pub(super) fn fill(&mut self, cmd: &Command, sigs: SigPlan, exec_msg: &[u8]) -> io::Result<()> {
        // The environment's PATH, as the C library's execvp reads it: ours, not the
        // child's changed one.
        let environ = env::current();
        // SAFETY: the C library's strings, which stay as they are (see env::current).
        let path = unsafe { env::path(env::entries(environ)) };
        let prog = cmd.file();
        let s = &mut self.strings;
        s.clear();
        // Room for everything but the lock's messages at once: one allocation, at most, for
        // a fresh image.
        let dirs = path.iter().filter(|&&b| b == b':').count() + 1;
        s.reserve(cmd.strings.len() + path.len() + dirs * (prog.len() + 3) + exec_msg.len());
        s.extend_from_slice(&cmd.strings);
        self.offs.clear();
        env::candidates::<io::Error>(prog, path, |parts| {
            self.offs.push(s.len());
            for p in parts {
                s.extend_from_slice(p);
            }
            s.push(0);
            Ok(())
        })?;
        let text = |s: &mut Vec<u8>, bytes: &[u8]| {
            let at = s.len();
            s.extend_from_slice(bytes);
            (at, bytes.len())
        };
        let mut exec_at = text(s, exec_msg);
        let (mut open_at, mut lock_at) = ((0, 0), (0, 0));
        if let Some((off, _)) = cmd.lock {
            let me = crate::cli::prog();
            let path = String::from_utf8_lossy(cmd.str_at(off)).into_owned();
            let line = |what: &str| format!("{me} (child): fatal: unable to {what}: ");
            open_at = text(s, line(&format!("open {path}")).as_bytes());
            lock_at = text(s, line(&format!("lock {path}")).as_bytes());
            if exec_msg.is_empty() {
                exec_at = text(s, line(&format!("exec {}", cmd.program())).as_bytes());
            }
        }

        // Pointers last: `strings` no longer moves.
        let base = s.as_ptr();
        // SAFETY (pointer arithmetic below): every offset was taken inside `strings`.
        let at = |off: usize| unsafe { base.add(off) };
        let cstr = |off: usize| at(off).cast::<c_char>();
        self.argv.clear();
        self.argv.extend(cmd.argv.iter().map(|&o| cstr(o)));
        self.argv.push(std::ptr::null());
        // Without changes the child gets the C library's array as it is: no copy.
        self.envp.clear();
        let envp = if cmd.env.is_empty() {
            environ
        } else {
            // SAFETY: the C library's strings, as above.
            self.envp.extend(unsafe { env::entries(environ) });
            for &(off, nlen, sets) in &cmd.env {
                let name = &s[off..off + nlen];
                // SAFETY: every entry is a NUL-terminated string (ours or the C library's).
                let named = |e: &*const c_char, n: &[u8]| unsafe { env::c_named(*e, n) };
                env::apply(&mut self.envp, name, sets.then(|| cstr(off)), named);
            }
            self.envp.push(std::ptr::null());
            self.envp.as_ptr()
        };
        self.tries.clear();
        self.tries.extend(self.offs.iter().map(|&o| cstr(o)));
        self.dups.clear();
        self.dups.extend_from_slice(&cmd.dups);
        let msg = |(off, len): (usize, usize)| (at(off), len);
        self.plan = Plan {
            sigs,
            setsid: cmd.setsid,
            release: Release::AtOnce,
            report: -1,
            dups: self.dups.as_ptr(),
            ndups: self.dups.len(),
            cwd: cmd.cwd.map_or(std::ptr::null(), cstr),
            lock: cmd.lock.map_or(std::ptr::null(), |(o, _)| cstr(o)),
            lock_fd: cmd.lock.map_or(-1, |(_, fd)| fd),
            tries: self.tries.as_ptr(),
            ntries: self.tries.len(),
            argv: self.argv.as_ptr(),
            envp,
            exec_msg: msg(exec_at),
            open_msg: msg(open_at),
            lock_msg: msg(lock_at),
        };
        Ok(())
    }

    /// Whether some `PATH` candidate is a file we may execute (`access(X_OK)`).
    pub(super) fn runnable(&self) -> bool {
        // SAFETY: each candidate is a NUL-terminated string in `strings`.
        self.tries.iter().any(|&t| unsafe { libc::access(t, libc::X_OK) } == 0)
    }

    /// Whether the child places anything on fd number `fd` (an fd given or the lock's).
    pub(super) fn targets(&self, fd: c_int) -> bool {
        self.dups.iter().any(|&(_, d)| d == fd) || self.plan.lock_fd == fd
    }

    /// The highest fd number the child places anything on.
    pub(super) fn highest_target(&self) -> c_int {
        self.dups.iter().map(|&(_, d)| d).chain([self.plan.lock_fd, 2]).max().unwrap_or(2)
    }

    /// The plan, for the routine.
    pub(super) fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The plan, for the strategy to set its release point and report fd.
    pub(super) fn plan_mut(&mut self) -> &mut Plan {
        &mut self.plan
    }
}

/// The step that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Signals, session, fds or directory: exit 126.
    Setup,
    /// Opening the lock file: exit 111.
    Open,
    /// Taking the lock: exit 111.
    Lock,
    /// The exec: exit 127 if not found, 126 otherwise.
    Exec,
}

/// How the routine failed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Failure {
    pub(super) errno: i32,
    pub(super) stage: Stage,
    /// Whether the parent had been let go (the failure is then the child's to report).
    released: bool,
}

/// The routine: runs `p` and execs. Returns only on failure.
///
/// # Safety
/// `p` must come from a filled [`Image`] that stays untouched until this returns or the
/// exec succeeds. In a child sharing our memory, nothing else may run before it.
pub(super) unsafe fn run(p: &Plan) -> Failure {
    let mut released = p.report < 0;
    let fail = |errno: isize, stage: Stage, released: bool| Failure { errno: -errno as i32, stage, released };
    // SAFETY (whole body): raw system calls on integers and on pointers into the plan's
    // image, as the caller guarantees.
    unsafe {
        // The session first, so that a parent waiting for it waits as little as it can. A
        // signal sent to the new group before the resets below meets the caller's
        // dispositions and mask: the signals a caller traps are blocked, and stay pending
        // until the mask is set, after the resets; and the strategy blocked every signal
        // across the clone.
        if p.setsid {
            let r = call4(libc::SYS_setsid, 0, 0, 0, 0);
            if r < 0 {
                return fail(r, Stage::Setup, released);
            }
            if p.release == Release::AfterSetsid {
                let_go(p, &mut released);
            }
        }
        for (bits, handler) in [(p.sigs.to_default, libc::SIG_DFL), (p.sigs.to_ignore, libc::SIG_IGN)] {
            let mut bits = bits;
            while bits != 0 {
                let sig = bits.trailing_zeros() as i32 + 1;
                bits &= bits - 1;
                // Numbers the kernel refuses (SIGKILL, SIGSTOP) fail harmlessly.
                raw::set_disposition(sig, handler);
            }
        }
        if p.sigs.set_mask {
            raw::set_mask(p.sigs.mask, std::ptr::null_mut());
        }
        for i in 0..p.ndups {
            let (src, dst) = *p.dups.add(i);
            let r = if src == dst {
                call4(libc::SYS_fcntl, src as usize, libc::F_SETFD as usize, 0, 0)
            } else {
                call4(libc::SYS_dup3, src as usize, dst as usize, 0, 0)
            };
            if r < 0 {
                return fail(r, Stage::Setup, released);
            }
        }
        if !p.cwd.is_null() {
            let r = call4(libc::SYS_chdir, p.cwd as usize, 0, 0, 0);
            if r < 0 {
                return fail(r, Stage::Setup, released);
            }
        }
        if !p.lock.is_null() {
            if p.release == Release::BeforeLock {
                let_go(p, &mut released);
            }
            let flags = (libc::O_WRONLY | libc::O_CREAT) as usize;
            let lfd = call4(libc::SYS_openat, libc::AT_FDCWD as usize, p.lock as usize, flags, 0o666);
            if lfd < 0 {
                return fail(lfd, Stage::Open, released);
            }
            if lfd != p.lock_fd as isize {
                let r = call4(libc::SYS_dup3, lfd as usize, p.lock_fd as usize, 0, 0);
                if r < 0 {
                    return fail(r, Stage::Open, released);
                }
                call4(libc::SYS_close, lfd as usize, 0, 0, 0);
            }
            let mut fl: libc::flock = std::mem::zeroed();
            fl.l_type = libc::F_WRLCK as libc::c_short;
            fl.l_whence = libc::SEEK_SET as libc::c_short;
            let setlkw = libc::F_SETLKW as usize;
            loop {
                let r =
                    call4(libc::SYS_fcntl, p.lock_fd as usize, setlkw, &fl as *const libc::flock as usize, 0);
                if r == 0 {
                    break;
                }
                if r != -(libc::EINTR as isize) {
                    return fail(r, Stage::Lock, released);
                }
            }
        }
        let mut err = -(libc::ENOENT as isize);
        let mut seen_eacces = false;
        for t in 0..p.ntries {
            err = call4(libc::SYS_execve, *p.tries.add(t) as usize, p.argv as usize, p.envp as usize, 0);
            match -err as i32 {
                libc::EACCES => seen_eacces = true,
                libc::ENOENT | libc::ENOTDIR => {}
                _ => break,
            }
        }
        if seen_eacces && matches!(-err as i32, libc::ENOENT | libc::ENOTDIR) {
            err = -(libc::EACCES as isize);
        }
        fail(err, Stage::Exec, released)
    }
}

/// Closes the report fd: from here the parent may return.
///
/// # Safety
/// Only from [`run`].
unsafe fn let_go(p: &Plan, released: &mut bool) {
    if !*released {
        // SAFETY: our copy of the report fd, used for nothing else.
        unsafe { call4(libc::SYS_close, p.report as usize, 0, 0, 0) };
        *released = true;
    }
}

/// The entry point of a cloned child: the routine, then its failure's report and exit.
pub(super) extern "C" fn entry(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the plan of an image the strategy keeps untouched until we exec or
    // exit (see strategy::start).
    unsafe {
        let p = &*arg.cast::<Plan>();
        let failed = run(p);
        die(p, failed)
    }
}

/// In the child: reports `f` and exits. Before the release point the errno goes to the
/// parent through the report fd (it reaps us); after it, the child prints its message and
/// the error text on stderr (nothing if the message is empty) and exits with the stage's
/// code.
///
/// # Safety
/// Only in a child, after [`run`] failed with `p`.
unsafe fn die(p: &Plan, f: Failure) -> ! {
    // SAFETY (whole body): writes of live buffers (the messages are in the image), then exit.
    unsafe {
        if !f.released {
            let b = f.errno.to_ne_bytes();
            call4(libc::SYS_write, p.report as usize, b.as_ptr() as usize, b.len(), 0);
            exit(127);
        }
        let (msg, code) = match f.stage {
            Stage::Setup => (p.exec_msg, 126),
            Stage::Open => (p.open_msg, 111),
            Stage::Lock => (p.lock_msg, 111),
            Stage::Exec if f.errno == libc::ENOENT => (p.exec_msg, 127),
            Stage::Exec => (p.exec_msg, 126),
        };
        if msg.1 > 0 {
            let mut buf = [0u8; 32];
            let text = errtext(f.errno, &mut buf);
            let iov = [
                libc::iovec { iov_base: msg.0 as *mut c_void, iov_len: msg.1 },
                libc::iovec { iov_base: text.as_ptr() as *mut c_void, iov_len: text.len() },
                libc::iovec { iov_base: b"\n".as_ptr() as *mut c_void, iov_len: 1 },
            ];
            call4(libc::SYS_writev, 2, iov.as_ptr() as usize, iov.len(), 0);
        }
        exit(code)
    }
}

/// `exit_group(code)`.
///
/// # Safety
/// Ends the calling process.
unsafe fn exit(code: usize) -> ! {
    loop {
        // SAFETY: exit_group does not return.
        unsafe { call4(libc::SYS_exit_group, code, 0, 0, 0) };
    }
}

/// The strerror text of `e` (glibc's wording, as everywhere in s6-rs), or `Unknown error N`
/// written into `buf`: nothing allocates.
fn errtext(e: i32, buf: &mut [u8; 32]) -> &[u8] {
    if let Some(t) = crate::cli::strerror_known(e) {
        return t.as_bytes();
    }
    const HEAD: &[u8] = b"Unknown error ";
    let mut digits = [0u8; 11];
    let mut i = digits.len();
    let mut v = e.unsigned_abs();
    while i > 0 {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if e < 0 && i > 0 {
        i -= 1;
        digits[i] = b'-';
    }
    let num = &digits[i..];
    let n = HEAD.len() + num.len();
    buf[..HEAD.len()].copy_from_slice(HEAD);
    buf[HEAD.len()..n].copy_from_slice(num);
    &buf[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errtext_covers_unknown_numbers_without_allocating() {
        let mut buf = [0u8; 32];
        assert_eq!(errtext(libc::ENOENT, &mut buf), b"No such file or directory");
        assert_eq!(errtext(4242, &mut buf), b"Unknown error 4242");
        assert_eq!(errtext(i32::MIN, &mut buf), b"Unknown error -2147483648");
    }

    #[test]
    fn spawn_signal_plan_resets_sigpipe_and_empties_the_mask() {
        let p = SigPlan::spawn();
        assert_ne!(p.to_default & 1 << (libc::SIGPIPE - 1), 0);
        assert_eq!((p.to_ignore, p.set_mask, p.mask), (0, true, 0));
    }
}
