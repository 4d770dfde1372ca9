//! `s6-setlock [ -n | -N ] [ -t timeout ] [ -d fd ] [ -r | -w ] file prog...`: take an fcntl
//! lock on `file` and chain-load `prog` with the locked fd open, so the lock lasts as long as
//! `prog` (upstream doc/s6-setlock.html, 2.15: `-d` and a `-t` that combines with the rest).
//!
//! s6-supervise runs `./run` through `s6-setlock -d FD -- supervise/service-lock` when a
//! service has a `lock-fd` file.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, IntoRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use s6rs_sys::cli::{parse_uint, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::exec::chainload;
use s6rs_sys::{fd, lock, sig};

/// The command line, as 2.15's.
pub const SPEC: Spec = Spec {
    name: "s6-setlock",
    operands: "file prog...",
    about: "Takes a lock on file, then runs prog, which holds the lock as long as it runs.",
    doc: "s6-setlock.html",
    flags: &[
        Flag::new('n', Show::Own, "fail at once, exit 1, if the lock is taken"),
        Flag::new('N', Show::Or, "wait for the lock (the default)"),
        Flag::arg('t', "timeout", Show::Own, "exit 1 if the lock is not had after this many milliseconds"),
        Flag::arg('d', "fd", Show::Own, "give prog the locked file as this fd"),
        Flag::new('r', Show::Own, "take a shared lock"),
        Flag::new('w', Show::Or, "take an exclusive lock (the default)"),
    ],
};

/// Exit code when the lock cannot be taken (busy, timed out, or refused).
const EXIT_NOLOCK: u8 = 1;

/// Runs s6-setlock.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    let (mut nonblock, mut exclusive) = (false, true);
    let mut timeout = 0u32;
    let mut dest: Option<i32> = None;
    while let Some(o) = g.next() {
        let o = o.map_err(|_| SPEC.usage_error())?;
        match o.c {
            'n' => nonblock = true,
            'N' => nonblock = false,
            'r' => exclusive = false,
            'w' => exclusive = true,
            't' => timeout = parse_uint(o.arg_str()).ok_or_else(|| SPEC.usage_error())?,
            'd' => {
                let n: u32 = parse_uint(o.arg_str()).ok_or_else(|| SPEC.usage_error())?;
                dest = Some(i32::try_from(n).map_err(|_| SPEC.usage_error())?);
            }
            _ => return Err(SPEC.usage_error()),
        }
    }
    let [file, prog @ ..] = g.operands() else { return Err(SPEC.usage_error()) };
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let path = Path::new(file);
    let name = path.display();
    let opened: OwnedFd = open(path, exclusive)?.into();
    // The fd must survive exec, at `dest` if asked. It is moved before locking: closing the
    // original after locking would drop the lock (POSIX record locks go with any close),
    // which is what upstream's lock-then-move does.
    let lockfd = match dest {
        Some(to) => fd::move_to(opened, to),
        None => fd::set_cloexec(opened.as_fd(), false).map(|()| opened),
    }
    .map_err(|e| Fatal::sys("move lock descriptor", &e))?;

    let res = if nonblock {
        lock::try_lock(lockfd.as_fd(), exclusive).and_then(|ok| {
            if ok {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(libc::EBUSY))
            }
        })
    } else if timeout > 0 {
        // SIGALRM interrupts the waiting fcntl. The timer is disarmed before exec, and exec
        // gives SIGALRM back its inherited disposition.
        let limit = Duration::from_millis(u64::from(timeout));
        let deadline = Deadline::after(limit);
        sig::interrupt_with(libc::SIGALRM).map_err(|e| Fatal::sys("set SIGALRM handler", &e))?;
        sig::alarm_after(limit).map_err(|e| Fatal::sys("set timer", &e))?;
        let res = lock_until(&lockfd, exclusive, deadline);
        sig::alarm_cancel().map_err(|e| Fatal::sys("disarm timer", &e))?;
        match res {
            Ok(true) => Ok(()),
            Ok(false) => return Err(Fatal::new(EXIT_NOLOCK, format!("lock {name}: timed out"))),
            Err(e) => Err(e),
        }
    } else {
        loop {
            match lock::lock(lockfd.as_fd(), exclusive) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r,
            }
        }
    };
    res.map_err(|e| Fatal::sys_code(EXIT_NOLOCK, format_args!("lock {name}"), &e))?;
    // Leaked on purpose: prog holds the lock through it.
    let _ = lockfd.into_raw_fd();
    Err(chainload(prog, &[]))
}

/// Opens the lock file: for writing (created if needed) for an exclusive lock; for reading
/// for a shared one, creating the file first if it does not exist.
fn open(path: &Path, exclusive: bool) -> Result<File, Fatal> {
    let name = path.display();
    if exclusive {
        return fd::open_create(path).map_err(|e| Fatal::sys(format_args!("open {name} for writing"), &e));
    }
    match fd::open_read_nb(path) {
        Ok(f) => Ok(f),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            drop(fd::open_create(path).map_err(|e| Fatal::sys(format_args!("create {name}"), &e))?);
            fd::open_read_nb(path).map_err(|e| Fatal::sys(format_args!("open {name} for reading"), &e))
        }
        Err(e) => Err(Fatal::sys(format_args!("open {name} for reading"), &e)),
    }
}

/// Blocks for the lock until `deadline` (an armed SIGALRM interrupts the wait): `Ok(false)`
/// on timeout. An interruption before the deadline re-arms the timer for the time left.
fn lock_until(lockfd: &OwnedFd, exclusive: bool, deadline: Deadline) -> io::Result<bool> {
    loop {
        match lock::lock(lockfd.as_fd(), exclusive) {
            Ok(()) => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => match deadline.remaining() {
                Some(left) if !left.is_zero() => sig::alarm_after(left)?,
                _ => return Ok(false),
            },
            Err(e) => return Err(e),
        }
    }
}
