//! `s6-notifyoncheck [ -d ] [ -3 notiffd ] [ -s initialsleep ] [ -T globaltimeout ]
//! [ -t localtimeout ] [ -w waitingtime ] [ -n tries ] [ -c checkprog ] prog...`: readiness
//! by polling, for daemons that cannot notify it themselves. Upstream
//! doc/s6-notifyoncheck.html, doc/notifywhenup.html; INVENTORY §1.2.
//!
//! Run from a service's `run` script, with the service directory as cwd and s6-supervise
//! on it. It forks (`-d`: double-forks, so the daemon never sees the helper as its child);
//! the parent closes the notification fd and, once the child has subscribed to `event/`,
//! execs prog. The child sleeps `-s` ms (10), then runs `./data/check` (or
//! `execlineb -Pc checkprog`) until it exits 0, at most `-n` times (7; 0 = no limit),
//! `-w` ms apart (1000); each attempt is killed after `-t` ms (0 = never), everything ends
//! after `-T` ms (0 = never). On success it writes `\n` to the notification fd. It stops
//! early when the service dies (a `d` event). Child exits, for clarity only: 0 ready,
//! 1 tries exhausted, 2 service died, 3 timed out, 111 system error.
//!
//! Unlike upstream, an attempt that outlives `-t` is sent SIGTERM, as the page promises
//! (2.15 only stops waiting for it), and the check does not inherit the notification fd.

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use s6rs_sys::cli::{self, errtext, parse_uint, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::exec::{self, chainload, Command, Fork, Report};
use s6rs_sys::{fd, sig};

use super::svok::is_supervised;
use crate::ftrig::{Pause, Subscription};
use crate::servicedir::{self, Setting};

/// The command line, with 2.15's long options.
pub const SPEC: Spec = Spec {
    name: "s6-notifyoncheck",
    operands: "prog...",
    about: "Runs prog and, beside it, polls a check program until it succeeds, then signals \
            the service's readiness to s6-supervise.",
    doc: "s6-notifyoncheck.html",
    flags: &[
        Flag::new('d', Show::Own, "double-fork the checker, so prog never sees it as its child")
            .long("doublefork"),
        Flag::arg('3', "fd", Show::Own, "the notification fd (default: read ./notification-fd)")
            .long("notification-fd"),
        Flag::arg('s', "initialsleep", Show::Own, "milliseconds to wait before the first check (default 10)")
            .long("initial-sleep"),
        Flag::arg('T', "globaltimeout", Show::Own, "give up after this many milliseconds in all (0: never)")
            .long("global-timeout"),
        Flag::arg('t', "localtimeout", Show::Own, "stop one check after this many milliseconds (0: never)")
            .long("local-timeout"),
        Flag::arg('w', "waitingtime", Show::Own, "milliseconds between two checks (default 1000)")
            .long("waiting-time"),
        Flag::arg('n', "tries", Show::Own, "give up after this many failed checks (default 7, 0: no limit)")
            .long("tries"),
        Flag::arg(
            'c',
            "\"checkprog...\"",
            Show::Own,
            "check with this execline command line, not ./data/check",
        )
        .long("check-program"),
    ],
};

/// What the child does, from the options.
struct Policy {
    initial_sleep: u64,
    global: Deadline,
    local_ms: u64,
    waiting: u64,
    /// `None`: no limit.
    tries: Option<u32>,
    check: Vec<OsString>,
}

fn number(opt: &s6rs_sys::cli::Opt, name: &str) -> Result<u32, Fatal> {
    parse_uint::<u32>(opt.arg_str()).ok_or_else(|| Fatal::bad(format!("{name} must be an unsigned integer")))
}

/// The notification fd: `-3`, else `./notification-fd` (s6-notify-fd-from-socket reads it
/// the same way).
pub(super) fn notification_fd(given: Option<u32>) -> Result<i32, Fatal> {
    let n = match given {
        Some(n) => u64::from(n),
        None => match servicedir::uint(Path::new("."), "notification-fd") {
            Ok(Setting::Value(n)) => n,
            Ok(Setting::Invalid(_)) => return Err(Fatal::bad("invalid ./notification-fd")),
            Ok(Setting::Absent) => {
                let e = std::io::Error::from_raw_os_error(libc::ENOENT);
                return Err(Fatal::sys("read ./notification-fd", &e));
            }
            Err(e) => return Err(Fatal::sys("read ./notification-fd", &e)),
        },
    };
    let fd = i32::try_from(n).map_err(|_| Fatal::bad("invalid ./notification-fd"))?;
    if !fd::is_open(fd) {
        let e = std::io::Error::from_raw_os_error(libc::EBADF);
        return Err(Fatal::new(111, format!("notification-fd sanity check failed: {}", errtext(&e))));
    }
    Ok(fd)
}

/// Runs s6-notifyoncheck.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut double = false;
    let mut notif = None;
    let mut p = Policy {
        initial_sleep: 10,
        global: Deadline::Never,
        local_ms: 0,
        waiting: 1000,
        tries: Some(7),
        check: vec![OsString::from("./data/check")],
    };
    let mut global_ms = 0;
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next_long() {
        let opt = opt.map_err(|e| e.fatal(&SPEC.usage()))?;
        match opt.c {
            'd' => double = true,
            '3' => notif = Some(number(&opt, "notification-fd")?),
            's' => p.initial_sleep = u64::from(number(&opt, "initial-sleep")?),
            'T' => global_ms = u64::from(number(&opt, "global-timeout")?),
            't' => p.local_ms = u64::from(number(&opt, "local-timeout")?),
            'w' => p.waiting = u64::from(number(&opt, "waiting-time")?),
            'n' => p.tries = Some(number(&opt, "tries")?).filter(|&n| n > 0),
            'c' => {
                let prog = opt.arg.clone().unwrap_or_default();
                p.check = vec![OsString::from("execlineb"), OsString::from("-Pc"), prog];
            }
            _ => return Err(SPEC.usage_error()),
        }
    }
    let prog = g.operands();
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let notif = notification_fd(notif)?;
    match is_supervised(Path::new(".")) {
        Ok(true) => {}
        Ok(false) => return Err(Fatal::bad("s6-supervise not running.")),
        Err(e) => return Err(Fatal::sys("sanity-check current service directory", &e)),
    }
    p.global = Deadline::from_ms(global_ms);
    let notif = fd::adopt(notif).map_err(|e| Fatal::sys("adopt the notification fd", &e))?;
    let (sync_r, sync_w) = fd::pipe().map_err(|e| Fatal::sys("pipe", &e))?;
    let forked = if double { exec::doublefork() } else { exec::fork() };
    match forked.map_err(|e| Fatal::sys(if double { "doublefork" } else { "fork" }, &e))? {
        Fork::Parent(_) => {
            // The daemon must not hold the notification fd: only the helper writes to it.
            drop(notif);
            drop(sync_w);
            let mut c = [0u8; 1];
            if !matches!(fd::read(sync_r.as_fd(), &mut c), Ok(1)) {
                return Err(Fatal::new(111, "unable to synchronize with child"));
            }
            drop(sync_r);
            Err(chainload(prog, &[]))
        }
        Fork::Child => {
            cli::rename_prog("s6-notifyoncheck (child)");
            drop(sync_r);
            child(&p, notif, sync_w)
        }
    }
}

