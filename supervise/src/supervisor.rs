//! The s6-supervise state machine (upstream doc/s6-supervise.html, doc/servicedir.html):
//! one service, five states, driven by timeouts, child deaths, signals to the supervisor and
//! control bytes. `cmd::supervise` sets the service directory up and hands over to
//! [`Supervisor::run`]. Control bytes are decoded through the alphabet table in
//! [`crate::control`]; what each does in each state is an explicit (state, command) table
//! beside the (state, event) one.
//!
//! The process's current directory is the service directory, so every path here is relative
//! to it. Configuration files are read when a transition needs them, never cached, so an
//! edit applies at the next start, stop or death; garbage in one is reported and the default
//! is used, so a typo never takes the supervisor down.
//!
//! Memory: the loop itself reads into stack buffers and allocates nothing; transitions (a
//! spawn, a death, a status write, an event) allocate briefly and free everything again.
//!
//! Where this differs from upstream 2.15.1, on purpose:
//! * the first status write has `paused = 0`, as 2.11 writes it (2.15's "not started yet"
//!   marker reads as "paused" to 2.11's s6-svstat);
//! * `Q` is honoured, as in 2.11 and 2.13-2.15.0 (2.15.1 ignores it by mistake);
//! * `lock-fd`: instead of running `s6-setlock -d FD -- supervise/service-lock ./run NAME`,
//!   the forked child opens the lock file at FD, waits for the lock, then execs `./run NAME`.
//!   Same lock, same blocking child, no dependency on a helper binary. Until it gets the lock
//!   that child still holds copies of our close-on-exec fds (harmless: they are ours);
//! * a `notification-fd` or `lock-fd` of 0 or beyond RLIMIT_NOFILE is reported and ignored
//!   (2.15 reports it and uses it anyway);
//! * `./finish` gets `./finish` as argv\[0\] (upstream: `finish`).
//!
//! One s6-rs extension: a `notify-socket` file gives `./run` a `NOTIFY_SOCKET` whose
//! `READY=1` is a readiness notification ([`crate::sdnotify`] documents it). The socket
//! exists only while `./run` runs, and only with the file.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use s6rs_sys::cli::{warn, warn_sys, Fatal, EXIT_BUG};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{EventLoop, Watch};
use s6rs_sys::exec::{Command, Report, WaitStatus};
use s6rs_sys::sig::{self, Trap};
use s6rs_sys::tai::Tain;

use crate::control::{self, Signal};
use crate::dtally;
use crate::fifodir;
use crate::sdnotify::{self, Message};
use crate::servicedir::{self, Setting};
use crate::svstatus::Status;

/// Where the service stands. The `Last*` states are the same as their plain twins, except
/// that the supervisor exits once the service is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Nothing runs.
    Down,
    /// `./run` runs.
    Up,
    /// `./finish` runs.
    Finish,
    /// `./run` runs and the supervisor exits after it (and `./finish`) end.
    LastUp,
    /// `./finish` runs and the supervisor exits when it ends.
    LastFinish,
}

/// What drives the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// The current deadline passed.
    Timeout,
    /// The process in `status.pid` (`./run` or `./finish`) died with this wait status.
    Died(i32),
    /// SIGTERM: like `s6-svc -dx`.
    Term,
    /// SIGHUP: like `s6-svc -x`.
    Hup,
    /// SIGQUIT: exit now, leave the service alone.
    Quit,
    /// SIGINT: SIGINT to the service's process group, then exit.
    Int,
    /// A control byte.
    Cmd(control::Command),
}

/// Default `timeout-finish`, in milliseconds.
const FINISH_TIMEOUT_MS: u64 = 5000;
/// Delay before retrying after a failed spawn (2.15; 2.11 used 10 s for `./run`).
const RETRY: Duration = Duration::from_secs(60);
/// Minimum time between two automatic starts of `./run`.
const PACE: Duration = Duration::from_secs(1);
/// Period of the SIGKILLs after `timeout-kill` or `timeout-finish` ran out.
const REKILL: Duration = Duration::from_secs(5);

// The event-loop tokens, numbered from 0: the main loop reads them back in this order
// (`wait_tokens`).
const TOKEN_SIG: usize = 0;
const TOKEN_CTL: usize = 1;
const TOKEN_NOTIFY: usize = 2;
const TOKEN_SDNOTIFY: usize = 3;

const LOCK_FILE: &str = "supervise/service-lock";

