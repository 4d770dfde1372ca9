//! `s6-sudod [ -0 ] [ -1 ] [ -2 ] [ -d ] [ -t timeout ] [ --audit ] args...`: the server
//! side, run by a super-server for each client with the connection on fds 0 (read) and 1
//! (write). It receives the client's fds 0, 1, 2, arguments and environment, runs
//! `args... client-args...` with them and sends back its wait status (upstream
//! doc/s6-sudod.html; FORMATS.md §6).
//!
//! As upstream 2.15: the request is checked (3 fds, lengths, caps, banner; see
//! [`crate::protocol`]) and an empty command (no server and no client arguments) is
//! refused; a client variable reaches the program only if s6-sudod's own environment has
//! that name with an empty value, and then in that variable's place; `-0`/`-1` give the
//! program /dev/null as stdin/stdout, `-2` s6-sudod's own stderr, `-d` all three and lets
//! the program run on if the client goes away; `-t` bounds the time from the banner to the
//! confirmation. While the program runs, a client that hangs up gets it SIGTERM and SIGCONT
//! and s6-sudod exits 1 without a status (without `-d`).
//!
//! A program that cannot be started is reported to the client with its errno as the
//! confirmation byte (as 2.11 did; 2.15 only closes the connection), so the client can
//! say why.
//!
//! s6-rs extensions, both before anything is spawned or after:
//!
//! * the argument policy of [`crate::policy`] (`S6RS_SUDO_ARGS_ERE`,
//!   `S6RS_SUDO_ARGS_MAX` in the environment, from the access rule): a request breaking it
//!   gets the EPERM confirmation byte, s6-sudod exits 1 and nothing is spawned;
//! * `--audit`: the audit lines of [`crate::audit`] on stderr.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use s6rs_ipc::fdpass::Receiver;
use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{PollFd, PollFlags};
use s6rs_sys::exec::{Command, Report};
use s6rs_sys::sig::Trap;

use crate::audit::{self, Client};
use crate::policy::{self, Policy};
use crate::protocol::{self, Confirmation, Request};
use crate::wire;

/// The command line: upstream's, and `--audit`.
pub const SPEC: Spec = Spec {
    name: "s6-sudod",
    operands: "args...",
    about: "Receives a client's stdin, stdout, stderr, arguments and environment from an \
            s6-sudoc on fds 0 and 1, runs args followed by the client's arguments with them, \
            and sends back its exit status.",
    doc: "s6-sudod.html",
    flags: &[
        Flag::new('0', Show::Own, "give the program /dev/null as stdin"),
        Flag::new('1', Show::Own, "give the program /dev/null as stdout"),
        Flag::new('2', Show::Own, "give the program s6-sudod's own stderr"),
        Flag::new('d', Show::Own, "detach: -0 -1 -2, and let the program run on if the client goes away"),
        Flag::arg(
            't',
            "timeout",
            Show::Own,
            "give up on a client that has not sent its request after this many ms",
        ),
        Flag::new(
            'A',
            Show::LongOnly,
            "s6-rs: log each request, its program's end and each refusal on stderr",
        )
        .long("audit"),
    ],
};

/// The options.
#[derive(Debug, Clone, Copy, Default)]
struct Opts {
    null_stdin: bool,
    null_stdout: bool,
    own_stderr: bool,
    detach: bool,
    timeout: u64,
    audit: bool,
}

fn parse(args: &[OsString]) -> Result<(Opts, &[OsString]), Fatal> {
    let mut o = Opts::default();
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next_long() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            '0' => o.null_stdin = true,
            '1' => o.null_stdout = true,
            '2' => o.own_stderr = true,
            'd' => {
                o.null_stdin = true;
                o.null_stdout = true;
                o.own_stderr = true;
                o.detach = true;
            }
            't' => o.timeout = cli::parse_uint(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?,
            'A' => o.audit = true,
            _ => return Err(SPEC.usage_error()),
        }
    }
    Ok((o, g.operands()))
}

/// The server's session with one client.
struct Session<'a> {
    opts: Opts,
    sargv: &'a [OsString],
    client: Client,
    deadline: Deadline,
}

