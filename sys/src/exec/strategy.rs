//! How a child is started, picked from what the caller needs ([`Report`], a lock, a
//! session, a [`Spawner`] to draw stacks from). Every strategy runs the one child routine
//! ([`super::child`]); they differ in what the kernel copies and in how long the caller
//! waits.
//!
//! | need                                   | strategy                       | spawn returns         |
//! |----------------------------------------|--------------------------------|-----------------------|
//! | [`Report::ExecFailure`]                | [`Strategy::Vfork`]            | at the exec           |
//! | no wait, with a [`Spawner`]            | [`Strategy::Pooled`]           | at once / after setsid |
//! | no wait, without one                   | [`Strategy::Fork`]             | at once / after setsid |
//! | a lock (never waits for it)            | Pooled or Fork                 | when the wait starts  |
//!
//! [`Report::Missing`] first checks that some `PATH` candidate is executable; if none is,
//! the spawn goes the [`Report::ExecFailure`] way, so the caller gets the exec's own error.
//! A new PID namespace adds `CLONE_NEWPID` to whichever clone is made.
//!
//! Why three: `Vfork` (`CLONE_VM|CLONE_VFORK`, what posix_spawn does) copies no page table
//! and learns the exec's outcome, but holds the caller until the exec; a server that spawns
//! a handler per client then serves nobody meanwhile. `Pooled` (`CLONE_VM` alone) does not
//! hold the caller, but the child runs on a stack that must stay ours until it execs, which
//! only a [`Spawner`]'s slots provide. Without one, `Fork` (a clone without `CLONE_VM`)
//! gives the child its own copy of our memory, stack included: a fork of a small static
//! process (a supervisor) is cheap, and it keeps no memory around between spawns.
//!
//! If this process has a signal handler of its own, signals are blocked in the caller
//! across the clone, so the child starts with all of them blocked and no handler of ours
//! can run in it before the routine resets it.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};

use super::child::{self, Image, Release, SigPlan};
use super::command::{Command, Report};
use super::raw;
use super::spawner::{Slot, Spawner, Stack};

/// How the child is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strategy {
    /// `clone(CLONE_VM|CLONE_VFORK)`, the child on our stack below the caller's frame: the
    /// caller sleeps until the child execs or exits.
    Vfork,
    /// `clone(CLONE_VM)` on a [`Spawner`] slot's stack; the kernel clears the slot's word
    /// when the child leaves our memory (`CLONE_CHILD_CLEARTID`).
    Pooled,
    /// `clone` without `CLONE_VM`: the child has its own copy of our memory.
    Fork,
}

/// The strategy and release point for a need. `pooled`: the caller has a [`Spawner`].
pub(super) fn choose(report: &Report<'_>, lock: bool, setsid: bool, pooled: bool) -> (Strategy, Release) {
    let no_wait = if pooled && raw::VM_CLONES { Strategy::Pooled } else { Strategy::Fork };
    let chosen = if lock {
        (no_wait, Release::BeforeLock)
    } else if let Report::ExecFailure = report {
        (Strategy::Vfork, Release::AtExec)
    } else if setsid {
        (no_wait, Release::AfterSetsid)
    } else {
        (no_wait, Release::AtOnce)
    };
    match chosen {
        // Without clone in assembly, the exec is waited for through the report pipe.
        (Strategy::Vfork, r) if !raw::VM_CLONES => (Strategy::Fork, r),
        c => c,
    }
}

/// Starts `cmd` as `report` asks, with a stack from `pool` if the strategy needs one.
pub(super) fn spawn(cmd: &Command, report: Report<'_>, pool: Option<&mut Spawner>) -> io::Result<i32> {
    // A spawn that waits for the exec needs no slot: do not make one for it.
    let waits = report == Report::ExecFailure && cmd.lock.is_none();
    match pool.filter(|_| !waits) {
        Some(sp) => {
            let Slot { busy, stack, image } = sp.free_slot()?;
            spawn_from(cmd, report, image, Some((busy, stack)))
        }
        None => spawn_from(cmd, report, &mut Image::default(), None),
    }
}

/// [`spawn`] with `image` to fill and, from a pool, a free slot's word and stack.
fn spawn_from(
    cmd: &Command,
    report: Report<'_>,
    image: &mut Image,
    slot: Option<(&AtomicU32, &Stack)>,
) -> io::Result<i32> {
    let msg: &[u8] = match report {
        Report::ExecFailure => b"",
        Report::Missing(m) | Report::ByChild(m) => m,
    };
    image.fill(cmd, SigPlan::spawn(), msg)?;
    let mut report = report;
    if let Report::Missing(_) = report {
        if cmd.lock.is_none() && !image.runnable() {
            report = Report::ExecFailure;
        }
    }
    let (strategy, release) = choose(&report, cmd.lock.is_some(), cmd.setsid, slot.is_some());
    let slot = if strategy == Strategy::Pooled { slot } else { None };
    start(image, strategy, release, cmd.newpidns, slot)
}