/// The fds the supervisor holds for its whole life.
#[derive(Debug)]
pub(crate) struct Fds {
    /// `supervise/lock`, write-locked: what "supervised" means. Never opened elsewhere in
    /// this process, since closing any fd of a POSIX-locked file drops the lock.
    pub _lock: File,
    /// The read end of `supervise/control`.
    pub control: File,
    /// Our own write end of `supervise/control`, so reads never see EOF.
    pub _control_w: File,
    /// The signalfd for CHLD TERM HUP QUIT INT.
    pub trap: Trap,
}

/// One supervisor: the published status plus what is needed to move it along.
#[derive(Debug)]
pub(crate) struct Supervisor {
    name: OsString,
    maxfd: u64,
    fds: Fds,
    lp: EventLoop,
    status: Status,
    state: State,
    deadline: Deadline,
    /// Earliest restart when the service became ready (ready time + 1 s).
    nextstart: Option<Instant>,
    /// A `d` armed `timeout-kill`: the next timeout kills.
    dying: bool,
    /// False once the supervisor should exit.
    cont: bool,
    /// The read end of the readiness pipe while `./run` may still notify.
    notify: Option<OwnedFd>,
    /// The service's `NOTIFY_SOCKET` while `./run` runs, with a `notify-socket` file.
    sdnotify: Option<sdnotify::Socket>,
}

impl Supervisor {
    /// A supervisor for the service in the current directory, named `name` (the argument
    /// s6-supervise got, passed on to `./run` and `./finish`). `maxfd` is RLIMIT_NOFILE.
    pub(crate) fn new(name: OsString, maxfd: u64, fds: Fds, wantup: bool) -> io::Result<Supervisor> {
        let lp = EventLoop::new(4)?;
        lp.add(fds.trap.as_fd(), TOKEN_SIG, Watch::Read)?;
        lp.add(fds.control.as_fd(), TOKEN_CTL, Watch::Read)?;
        let now = Tain::now();
        // 2.15 writes paused=1 here as a "not started yet" marker; 2.11's s6-svstat would
        // print that as paused, so we write what 2.11 writes.
        let status = Status { stamp: now, readystamp: now, wantup, ready: true, ..Status::default() };
        Ok(Supervisor {
            name,
            maxfd,
            fds,
            lp,
            status,
            state: State::Down,
            deadline: Deadline::At(Instant::now()),
            nextstart: None,
            dying: false,
            cont: true,
            notify: None,
            sdnotify: None,
        })
    }

    /// Publishes the first status, sends `s`, and runs until told to exit; sends `x` last.
    pub(crate) fn run(mut self) -> Result<(), Fatal> {
        self.announce();
        self.event(b"s");
        while self.cont {
            s6rs_sys::proc::release_free_memory();
            let [sig, ctl, notif, sdnotif] =
                self.lp.wait_tokens(self.deadline).map_err(|e| Fatal::sys("wait for events", &e))?;
            if notif && self.notify.is_some() {
                self.on_notify();
            }
            if sdnotif && self.sdnotify.is_some() {
                self.on_sdnotify();
            }
            if sig {
                self.on_signals()?;
            }
            if ctl && self.cont {
                self.on_control()?;
            }
            if self.cont && self.deadline.passed() {
                self.dispatch(Event::Timeout)?;
            }
        }
        self.event(b"x");
        Ok(())
    }

    /// Drains the signalfd: reaps children and turns signals into events. Stops once the
    /// supervisor has decided to exit: after SIGINT has gone to the service's group, the
    /// service's death may already be pending, and handling it would report a transition and
    /// start `./finish` on the way out.
    fn on_signals(&mut self) -> Result<(), Fatal> {
        while self.cont {
            let s = match self.fds.trap.next() {
                Ok(Some(s)) => s,
                Ok(None) => return Ok(()),
                Err(e) => return Err(Fatal::sys("read signals", &e)),
            };
            let ev = match s {
                libc::SIGCHLD => {
                    self.reap()?;
                    continue;
                }
                libc::SIGTERM => Event::Term,
                libc::SIGHUP => Event::Hup,
                libc::SIGQUIT => Event::Quit,
                libc::SIGINT => Event::Int,
                _ => {
                    return Err(Fatal::new(
                        EXIT_BUG,
                        "internal error: inconsistent signal state. Please submit a bug-report.",
                    ))
                }
            };
            self.dispatch(ev)?;
        }
        Ok(())
    }