impl Session<'_> {
    fn audit(&self, line: impl AsRef<str>) {
        if self.opts.audit {
            cli::info(line.as_ref());
        }
    }

    /// The whole command line, quoted for the audit trail.
    fn argv_text(&self, cargs: &[&[u8]]) -> String {
        let words: Vec<&[u8]> =
            self.sargv.iter().map(|a| a.as_bytes()).chain(cargs.iter().copied()).collect();
        audit::argv(&words)
    }

    /// Refuses the request: answers `reply` if given (a client that is gone by then does
    /// not matter), logs the refusal, and gives the fatal error to exit with.
    fn refuse(&self, reply: Option<u8>, cargs: &[&[u8]], fatal: Fatal) -> Fatal {
        if let Some(b) = reply {
            let _ = wire::write_all(stdout(), &[b], self.deadline);
        }
        self.audit(self.client.refused(&fatal.msg, &self.argv_text(cargs)));
        fatal
    }
}

fn stdin() -> BorrowedFd<'static> {
    s6rs_sys::fd::stdin()
}

fn stdout() -> BorrowedFd<'static> {
    s6rs_sys::fd::stdout()
}

fn eperm() -> u8 {
    libc::EPERM as u8
}

/// Runs s6-sudod.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (opts, sargv) = parse(&args)?;
    for fd in [stdin(), stdout()] {
        s6rs_sys::fd::set_nonblock(fd, true).map_err(|e| Fatal::sys("make socket non-blocking", &e))?;
    }
    let s = Session { opts, sargv, client: Client::from_env(), deadline: Deadline::from_ms(opts.timeout) };
    wire::write_all(stdout(), protocol::SERVER_BANNER, s.deadline)
        .map_err(|e| Fatal::sys("write banner to client", &e))?;
    let msg = match Receiver::new(true).receive_wait(stdin(), s.deadline) {
        Ok(Some(m)) => m,
        Ok(None) => return Err(Fatal::sys("read message from client", &epipe())),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            return Err(Fatal::sys("read message from client", &epipe()))
        }
        Err(e) => return Err(Fatal::sys("read message from client", &e)),
    };
    let req = match protocol::decode_request(&msg.data, msg.fds.len()) {
        Ok(r) => r,
        Err(e) => return Err(s.refuse(e.reply(), &[], Fatal::new(e.exit_code(), e.to_string()))),
    };
    if s.sargv.is_empty() && req.args.is_empty() {
        return Err(s.refuse(None, &[], Fatal::bad("client and server args both empty")));
    }
    let policy = match Policy::from_env() {
        Ok(p) => p,
        Err(e) => {
            return Err(s.refuse(
                Some(eperm()),
                &req.args,
                Fatal::new(1, format!("refusing every request: {e}")),
            ))
        }
    };
    if let Err(r) = policy.check(&req.args) {
        return Err(s.refuse(Some(eperm()), &req.args, Fatal::new(1, format!("request refused: {r}"))));
    }
    // Blocked before the spawn, so that the program's end cannot be missed.
    let trap = Trap::new(&[libc::SIGCHLD]).map_err(|e| Fatal::sys("trap SIGCHLD", &e))?;
    let fds = msg.fds;
    let (pid, argv_text) = spawn(&s, &req, &fds)?;
    drop(fds);
    s.audit(s.client.spawned(pid, &argv_text));
    if let Err(e) = wire::write_all(stdout(), &[Confirmation::Spawned.byte()], s.deadline) {
        // The client is gone already (or too slow): treat it as a hang-up.
        if !s.opts.detach {
            stop(pid);
            s.audit(s.client.hung_up(pid));
        }
        return Err(Fatal::sys("send confirmation to client", &e));
    }
    wait(&s, &trap, pid)
}

fn epipe() -> io::Error {
    io::Error::from_raw_os_error(libc::EPIPE)
}

/// /dev/null for the child's stdin and stdout where the options ask for it.
fn null_fds(opts: Opts) -> Result<[Option<OwnedFd>; 2], Fatal> {
    let null = |write: bool| {
        let r = if write {
            std::fs::OpenOptions::new().write(true).open("/dev/null")
        } else {
            std::fs::File::open("/dev/null")
        };
        r.map(OwnedFd::from).map_err(|e| {
            Fatal::sys(format_args!("open /dev/null for {}", if write { "writing" } else { "reading" }), &e)
        })
    };
    Ok([opts.null_stdin.then(|| null(false)).transpose()?, opts.null_stdout.then(|| null(true)).transpose()?])
}

