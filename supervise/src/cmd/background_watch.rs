//! `s6-background-watch [ -t timeout ] [ -d notif ] pidfile prog...` (new in 2.14; long
//! options `--timeout-ready=MS`, `--notification-fd=FD`): run a daemon that backgrounds
//! itself, and stand in for it in the foreground (upstream doc/s6-background-watch.html).
//!
//! prog (the "parent") is expected to fork the real daemon, write its pid into `pidfile`
//! and exit 0. As a child subreaper we inherit the orphaned daemon, so we can wait for it;
//! every catchable signal we receive is relayed (to the parent, then to the daemon), and we
//! exit with the daemon's status (128 + n when signal n killed it).
//!
//! Exit codes: the parent's code (or 128 + signal) when it fails; 104 when the pidfile is
//! missing or holds no pid; 112 on systems without child subreapers; 100; 111.
//! `-t 0` means no timeout, as everywhere in s6 (upstream's code would kill the parent at
//! once).

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use s6rs_sys::cli::{self, parse_uint, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{EventLoop, Watch};
use s6rs_sys::exec::{self, Command, Report, WaitStatus};
use s6rs_sys::sig::{self, SigSet, Trap};
use s6rs_sys::{fd, proc};

/// The command line (2.14's, with its long options).
pub const SPEC: Spec = Spec {
    name: "s6-background-watch",
    operands: "pidfile prog...",
    about: "Runs a self-backgrounding daemon and stays in the foreground in its place, \
            relaying signals to it and exiting with its status.",
    doc: "s6-background-watch.html",
    flags: &[
        Flag::arg(
            't',
            "timeout",
            Show::Own,
            "kill prog if it has not exited after this many milliseconds (0: wait forever)",
        )
        .long("timeout-ready"),
        Flag::arg('d', "notif", Show::Own, "write a newline to this fd once the daemon's pid is known")
            .long("notification-fd"),
    ],
};

/// Exit code when the pidfile is missing or does not hold a pid.
const EXIT_PIDFILE: u8 = 104;

/// The longest pidfile content looked at.
const PIDFILE_MAX: usize = 128;

/// Runs s6-background-watch.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    let mut timeout = 0u32;
    let mut notif: Option<i32> = None;
    while let Some(o) = g.next_long() {
        let o = o.map_err(|b| b.fatal(&SPEC.usage()))?;
        let n: u32 = parse_uint(o.arg_str()).ok_or_else(|| SPEC.usage_error())?;
        let n = i32::try_from(n).map_err(|_| SPEC.usage_error())?;
        match o.c {
            't' => timeout = n as u32,
            _ => notif = Some(n),
        }
    }
    let [pidfile, prog @ ..] = g.operands() else { return Err(SPEC.usage_error()) };
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let notif = match notif {
        Some(n) if n < 3 => return Err(Fatal::bad("notification-fd must be 3 or more")),
        Some(n) => {
            let f = fd::adopt(n).map_err(|e| Fatal::sys("check notification-fd", &e))?;
            // Ours alone: prog must not inherit it.
            fd::set_cloexec(f.as_fd(), true).map_err(|e| Fatal::sys("coe notification-fd", &e))?;
            Some(f)
        }
        None => None,
    };
    watch(Path::new(pidfile), prog, timeout, notif)
}

#[cfg(not(target_os = "linux"))]
fn watch(_: &Path, _: &[OsString], _: u32, _: Option<OwnedFd>) -> Result<u8, Fatal> {
    Err(Fatal::new(112, "this system cannot watch a process that is not its child"))
}