    /// Reaps every dead child; the death of the one in `status.pid` drives the machine
    /// (unless the supervisor is on its way out).
    fn reap(&mut self) -> Result<(), Fatal> {
        while self.cont {
            match s6rs_sys::exec::reap() {
                Ok(None) => return Ok(()),
                Ok(Some((pid, ws))) => {
                    if pid != 0 && pid as u64 == self.status.pid {
                        self.dispatch(Event::Died(ws.0))?;
                    }
                }
                Err(e) => return Err(Fatal::sys("wait for children", &e)),
            }
        }
        Ok(())
    }

    /// Reads control bytes until the fifo is empty and applies each in order.
    fn on_control(&mut self) -> Result<(), Fatal> {
        let mut buf = [0u8; 64];
        loop {
            let n = match s6rs_sys::fd::read(self.fds.control.as_fd(), &mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(Fatal::sys("read supervise/control", &e)),
            };
            for &b in &buf[..n] {
                if let Some(c) = control::Command::from_byte(b) {
                    self.dispatch(Event::Cmd(c))?;
                }
            }
        }
    }

    /// Reads the readiness pipe: a chunk holding a newline means ready; then (or at EOF, or
    /// on error) the pipe is closed.
    fn on_notify(&mut self) {
        let mut buf = [0u8; 512];
        loop {
            let Some(fd) = self.notify.as_ref() else { return };
            match s6rs_sys::fd::read(fd.as_fd(), &mut buf) {
                Ok(n) if n > 0 && !buf[..n].contains(&b'\n') => continue,
                Ok(n) if n > 0 => self.became_ready(),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                _ => self.close_notify(),
            }
        }
    }