/// Sets up the environment and starts the program; answers the client and fails if it
/// cannot start. Returns its pid and the quoted command line.
fn spawn(s: &Session<'_>, req: &Request<'_>, fds: &[OwnedFd]) -> Result<(i32, String), Fatal> {
    let nulls = null_fds(s.opts)?;
    merge_client_env(&req.env);
    // The policy is s6-sudod's business, not the program's.
    std::env::remove_var(policy::ARGS_ERE);
    std::env::remove_var(policy::ARGS_MAX);
    let argv: Vec<&OsStr> = s
        .sargv
        .iter()
        .map(OsString::as_os_str)
        .chain(req.args.iter().map(|a| OsStr::from_bytes(a)))
        .collect();
    let argv_text = s.argv_text(&req.args);
    let fail = |e: io::Error, what: String| {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        s.refuse(Some(errno as u8), &req.args, Fatal::sys(what, &e))
    };
    let name = argv[0].to_string_lossy().into_owned();
    let mut cmd = Command::new(&argv).map_err(|e| fail(e, format!("spawn {name}")))?;
    let f0 = nulls[0].as_ref().map_or(fds[0].as_fd(), AsFd::as_fd);
    let f1 = nulls[1].as_ref().map_or(fds[1].as_fd(), AsFd::as_fd);
    let f2 = if s.opts.own_stderr { s6rs_sys::fd::stderr() } else { fds[2].as_fd() };
    for (src, dst) in [(f0, 0), (f1, 1), (f2, 2)] {
        cmd.fd(src, dst).map_err(|e| fail(e, format!("spawn {name}")))?;
    }
    let pid = cmd.spawn(Report::ExecFailure).map_err(|e| fail(e, format!("spawn {name}")))?;
    Ok((pid, argv_text))
}

/// Lets client variables through where this process's environment has the name with an
/// empty value, in place (upstream's rule: the first such entry of the client's wins,
/// unless its value is empty too).
fn merge_client_env(env: &[&[u8]]) {
    for entry in env {
        let eq = entry.iter().position(|&b| b == b'=').unwrap_or(entry.len());
        let (name, value) = (&entry[..eq], &entry[(eq + 1).min(entry.len())..]);
        if name.is_empty() {
            continue;
        }
        let name = OsStr::from_bytes(name);
        if std::env::var_os(name).is_some_and(|v| v.is_empty()) {
            // s6-sudod is single-threaded and no child has started yet.
            std::env::set_var(name, OsStr::from_bytes(value));
        }
    }
}

/// SIGTERM then SIGCONT, as upstream stops a program whose client went away.
fn stop(pid: i32) {
    let _ = s6rs_sys::sig::kill(pid, libc::SIGTERM);
    let _ = s6rs_sys::sig::kill(pid, libc::SIGCONT);
}

/// Waits for the program's end, watching the client; sends the status if the client is
/// still there.
fn wait(s: &Session<'_>, trap: &Trap, pid: i32) -> Result<u8, Fatal> {
    let mut hung_up = false;
    let wstat = loop {
        let mut fds =
            [PollFd::new(trap.as_fd(), PollFlags::POLLIN), PollFd::new(stdin(), PollFlags::empty())];
        let n = if hung_up { 1 } else { 2 };
        s6rs_sys::event::poll(&mut fds[..n], Deadline::Never).map_err(|e| Fatal::sys("iopause", &e))?;
        let child = fds[0].revents().is_some_and(|r| !r.is_empty());
        let client = n == 2 && fds[1].revents().is_some_and(|r| !r.is_empty());
        if child {
            while trap.next().map_err(|e| Fatal::sys("read signal", &e))?.is_some() {}
            if let Some(w) = s6rs_sys::exec::try_wait(pid).map_err(|e| Fatal::sys("wait_pid_nohang", &e))? {
                hung_up |= client;
                break w.0;
            }
        }
        if client {
            hung_up = true;
            if !s.opts.detach {
                stop(pid);
                s.audit(s.client.hung_up(pid));
                return Ok(1);
            }
        }
    };
    s.audit(s.client.ended(pid, wstat));
    if !hung_up {
        s6rs_sys::fd::set_nonblock(stdout(), false).map_err(|e| Fatal::sys("set stdout blocking", &e))?;
        s6rs_sys::fd::write_all(stdout(), &protocol::pack_status(wstat))
            .map_err(|e| Fatal::sys("write status to client", &e))?;
    }
    Ok(0)
}