/// Makes the child and waits until the release point; on a failure before it, reaps the
/// child and returns the error.
fn start(
    image: &mut Image,
    strategy: Strategy,
    release: Release,
    newpidns: bool,
    slot: Option<(&AtomicU32, &Stack)>,
) -> io::Result<i32> {
    let pipe = if release == Release::AtOnce { None } else { Some(report_pipe(image)?) };
    let plan = image.plan_mut();
    plan.release = release;
    plan.report = pipe.as_ref().map_or(-1, |(_, w)| w.as_raw_fd());
    let mut flags = libc::SIGCHLD as usize;
    flags |= match strategy {
        Strategy::Vfork => (libc::CLONE_VM | libc::CLONE_VFORK) as usize,
        Strategy::Pooled => (libc::CLONE_VM | libc::CLONE_CHILD_CLEARTID) as usize,
        Strategy::Fork => 0,
    };
    if newpidns {
        flags |= libc::CLONE_NEWPID as usize;
    }
    // Without a slot, no stack is given: the child runs below our current frame, on our
    // stack (Vfork: we sleep in the clone meanwhile, as vfork's parent does) or on its copy
    // of it (Fork). A stack of its own in our frame would dirty pages of every caller's
    // stack for good: 16 kB more private memory per supervisor.
    let (top, ctid) = match slot {
        Some((busy, stack)) => {
            busy.store(1, Ordering::Relaxed);
            (stack.top(), busy.as_ptr())
        }
        None => (std::ptr::null_mut(), std::ptr::null_mut()),
    };
    let plan: *const child::Plan = image.plan();
    // A handler of ours could run in the child, on our memory, between the clone and the
    // routine's reset of it: then signals are blocked across the clone, so the child starts
    // with all of them blocked. Without such a handler (the usual case: traps are
    // signalfds, and the kernel forces fault signals through any mask anyway) the two
    // system calls are saved on every spawn.
    let block = crate::sig::has_handlers();
    let mut old = 0u64;
    // SAFETY: blocking every signal (the kernel leaves SIGKILL and SIGSTOP alone) into `old`,
    // then the clone: the child runs the routine on `top` (or below our frame) and reads
    // only the image, which stays untouched until it execs or exits: Vfork holds us in the
    // call until then, Pooled keeps the slot busy until the kernel clears `ctid`, Fork's
    // child reads its own copy.
    let pid = unsafe {
        if block {
            raw::set_mask(!0, &mut old);
        }
        let pid = raw::clone(flags, top, ctid, child::entry, plan.cast_mut().cast());
        if block {
            raw::set_mask(old, std::ptr::null_mut());
        }
        pid
    };
    if pid < 0 {
        if let Some((busy, _)) = slot {
            busy.store(0, Ordering::Release);
        }
        return Err(io::Error::from_raw_os_error(-pid as i32));
    }
    let pid = pid as i32;
    let Some((r, w)) = pipe else { return Ok(pid) };
    drop(w);
    match read_report(r.as_fd()) {
        Ok(None) => Ok(pid),
        Ok(Some(e)) | Err(e) => {
            let _ = super::wait::wait(pid);
            Err(e)
        }
    }
}

/// The report pipe: close-on-exec, its write end numbered apart from every fd the child
/// places, so that no placement closes it.
fn report_pipe(image: &Image) -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = crate::fd::pipe()?;
    if !image.targets(w.as_raw_fd()) {
        return Ok((r, w));
    }
    let high = crate::fd::dup_min(w.as_fd(), image.highest_target() + 1)?;
    Ok((r, high))
}

/// Reads the report pipe to EOF: `None` if the child got past its release point, else the
/// errno it wrote.
fn read_report(fd: BorrowedFd<'_>) -> io::Result<Option<io::Error>> {
    let mut b = [0u8; 4];
    let mut got = 0;
    while got < b.len() {
        match crate::fd::read(fd, &mut b[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok((got == b.len()).then(|| io::Error::from_raw_os_error(i32::from_ne_bytes(b))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_follows_the_need() {
        use Release::*;
        use Strategy::*;
        let (exec, missing, child) = (Report::ExecFailure, Report::Missing(b"m"), Report::ByChild(b""));
        // (report, lock, setsid, pooled) -> (strategy, release)
        let table: [(&Report<'_>, bool, bool, bool, Strategy, Release); 12] = [
            (&exec, false, false, false, Vfork, AtExec),
            (&exec, false, true, false, Vfork, AtExec),
            (&exec, false, true, true, Vfork, AtExec),
            (&exec, true, true, false, Fork, BeforeLock),
            (&exec, true, false, true, Pooled, BeforeLock),
            (&missing, false, false, false, Fork, AtOnce),
            (&missing, false, true, false, Fork, AfterSetsid),
            (&missing, false, true, true, Pooled, AfterSetsid),
            (&missing, true, true, false, Fork, BeforeLock),
            (&child, false, false, true, Pooled, AtOnce),
            (&child, false, false, false, Fork, AtOnce),
            (&child, false, true, true, Pooled, AfterSetsid),
        ];
        for (report, lock, setsid, pooled, s, r) in table {
            assert_eq!(
                choose(report, lock, setsid, pooled),
                (s, r),
                "{report:?} lock={lock} setsid={setsid} pooled={pooled}"
            );
        }
    }
}