    /// Reads the service's `NOTIFY_SOCKET` dry: the first `READY=1` from the service's
    /// process group makes it ready, the rest is dropped. Never inlined: its 8 KiB buffer
    /// would otherwise sit in the main loop's frame, whose stack probe would touch those
    /// pages in every supervisor, with the file or without.
    #[inline(never)]
    fn on_sdnotify(&mut self) {
        let mut buf = [0u8; sdnotify::DATAGRAM_MAX];
        let pgid = self.status.pid as i32;
        loop {
            let Some(sock) = self.sdnotify.as_mut() else { return };
            match sock.recv_from(&mut buf, pgid) {
                // The socket lives only while `./run` does, so not ready means not yet.
                Ok(Some(Message::Ready)) if !self.status.ready => self.became_ready(),
                Ok(Some(Message::Oversized)) => warn(format_args!(
                    "ignoring a NOTIFY_SOCKET datagram of more than {} bytes",
                    sdnotify::DATAGRAM_MAX
                )),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    // Not expected on a datagram socket; stop reading it rather than spin.
                    warn_sys("read the notify socket", &e);
                    self.close_sdnotify();
                }
            }
        }
    }

    /// The service said it is ready (once per run, by either channel): the readiness
    /// pipe is no longer needed.
    fn became_ready(&mut self) {
        self.nextstart = Some(Instant::now() + PACE);
        self.status.readystamp = Tain::now();
        self.status.ready = true;
        self.announce();
        self.event(b"U");
        self.close_notify();
    }

    /// The transition table: every (state, event) cell.
    pub(crate) fn dispatch(&mut self, ev: Event) -> Result<(), Fatal> {
        use State::*;
        let st = self.state;
        match (st, ev) {
            (Down, Event::Timeout) => {
                if self.status.wantup {
                    self.try_start();
                } else {
                    self.deadline = Deadline::Never;
                }
            }
            (Up | LastUp, Event::Timeout) => self.up_timeout(),
            (Finish | LastFinish, Event::Timeout) => self.finish_timeout(),

            (Down, Event::Died(_)) => {
                return Err(Fatal::new(
                    EXIT_BUG,
                    "internal error: a death while down. Please submit a bug-report.",
                ))
            }
            (Up, Event::Died(ws)) => {
                self.status.wstat = ws as u16;
                if self.run_died(ws) {
                    self.state = Finish;
                }
            }
            (LastUp, Event::Died(ws)) => {
                self.status.wstat = ws as u16;
                if self.run_died(ws) {
                    self.state = LastFinish;
                } else {
                    self.cont = false;
                }
            }
            (Finish, Event::Died(ws)) => self.finish_died(ws),
            (LastFinish, Event::Died(ws)) => {
                self.finish_died(ws);
                self.cont = false;
            }

            (Down, Event::Term | Event::Hup | Event::Int) | (_, Event::Quit) => self.cont = false,
            (Up, Event::Term) => {
                self.state = LastUp;
                self.up_down();
            }
            (LastUp, Event::Term) => self.up_down(),
            (Finish, Event::Term) => self.enter_last(LastFinish),
            (LastFinish, Event::Term) => {}
            (Up, Event::Hup) => self.enter_last(LastUp),
            (Finish, Event::Hup) => self.enter_last(LastFinish),
            (LastUp | LastFinish, Event::Hup) => close_stdio(),
            (Up | LastUp | Finish | LastFinish, Event::Int) => {
                self.killpg(libc::SIGINT);
                self.cont = false;
            }

            (_, Event::Cmd(c)) => self.command(c)?,
        }
        Ok(())
    }

    /// The control-byte columns of the table: what each command does in each state. Any
    /// command may come in any state, so no cell is impossible; the empty ones ignore the
    /// command on purpose. Signals reach the service only while `./run` runs: while down
    /// nothing runs, and `./finish` is not the service.
    fn command(&mut self, c: control::Command) -> Result<(), Fatal> {
        use control::Command as C;
        use State::*;
        // The commands that only send their fixed signal: one pattern for the two rows that
        // list them, so the match stays exhaustive without a catch-all.
        macro_rules! plain_signal {
            () => {
                C::Alarm
                    | C::Abort
                    | C::Quit
                    | C::Hup
                    | C::Kill
                    | C::Term
                    | C::Int
                    | C::Usr1
                    | C::Usr2
                    | C::Winch
                    | C::GroupKill
            };
        }
        match (self.state, c) {
            (
                Down | Finish | LastFinish,
                plain_signal!() | C::Pause | C::Cont | C::Restart | C::Reload | C::GroupPause | C::GroupCont,
            ) => {}
            (Up | LastUp, plain_signal!()) => self.signal(c)?,
            (Up | LastUp, C::Pause | C::GroupPause) => {
                self.signal(c)?;
                self.status.paused = true;
                self.announce();
            }
            (Up | LastUp, C::Cont | C::GroupCont) => {
                self.signal(c)?;
                self.status.paused = false;
                self.announce();
            }
            (Up | LastUp, C::Restart) => {
                let s = self.read_signal("down-signal", libc::SIGTERM);
                self.kill(s);
            }
            (Up | LastUp, C::Reload) => {
                let s = self.read_signal("reload-signal", libc::SIGHUP);
                self.kill(s);
            }

            (Down, C::Once) => {
                self.want(false);
                self.try_start();
            }
            (Up | LastUp | Finish | LastFinish, C::Once) => self.want(false),
            (Down, C::Up) => {
                self.want(true);
                self.try_start();
            }
            (Up | LastUp | Finish | LastFinish, C::Up) => self.want(true),
            (Down, C::UpFile) => {
                del_down();
                self.want(true);
                self.try_start();
            }
            (Up | LastUp | Finish | LastFinish, C::UpFile) => {
                del_down();
                self.want(true);
            }
            (Up | LastUp, C::Down) => self.up_down(),
            (Down | Finish | LastFinish, C::Down) => self.want(false),
            (Up | LastUp, C::DownFile) => {
                add_down();
                self.up_down();
            }
            (Down | Finish | LastFinish, C::DownFile) => {
                add_down();
                self.want(false);
            }
            (Down | Up | LastUp | Finish | LastFinish, C::NoRestart) => self.want(false),
            (Down | Up | LastUp | Finish | LastFinish, C::NoRestartFile) => {
                add_down();
                self.want(false);
            }

            (Down, C::Exit) => self.cont = false,
            (Up, C::Exit) => self.enter_last(LastUp),
            (Finish, C::Exit) => self.enter_last(LastFinish),
            (LastUp | LastFinish, C::Exit) => close_stdio(),
        }
        Ok(())
    }

    /// Sends command `c`'s fixed signal (`control`'s table) to the service or its process
    /// group. Only the cells of the fixed-signal commands call it.
    fn signal(&self, c: control::Command) -> Result<(), Fatal> {
        match c.signal() {
            Some(Signal { number, group: false }) => self.kill(number),
            Some(Signal { number, group: true }) => self.killpg(number),
            None => {
                return Err(Fatal::new(
                    EXIT_BUG,
                    "internal error: a signal command without a signal. Please submit a bug-report.",
                ))
            }
        }
        Ok(())
    }

    /// Enters a `Last*` state: the supervisor will exit, so it lets go of its stdin and
    /// stdout now and the last `./finish` runs on /dev/null.
    fn enter_last(&mut self, st: State) {
        self.state = st;
        close_stdio();
    }

    /// Starts `./run`, or arranges to retry.
    fn try_start(&mut self) {
        let mut cmd = match Command::new(&[OsStr::new("./run"), &self.name]) {
            Ok(c) => c,
            Err(e) => return self.start_failed("prepare ./run", &e),
        };
        cmd.setsid();
        if self.check_flag("flag-newpidns") {
            cmd.new_pid_ns();
        }
        let lockfd = self.read_fd("lock-fd");
        if let Some(fd) = lockfd {
            if let Err(e) = prepare_service_lock() {
                return self.start_failed(&format!("open {LOCK_FILE} for writing"), &e);
            }
            // 2.15 runs `s6-setlock -d FD -- supervise/service-lock ./run NAME`; our child
            // takes the same lock itself before exec, so no helper program is needed.
            if let Err(e) = cmd.lock_at(Path::new(LOCK_FILE), fd as i32) {
                return self.start_failed("prepare ./run", &e);
            }
        }
        let mut pipe_w = None;
        let mut pipe_r = None;
        if let Some(fd) = self.read_fd("notification-fd") {
            if Some(fd) == lockfd {
                // Nothing will change until a command comes: do not spin on retries.
                self.deadline = Deadline::Never;
                warn("unable to start service: notification-fd and lock-fd are the same");
                return;
            }
            let made = s6rs_sys::fd::pipe().and_then(|(r, w)| {
                s6rs_sys::fd::set_nonblock(r.as_fd(), true)?;
                cmd.fd(w.as_fd(), fd as i32)?;
                Ok((r, w))
            });
            match made {
                Ok((r, w)) => {
                    pipe_r = Some(r);
                    pipe_w = Some(w);
                }
                Err(e) => return self.start_failed("create notification pipe", &e),
            }
        }
        let mut sock = None;
        if self.notify_socket_wanted() {
            let made = sdnotify::Socket::new(true)
                .and_then(|s| cmd.env(&[(OsString::from(sdnotify::VAR), Some(s.env_value()))]).map(|_| s));
            match made {
                Ok(s) => sock = Some(s),
                Err(e) => return self.start_failed("create the notify socket", &e),
            }
        }
        // The supervisor must not wait for the exec (that would delay the `u` event, and
        // s6-svc -wu, by the exec), but a ./run that is missing or not executable is its
        // error, with the warning and the 60-second retry; an exec that fails later (a bad
        // interpreter) shows as ./run dying with 126 or 127, as in s6 2.11.
        let msg = format!("{}: warning: unable to spawn ./run: ", s6rs_sys::cli::prog());
        let spawned = cmd.spawn(Report::Missing(msg.as_bytes()));
        let pid = match spawned {
            Ok(pid) => pid,
            Err(e) => return self.start_failed("spawn ./run", &e),
        };
        drop(cmd);
        drop(pipe_w);
        if let Some(r) = pipe_r {
            match self.lp.add(r.as_fd(), TOKEN_NOTIFY, Watch::Read) {
                Ok(()) => self.notify = Some(r),
                Err(e) => warn_sys("watch the notification pipe", &e),
            }
        }
        if let Some(s) = sock {
            match self.lp.add(s.as_fd(), TOKEN_SDNOTIFY, Watch::Read) {
                Ok(()) => self.sdnotify = Some(s),
                Err(e) => warn_sys("watch the notify socket", &e),
            }
        }
        self.deadline = Deadline::Never;
        self.nextstart = None;
        self.state = State::Up;
        self.status.pid = pid as u64;
        self.status.ready = false;
        self.status.stamp = Tain::now();
        self.announce();
        self.event(b"u");
    }

    fn start_failed(&mut self, what: &str, e: &io::Error) {
        self.deadline = Deadline::after(RETRY);
        warn_sys(format_args!("{what} (waiting 60 seconds)"), e);
    }

    /// `./run` died (its wait status is already in `status.wstat`): record the death and
    /// spawn `./finish`. False when there is no finish and the service is down already.
    fn run_died(&mut self, wstat: i32) -> bool {
        let dead = self.status.pid;
        self.status.paused = false;
        self.status.ready = false;
        self.dying = false;
        self.status.stamp = Tain::now();
        self.close_notify();
        self.close_sdnotify();

        let n = self
            .read_uint("max-death-tally")
            .map_or(dtally::DEFAULT_MAX, |n| n.min(dtally::MAX as u64) as usize);
        if n > 0 {
            let death = dtally::Death::from_wstat(self.status.stamp, wstat);
            if let Err(e) = dtally::append(Path::new("."), death, n) {
                warn_sys("write supervise/death_tally", &e);
            }
        }

        let ws = WaitStatus(wstat);
        let code = if ws.signal().is_some() { 256 } else { ws.exit_code().unwrap_or(0) };
        // Upstream passes WTERMSIG unconditionally, which is 0 after a normal exit.
        let signum = wstat & 0x7f;
        let args = [
            OsString::from("./finish"),
            OsString::from(code.to_string()),
            OsString::from(signum.to_string()),
            self.name.clone(),
            OsString::from(dead.to_string()),
        ];
        let spawned = Command::new(&args).and_then(|mut c| c.setsid().spawn(Report::ExecFailure));
        match spawned {
            Ok(pid) => {
                let ms = self.read_uint("timeout-finish").unwrap_or(FINISH_TIMEOUT_MS);
                self.deadline = Deadline::from_ms(ms);
                self.status.finishing = true;
                self.status.pid = pid as u64;
                self.announce();
                self.event(b"d");
                true
            }
            Err(e) => {
                if e.raw_os_error() != Some(libc::ENOENT) {
                    warn_sys("spawn ./finish", &e);
                }
                self.down_and_ready(b"dD");
                false
            }
        }
    }

    /// `./finish` ended: down and ready; exit code 125 means "do not restart".
    fn finish_died(&mut self, wstat: i32) {
        if WaitStatus(wstat).exit_code() == Some(125) {
            self.status.wantup = false;
            self.down_and_ready(b"OD");
        } else {
            self.down_and_ready(b"D");
        }
    }

    fn down_and_ready(&mut self, ev: &[u8]) {
        self.status.pid = 0;
        self.status.finishing = false;
        self.status.ready = true;
        self.state = State::Down;
        self.deadline = Deadline::At(self.nextstart.unwrap_or_else(|| Instant::now() + PACE));
        self.status.readystamp = Tain::now();
        self.announce();
        self.event(ev);
    }

    /// `d` while the service runs: down signal, CONT, and arm `timeout-kill`.
    fn up_down(&mut self) {
        self.status.wantup = false;
        let s = self.read_signal("down-signal", libc::SIGTERM);
        self.kill(s);
        self.cont_service();
        match self.read_uint("timeout-kill").unwrap_or(0) {
            0 => self.deadline = Deadline::Never,
            ms => {
                self.deadline = Deadline::from_ms(ms);
                self.dying = true;
            }
        }
    }

    fn up_timeout(&mut self) {
        if !self.dying {
            self.deadline = Deadline::Never;
            warn("can't happen: timeout while the service is up!");
            return;
        }
        if self.check_flag("flag-timeout-killpg") {
            self.killpg(libc::SIGKILL);
            self.cont_group();
        } else {
            self.kill(libc::SIGKILL);
            self.cont_service();
        }
        self.deadline = Deadline::after(REKILL);
    }

    fn finish_timeout(&mut self) {
        warn("finish script lifetime reached maximum value - sending it a SIGKILL");
        self.cont_service();
        self.kill(libc::SIGKILL);
        self.deadline = Deadline::after(REKILL);
    }

    fn want(&mut self, up: bool) {
        self.status.wantup = up;
        self.announce();
    }

    fn cont_service(&mut self) {
        self.kill(libc::SIGCONT);
        self.status.paused = false;
        self.announce();
    }

    fn cont_group(&mut self) {
        self.killpg(libc::SIGCONT);
        self.status.paused = false;
        self.announce();
    }

    /// Signals the process in `status.pid`. Never pid 0: that would be our own group.
    fn kill(&self, s: i32) {
        if self.status.pid != 0 {
            let _ = sig::kill(self.status.pid as i32, s);
        }
    }

    /// Signals the process group led by `status.pid` (every child is a session leader).
    fn killpg(&self, s: i32) {
        if self.status.pid != 0 {
            let _ = sig::kill(-(self.status.pid as i32), s);
        }
    }

    fn close_notify(&mut self) {
        if let Some(fd) = self.notify.take() {
            let _ = self.lp.remove(fd.as_fd());
        }
    }

    fn close_sdnotify(&mut self) {
        if let Some(s) = self.sdnotify.take() {
            let _ = self.lp.remove(s.as_fd());
        }
    }

    /// Whether `./run` gets a `NOTIFY_SOCKET`: a `notify-socket` file that is there and
    /// valid; a bad one is reported and the service runs without.
    fn notify_socket_wanted(&self) -> bool {
        match sdnotify::setting(Path::new(".")) {
            Ok(Setting::Value(())) => true,
            Ok(Setting::Absent) => false,
            Ok(Setting::Invalid(_)) => {
                warn(format_args!("invalid {} (it must be empty)", sdnotify::FILE));
                false
            }
            Err(e) => {
                warn_sys(format_args!("read {}", sdnotify::FILE), &e);
                false
            }
        }
    }

    fn announce(&self) {
        if let Err(e) = self.status.write(Path::new(".")) {
            warn_sys("write status file", &e);
        }
    }

    fn event(&self, ev: &[u8]) {
        // Like upstream, a missing or broken event/ only costs the listeners their events.
        let _ = fifodir::notify(Path::new("event"), ev);
    }

    fn read_uint(&self, name: &str) -> Option<u64> {
        match servicedir::uint(Path::new("."), name) {
            Ok(Setting::Value(n)) => Some(n),
            Ok(Setting::Absent) => None,
            Ok(Setting::Invalid(_)) => {
                warn(format_args!("invalid {name}"));
                None
            }
            Err(e) => {
                warn_sys(format_args!("open {name}"), &e);
                None
            }
        }
    }

    /// A file holding an fd number for the child: 0 and numbers past RLIMIT_NOFILE are
    /// rejected with a warning (2.15 warns about them and goes on using them).
    fn read_fd(&self, name: &str) -> Option<u64> {
        let n = self.read_uint(name)?;
        if n == 0 || n >= self.maxfd {
            warn(format_args!("invalid {name}"));
            return None;
        }
        Some(n)
    }

    fn read_signal(&self, name: &str, default: i32) -> i32 {
        match servicedir::signal(Path::new("."), name) {
            Ok(Setting::Value(s)) => s,
            Ok(Setting::Absent) => default,
            Ok(Setting::Invalid(_)) => {
                warn(format_args!("invalid {name}"));
                default
            }
            Err(e) => {
                warn_sys(format_args!("open {name}"), &e);
                default
            }
        }
    }

    fn check_flag(&self, name: &str) -> bool {
        servicedir::flag(Path::new("."), name).unwrap_or_else(|e| {
            warn_sys(format_args!("access {name}"), &e);
            false
        })
    }
}

