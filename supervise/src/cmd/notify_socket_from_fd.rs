//! `s6-notify-socket-from-fd [ -d fd ] [ -f ] [ -t timeout ] [ -k ] prog...` (new in 2.15;
//! long options `--notification-fd`, `--no-doublefork`/`--doublefork`, `--timeout`,
//! `--keep-environment`): run, under a supervisor that speaks systemd's `NOTIFY_SOCKET`
//! protocol, a daemon that announces readiness the s6 way (a newline on an fd).
//! Upstream doc/s6-notify-socket-from-fd.html.
//!
//! Without `NOTIFY_SOCKET` in the environment there is no one to tell: it execs prog at
//! once. Otherwise it makes a pipe and double-forks (`-f`: forks once); the parent puts the
//! pipe's write end on fd `-d` (default 1: this program never reads `./notification-fd`,
//! since it does not run under s6) and execs prog, without `NOTIFY_SOCKET` unless `-k`.
//! The helper reads the pipe until a newline comes, then sends `READY=1` and
//! `MAINPID=<prog's pid>` in one datagram to the socket named by `NOTIFY_SOCKET` (`@name`:
//! an abstract socket), then `BARRIER=1` with a pipe's write end attached, and waits for
//! the supervisor to close that fd, which says it has processed the notification.
//!
//! The options, fork and wait it shares with s6-notify-fd-from-socket are in
//! [`crate::sdnotify`].
//!
//! The helper's exit codes are for clarity only: 0 notified, 1 prog closed the pipe (died)
//! first, 99 timed out (`-t` milliseconds for the whole wait, barrier included; 0: never),
//! 111 system error.

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{PollFd, PollFlags};
use s6rs_sys::exec::{chainload, EnvMod, Fork};
use s6rs_sys::{fd, proc, socket};

use crate::sdnotify::{self, wait, VAR};

/// The command line (2.15's, with its long options).
pub const SPEC: Spec = Spec {
    name: "s6-notify-socket-from-fd",
    operands: "prog...",
    about: "Runs prog, which signals readiness s6's way, and turns its newline into a \
            systemd-style READY=1 to $NOTIFY_SOCKET.",
    doc: "s6-notify-socket-from-fd.html",
    flags: &[
        Flag::arg('d', "fd", Show::Own, "the fd prog writes its readiness newline to (default 1)")
            .long("notification-fd"),
        sdnotify::HELPER_FLAGS[0],
        sdnotify::HELPER_FLAGS[1],
        sdnotify::HELPER_FLAGS[2],
        Flag::new('k', Show::Own, "leave NOTIFY_SOCKET in prog's environment").long("keep-environment"),
    ],
};

/// Exit code of the helper when prog closed the pipe without a newline.
const EXIT_DIED: u8 = 1;
/// Exit code of the helper when the timeout passed.
const EXIT_TIMEOUT: u8 = 99;

/// Runs s6-notify-socket-from-fd.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut keep = false;
    let mut notif = 1u32;
    let (helper_opts, prog) = sdnotify::parse_bridge(&SPEC, &args, |opt| {
        match opt.c {
            'k' => keep = true,
            'd' => notif = sdnotify::fd_arg(opt)?,
            _ => return Err(SPEC.usage_error()),
        }
        Ok(())
    })?;
    let notif =
        i32::try_from(notif).map_err(|_| Fatal::bad("notification-fd must be an unsigned integer"))?;
    let Some(target) = std::env::var_os(VAR) else { return Err(chainload(prog, &[])) };
    let parent = proc::pid();
    let (r, w) = fd::pipe().map_err(|e| Fatal::sys("pipe", &e))?;
    match helper_opts.fork()? {
        Fork::Parent(_) => {
            drop(r);
            let w = fd::move_to(w, notif).map_err(|e| Fatal::sys("fd_move", &e))?;
            // Ours no longer: prog owns the number now, and exec keeps it open.
            std::mem::forget(w);
            let mods: Vec<EnvMod> = if keep { Vec::new() } else { vec![(OsString::from(VAR), None)] };
            Err(chainload(prog, &mods))
        }
        Fork::Child => {
            cli::rename_prog("s6-notify-socket-from-fd (child)");
            drop(w);
            helper(&r, parent, target.as_bytes(), helper_opts.deadline())
        }
    }
}

/// The helper: wait for prog's newline, then notify the supervisor.
fn helper(r: &OwnedFd, main_pid: i32, target: &[u8], deadline: Deadline) -> Result<u8, Fatal> {
    let mut buf = [0u8; 4096];
    loop {
        if !wait(&mut [PollFd::new(r.as_fd(), PollFlags::POLLIN)], deadline)? {
            return Ok(EXIT_TIMEOUT);
        }
        match fd::read(r.as_fd(), &mut buf) {
            Ok(0) => return Ok(EXIT_DIED),
            Ok(n) if buf[..n].contains(&b'\n') => break,
            Ok(_) => {}
            Err(e) => return Err(Fatal::sys("read from parent", &e)),
        }
    }
    notify(main_pid, target, deadline)
}

/// Sends the readiness datagram, then the barrier, and waits for the supervisor to close
/// the barrier's fd.
fn notify(main_pid: i32, target: &[u8], deadline: Deadline) -> Result<u8, Fatal> {
    let shown = String::from_utf8_lossy(target);
    let sock = socket::socket(socket::Kind::Datagram, false).map_err(|e| Fatal::sys("create socket", &e))?;
    let (br, bw) = fd::pipe().map_err(|e| Fatal::sys("pipe", &e))?;
    let msg = format!("READY=1\nMAINPID={main_pid}\n");
    socket::send_datagram(sock.as_fd(), target, msg.as_bytes(), None)
        .map_err(|e| Fatal::sys(format_args!("send notification message to {shown}"), &e))?;
    socket::send_datagram(sock.as_fd(), target, b"BARRIER=1\n", Some(bw.as_fd()))
        .map_err(|e| Fatal::sys(format_args!("send notification barrier message to {shown}"), &e))?;
    drop((sock, bw));
    let done = wait(&mut [PollFd::new(br.as_fd(), PollFlags::POLLIN)], deadline)?;
    Ok(if done { 0 } else { EXIT_TIMEOUT })
}