/// Why the child's wait ended.
enum Woke {
    /// The deadline passed.
    Timeout,
    /// The service died (a `d` event).
    Died,
    /// The check exited with this status.
    Exited(exec::WaitStatus),
}

/// Waits until `deadline`, the service's death, or the exit of `check` (when given).
fn pause_until(
    pause: &mut Pause,
    sub: &mut [Subscription; 1],
    deadline: Deadline,
    check: Option<i32>,
) -> Result<Woke, Fatal> {
    loop {
        let mut exited = None;
        let woke = pause
            .wait(deadline, |pid, st| {
                if Some(pid) == check {
                    exited = Some(st);
                }
            })
            .map_err(|e| Fatal::sys("wait for events", &e))?;
        // Drain the events on every wake-up: the loop is edge-triggered.
        let died = sub[0].next_match().map_err(|e| Fatal::sys("read events", &e))?.is_some();
        match exited {
            Some(st) if !died || st.exit_code() == Some(0) => return Ok(Woke::Exited(st)),
            _ if died => return Ok(Woke::Died),
            _ => {}
        }
        if !woke {
            return Ok(Woke::Timeout);
        }
    }
}

/// The helper: subscribe, release the parent, then poll.
fn child(p: &Policy, notif: OwnedFd, sync: OwnedFd) -> Result<u8, Fatal> {
    let mut sub = [Subscription::new(Path::new("event"), b"d")
        .map_err(|e| Fatal::sys("subscribe to the event fifodir", &e.into_io()))?];
    let mut pause = Pause::new(&sub, true).map_err(|e| Fatal::sys("set up the event loop", &e))?;
    if fd::write_all(sync.as_fd(), &[0]).is_err() {
        return Err(Fatal::new(2, "unable to synchronize with parent"));
    }
    drop(sync);
    // The check programs must not be able to fake readiness or keep the pipe open.
    fd::set_cloexec(notif.as_fd(), true).map_err(|e| Fatal::sys("set close-on-exec", &e))?;
    let check_name = p.check[0].to_string_lossy().into_owned();
    let mut sleep = p.initial_sleep;
    let mut left = p.tries;
    while left != Some(0) {
        left = left.map(|n| n - 1);
        let until = p.global.min(Deadline::after(Duration::from_millis(sleep)));
        sleep = p.waiting;
        match pause_until(&mut pause, &mut sub, until, None)? {
            Woke::Died => return Ok(2),
            Woke::Timeout if p.global.passed() => return Ok(3),
            _ => {}
        }
        let pid = match Command::new(&p.check).and_then(|c| c.spawn(Report::ExecFailure)) {
            Ok(pid) => pid,
            Err(e) => {
                cli::warn_sys(format_args!("spawn {check_name}"), &e);
                continue;
            }
        };
        let until = p.global.min(Deadline::from_ms(p.local_ms));
        match pause_until(&mut pause, &mut sub, until, Some(pid))? {
            Woke::Exited(st) if st.exit_code() == Some(0) => {
                let _ = fd::write_all(notif.as_fd(), b"\n");
                return Ok(0);
            }
            Woke::Exited(_) => {}
            Woke::Died => {
                let _ = sig::kill(pid, libc::SIGTERM);
                return Ok(2);
            }
            Woke::Timeout => {
                let _ = sig::kill(pid, libc::SIGTERM);
                if p.global.passed() {
                    return Ok(3);
                }
            }
        }
    }
    Ok(1)
}