/// Creates or truncates `supervise/service-lock` and warns when a previous copy of the
/// service still holds it (the new one will wait for it).
fn prepare_service_lock() -> io::Result<()> {
    let f = s6rs_sys::fd::open_trunc(Path::new(LOCK_FILE))?;
    if s6rs_sys::lock::is_locked(f.as_fd())? {
        warn("another instance of the service is already running, child will block");
    }
    Ok(())
}

fn add_down() {
    if let Err(e) = std::fs::write("down", b"") {
        warn_sys("create ./down file", &e);
    }
}

fn del_down() {
    match std::fs::remove_file("down") {
        Err(e) if e.kind() != io::ErrorKind::NotFound => warn_sys("unlink ./down file", &e),
        _ => {}
    }
}

/// Points our stdin and stdout at /dev/null, so that whoever reads our output sees EOF
/// when we exit, not when the service's last descendant does.
fn close_stdio() {
    match File::open("/dev/null") {
        Ok(f) => {
            if let Err(e) = s6rs_sys::fd::dup_to(f.as_fd(), 0) {
                warn_sys("open /dev/null for reading", &e);
            }
        }
        Err(e) => warn_sys("open /dev/null for reading", &e),
    }
    match std::fs::OpenOptions::new().write(true).open("/dev/null") {
        Ok(f) => {
            if let Err(e) = s6rs_sys::fd::dup_to(f.as_fd(), 1) {
                warn_sys("open /dev/null for writing", &e);
            }
        }
        Err(e) => warn_sys("open /dev/null for writing", &e),
    }
}