#[cfg(target_os = "linux")]
fn watch(pidfile: &Path, prog: &[OsString], timeout: u32, notif: Option<OwnedFd>) -> Result<u8, Fatal> {
    let name = prog[0].to_string_lossy().into_owned();
    let trap = Trap::with_set(&SigSet::full()).map_err(|e| Fatal::sys("trap all signals", &e))?;
    // An inherited SIGCHLD=SIG_IGN would have the kernel reap children behind our back.
    sig::default(libc::SIGCHLD).map_err(|e| Fatal::sys("reset SIGCHLD", &e))?;
    proc::set_child_subreaper().map_err(|e| Fatal::sys("prctl with PR_SET_CHILD_SUBREAPER", &e))?;
    let cmd = Command::new(prog).map_err(|e| Fatal::sys_code(127, format_args!("spawn {name}"), &e))?;
    let parent = cmd.spawn(Report::ExecFailure).map_err(|e| {
        let code = if e.raw_os_error() == Some(libc::ENOEXEC) { 126 } else { 127 };
        Fatal::sys_code(code, format_args!("spawn {name}"), &e)
    })?;
    let mut lp = EventLoop::new(1).map_err(|e| Fatal::sys("create event loop", &e))?;
    lp.add(trap.as_fd(), 0, Watch::Read).map_err(|e| Fatal::sys("watch signals", &e))?;

    let mut deadline = if timeout == 0 {
        Deadline::Never
    } else {
        Deadline::after(Duration::from_millis(u64::from(timeout)))
    };
    let st = 'parent: loop {
        lp.wait(deadline, |_| ()).map_err(|e| Fatal::sys("wait for events", &e))?;
        if deadline.passed() {
            cli::warn(format_args!("{name} (parent) did not exit within timeout-ready: killing it"));
            let _ = sig::kill(parent, libc::SIGKILL);
            deadline = Deadline::Never;
        }
        while let Some(s) = trap.next().map_err(|e| Fatal::sys("read signals", &e))? {
            if s != libc::SIGCHLD {
                let _ = sig::kill(parent, s);
                continue;
            }
            if let Some(st) = exec::try_wait(parent).map_err(|e| Fatal::sys("wait", &e))? {
                break 'parent st;
            }
        }
    };
    parent_done(st, &name, pidfile)?;

    let daemon = read_pidfile(pidfile, &name)?;
    sig::kill(daemon, 0).map_err(|e| Fatal::sys("check daemon with a null signal", &e))?;
    if let Some(n) = notif {
        // Readiness is best effort, as for every s6 notification fd.
        let _ = fd::write_all(n.as_fd(), b"\n");
    }
    // The daemon may already be a zombie of ours, its SIGCHLD consumed above.
    if let Ok(Some(st)) = exec::try_wait(daemon) {
        return Ok(st.estatus());
    }
    loop {
        lp.wait(Deadline::Never, |_| ()).map_err(|e| Fatal::sys("wait for events", &e))?;
        while let Some(s) = trap.next().map_err(|e| Fatal::sys("read signals", &e))? {
            if s != libc::SIGCHLD {
                let _ = sig::kill(daemon, s);
                continue;
            }
            if let Some(st) = reap_until(daemon)? {
                return Ok(st.estatus());
            }
        }
    }
}

/// Accepts the parent's exit 0; any other end is ours too, after removing the pidfile.
fn parent_done(st: WaitStatus, name: &str, pidfile: &Path) -> Result<(), Fatal> {
    let msg = match (st.exit_code(), st.signal()) {
        (Some(0), _) => return Ok(()),
        (Some(c), _) => format!("{name} (parent) exited {c}"),
        (None, Some(s)) => format!("{name} (parent) crashed with signal {s}"),
        (None, None) => format!("{name} (parent) ended with status {}", st.0),
    };
    let _ = std::fs::remove_file(pidfile);
    Err(Fatal::new(st.estatus(), msg))
}

/// The daemon's pid: the first line of the pidfile, a positive decimal number.
fn read_pidfile(pidfile: &Path, name: &str) -> Result<i32, Fatal> {
    let shown = pidfile.display();
    let f = match fd::open_read_nb(pidfile) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Fatal::new(
                EXIT_PIDFILE,
                format!("{name} (parent) exited but pidfile {shown} does not exist"),
            ))
        }
        Err(e) => return Err(Fatal::sys(format_args!("open {shown}"), &e)),
    };
    let mut buf = [0u8; PIDFILE_MAX];
    let mut len = 0;
    while len < buf.len() {
        match fd::read(f.as_fd(), &mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) => return Err(Fatal::sys(format_args!("read {shown}"), &e)),
        }
    }
    parse_pid(&buf[..len])
        .ok_or_else(|| Fatal::new(EXIT_PIDFILE, format!("pidfile {shown} does not contain a valid pid")))
}

fn parse_pid(content: &[u8]) -> Option<i32> {
    let line = content.split(|&b| b == b'\n').next().unwrap_or_default();
    std::str::from_utf8(line).ok().and_then(parse_uint::<i32>).filter(|&p| p > 0)
}

/// Reaps every terminated child (orphans we inherited included) and returns the daemon's
/// status once it is among them. The daemon not being our child at all is fatal.
fn reap_until(daemon: i32) -> Result<Option<WaitStatus>, Fatal> {
    while let Some((pid, st)) = exec::reap().map_err(|e| Fatal::sys("wait", &e))? {
        if pid == daemon {
            return Ok(Some(st));
        }
    }
    exec::try_wait(daemon).map_err(|e| Fatal::sys("wait", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pidfile_parsing() {
        assert_eq!(parse_pid(b"123\n"), Some(123));
        assert_eq!(parse_pid(b"123"), Some(123));
        assert_eq!(parse_pid(b"42\ngarbage"), Some(42));
        assert_eq!(parse_pid(b"0\n"), None);
        assert_eq!(parse_pid(b" 12\n"), None);
        assert_eq!(parse_pid(b"12 \n"), None);
        assert_eq!(parse_pid(b""), None);
        assert_eq!(parse_pid(b"abc"), None);
    }
}
