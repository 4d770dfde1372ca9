//! `s6-notify-fd-from-socket [ -3 fd ] [ -f ] [ -t timeout ] prog...` (new in 2.15; long
//! options `--notification-fd`, `--no-doublefork`/`--doublefork`, `--timeout`): run, under
//! s6, a daemon that announces readiness with systemd's `NOTIFY_SOCKET` protocol.
//! Upstream doc/s6-notify-fd-from-socket.html.
//!
//! Run from a service's `run` script, with the service directory as cwd. It binds a
//! datagram socket to a fresh abstract name (Linux autobind: no file, nothing to clean up),
//! then double-forks (`-f`: forks once); the parent closes the socket and the notification
//! fd and execs prog with `NOTIFY_SOCKET=@name`. The helper waits for a datagram holding
//! the line `READY=1`, writes a newline to the notification fd (`-3`, else the number in
//! `./notification-fd`, which must then exist) and exits. Other lines and datagrams are
//! ignored.
//!
//! The helper also stops waiting when prog dies (it holds a pidfd for it, opened before the
//! fork, so a reused pid cannot fool it; kernels before 5.3 have none), when the notification fd's reader is gone, or
//! after `-t` milliseconds (0: never). Its exit codes are for clarity only: 0 notified,
//! 1 prog died first (upstream's page lists no code for this case), 99 timed out, 111
//! system error.
//!
//! The socket, the `READY=1` rule, and the options, fork and wait it shares with
//! s6-notify-socket-from-fd are in [`crate::sdnotify`], which s6-supervise's own
//! `notify-socket` extension uses too.
//!
//! Unlike upstream 2.15, whose match needs a newline after `READY=1`, a datagram whose
//! last line is `READY=1` without one counts: that is what `sd_notify(0, "READY=1")` sends.

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{PollFd, PollFlags};
use s6rs_sys::exec::{chainload, Fork};
use s6rs_sys::{fd, proc};

use super::notifyoncheck::notification_fd;
use crate::sdnotify::{self, Message, Socket};

/// The command line (2.15's, with its long options).
pub const SPEC: Spec = Spec {
    name: "s6-notify-fd-from-socket",
    operands: "prog...",
    about: "Runs prog with a NOTIFY_SOCKET and, beside it, turns its systemd-style READY=1 \
            into s6's readiness newline on the notification fd.",
    doc: "s6-notify-fd-from-socket.html",
    flags: &[
        Flag::arg('3', "fd", Show::Own, "the notification fd (default: read ./notification-fd)")
            .long("notification-fd"),
        sdnotify::HELPER_FLAGS[0],
        sdnotify::HELPER_FLAGS[1],
        sdnotify::HELPER_FLAGS[2],
    ],
};

/// Exit code of the helper when prog died before notifying.
const EXIT_DIED: u8 = 1;
/// Exit code of the helper when the timeout passed.
const EXIT_TIMEOUT: u8 = 99;

/// Runs s6-notify-fd-from-socket.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut notif = None;
    let (helper_opts, prog) = sdnotify::parse_bridge(&SPEC, &args, |opt| {
        match opt.c {
            '3' => notif = Some(sdnotify::fd_arg(opt)?),
            _ => return Err(SPEC.usage_error()),
        }
        Ok(())
    })?;
    let notif =
        fd::adopt(notification_fd(notif)?).map_err(|e| Fatal::sys("adopt the notification fd", &e))?;
    let sock = Socket::new(false).map_err(|e| Fatal::sys("create and autobind an abstract socket", &e))?;
    // Kernels before 5.3 have no pidfds: the helper then learns of prog's death only
    // through the notification fd, as upstream does.
    let me = match proc::pidfd_open(proc::pid()) {
        Ok(fd) => Some(fd),
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => None,
        Err(e) => return Err(Fatal::sys("open a pidfd", &e)),
    };
    match helper_opts.fork()? {
        Fork::Parent(_) => {
            // Only the helper may write readiness; prog must not see the socket as its own.
            let value = sock.env_value();
            drop((sock, notif, me));
            Err(chainload(prog, &[(OsString::from(sdnotify::VAR), Some(value))]))
        }
        Fork::Child => {
            cli::rename_prog("s6-notify-fd-from-socket (child)");
            helper(&sock, &notif, &me, helper_opts.deadline())
        }
    }
}

/// The helper: wait for `READY=1`, prog's death, the notification fd's reader going away,
/// or the deadline.
fn helper(sock: &Socket, notif: &OwnedFd, prog: &Option<OwnedFd>, deadline: Deadline) -> Result<u8, Fatal> {
    let mut buf = vec![0u8; sdnotify::DATAGRAM_MAX];
    loop {
        // The notification fd is polled for nothing: poll still reports its errors, which
        // is how a pipe's write end learns that the supervisor closed the reading end.
        // Without a pidfd, the notification fd stands in its slot (polled for nothing).
        let (prog_fd, prog_events) = match prog {
            Some(p) => (p.as_fd(), PollFlags::POLLIN),
            None => (notif.as_fd(), PollFlags::empty()),
        };
        let mut fds = [
            PollFd::new(sock.as_fd(), PollFlags::POLLIN),
            PollFd::new(prog_fd, prog_events),
            PollFd::new(notif.as_fd(), PollFlags::empty()),
        ];
        if !sdnotify::wait(&mut fds, deadline)? {
            return Err(Fatal::new(EXIT_TIMEOUT, "timed out waiting for notification"));
        }
        let ev = |i: usize| fds[i].revents().unwrap_or(PollFlags::empty());
        let (sock_ready, died, gone) = (!ev(0).is_empty(), !ev(1).is_empty(), !ev(2).is_empty());
        if sock_ready {
            loop {
                match sock.recv(&mut buf) {
                    Ok(Message::Ready) => {
                        return match fd::write_all(notif.as_fd(), b"\n") {
                            Ok(()) => Ok(0),
                            Err(e) => Err(Fatal::sys("write to the notification fd", &e)),
                        };
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(Fatal::sys("recv", &e)),
                }
            }
        }
        if died || gone {
            return Ok(EXIT_DIED);
        }
    }
}
