//! `s6-ipcserverd [ -1 ] [ -v verbosity ] [ -P | -p ] [ -c maxconn ] [ -C localmaxconn ] prog...`:
//! accept clients on the listening Unix socket that is fd 0 and spawn `prog...` for each,
//! with the connection as its fds 0 and 1 and the UCSPI variables in its environment
//! (upstream doc/s6-ipcserverd.html; FORMATS.md §9 and §11 for the 2.15 details).
//!
//! One thread, one epoll loop over the listening socket and a signalfd. Connection tables
//! are sized once from `-c`; while they are full the listener is taken out of the loop, so
//! new clients wait in the kernel backlog. Handlers are started vfork-style, sharing our
//! memory, but without waiting for their exec (`sys::exec::Spawner` with
//! `Report::ByChild`): waiting for the exec, as posix_spawn does, would
//! hold the server until each exec is done, which under concurrent clients cost about a
//! quarter of the throughput on a 2-core machine, and a fork copies page tables and leaves
//! copy-on-write faults behind. So a handler that cannot be exec'd reports it itself, with
//! the warning upstream's server prints (`unable to spawn PROG: ...`), and ends with 127 or
//! 126.
//!
//! A caller may pass a [`ConnCheck`] to [`serve`]: it runs for each client before the spawn
//! (the in-process form of a chained s6-ipcserver-access).
//!
//! This module has no `run`: the s6-ipcserverd binary is a composition in the root package
//! that may add options of its own in front of upstream's, parses the rest with [`parse`],
//! and hands its check to [`serve`]. Nothing here knows those options.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{EventLoop, Watch};
use s6rs_sys::exec::{Command, EnvMod, Report, Spawner};
use s6rs_sys::sig::{self, Trap};

use crate::check::{ConnCheck, Peer, Verdict};
use s6rs_sys::socket::{self, Creds, SockPath};

/// Upstream's options, in usage-line order (a composed s6-ipcserverd may add its own).
pub const FLAGS: [Flag; 6] = [
    Flag::arg('v', "verbosity", Show::Own, "0 quiet, 1 warnings (the default), 2 every connection"),
    Flag::new('1', Show::Own, "write a newline to stdout and close it once accepting clients"),
    Flag::new('P', Show::Own, "do not look up client credentials"),
    Flag::new('p', Show::Or, "look up client credentials (the default)"),
    Flag::arg('c', "maxconn", Show::Own, "serve at most this many clients at once (default 40)"),
    Flag::arg(
        'C',
        "localmaxconn",
        Show::Own,
        "serve at most this many clients of one uid at once (default 40)",
    ),
];

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-ipcserverd",
    operands: "prog...",
    about: "Accepts clients on the listening Unix socket that is its stdin and runs prog for \
            each, with the connection on prog's stdin and stdout.",
    doc: "s6-ipcserverd.html",
    flags: &FLAGS,
};

/// The largest `-c` (2.15; 2.11 capped it at 1000).
pub const MAXCONN_CAP: u32 = 16384;

/// How long to stop accepting after running out of fds or memory: the pending client stays
/// in the backlog, and a level-triggered loop would spin on it.
const ACCEPT_BACKOFF_MS: u64 = 100;

const TOKEN_SIG: usize = 0;
const TOKEN_LISTEN: usize = 1;

/// s6-ipcserverd's settings, once parsed and clamped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-1`: write a newline to fd 1 and close it once ready.
    pub ready: bool,
    /// `-v`: 0 quiet, 1 warnings (the default), 2 every connection.
    pub verbosity: u32,
    /// `-p` (the default) / `-P`: look up client credentials.
    pub lookup: bool,
    /// `-c`: concurrent connections, 1..=[`MAXCONN_CAP`] (default 40).
    pub maxconn: u32,
    /// `-C`: connections per uid, at most `maxconn` (equal to it under `-P`).
    pub localmaxconn: u32,
    /// The handler's command line.
    pub argv: Vec<OsString>,
}

/// Parses the command line (without argv\[0\]) and applies upstream's clamping.
pub fn parse(args: &[OsString]) -> Result<Options, Fatal> {
    let mut o =
        Options { ready: false, verbosity: 1, lookup: true, maxconn: 40, localmaxconn: 40, argv: Vec::new() };
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        let num = || cli::parse_uint::<u32>(opt.arg_str()).ok_or_else(|| SPEC.usage_error());
        match opt.c {
            'P' => o.lookup = false,
            'p' => o.lookup = true,
            '1' => o.ready = true,
            'c' => o.maxconn = num()?,
            'C' => o.localmaxconn = num()?,
            'v' => o.verbosity = num()?,
            _ => return Err(SPEC.usage_error()),
        }
    }
    o.argv = g.operands().to_vec();
    if o.argv.first().filter(|a| !a.is_empty()).is_none() {
        return Err(SPEC.usage_error());
    }
    o.maxconn = o.maxconn.clamp(1, MAXCONN_CAP);
    if !o.lookup || o.localmaxconn > o.maxconn {
        o.localmaxconn = o.maxconn;
    }
    Ok(o)
}

/// Serves clients on fd 0 until a signal says to stop; `check`, if given, decides on each
/// client before its handler is spawned. Returns the exit code (0).
pub fn serve(o: &Options, check: Option<&mut dyn ConnCheck>) -> Result<u8, Fatal> {
    // fd 0 is only borrowed here; it is checked below and never closed.
    let listener = s6rs_sys::fd::stdin();
    match socket::is_socket(listener) {
        Ok(true) => {}
        Ok(false) => return Err(Fatal::bad("stdin is not a socket")),
        Err(e) => return Err(Fatal::sys("fstat stdin", &e)),
    }
    s6rs_sys::fd::set_cloexec(listener, true).map_err(|e| Fatal::sys("make socket close-on-exec", &e))?;
    let stdout = if o.ready {
        let fd = s6rs_sys::fd::adopt(1).map_err(|e| {
            Fatal::new(
                cli::EXIT_USAGE,
                format!("called with option -1 but stdout said: {}", cli::errtext(&e)),
            )
        })?;
        Some(fd)
    } else {
        // Handlers must not inherit our stdout: the connection is theirs.
        drop(s6rs_sys::fd::adopt(1));
        None
    };
    sig::ignore(libc::SIGPIPE).map_err(|e| Fatal::sys("ignore SIGPIPE", &e))?;
    let trap = Trap::new(&[libc::SIGCHLD, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGABRT])
        .map_err(|e| Fatal::sys("trap signals", &e))?;
    let mut lp = EventLoop::new(4).map_err(|e| Fatal::sys("create event loop", &e))?;
    lp.add(trap.as_fd(), TOKEN_SIG, Watch::Read).map_err(|e| Fatal::sys("register signalfd", &e))?;
    let mut s = Server::new(o, check);
    if o.verbosity >= 2 {
        cli::info("starting");
        s.log_status();
    }
    if let Some(fd) = stdout {
        // A reader that went away is its problem, not a reason to stop serving.
        let _ = s6rs_sys::fd::write_all(fd.as_fd(), b"\n");
    }
    s.run(&mut lp, &trap, listener)?;
    if o.verbosity >= 2 {
        cli::info("exiting");
    }
    Ok(0)
}

/// The server's state: live connections and per-uid counts, both sized once.
struct Server<'a, 'c> {
    o: &'a Options,
    check: Option<&'c mut dyn ConnCheck>,
    /// (pid, uid) of every running handler.
    conns: Vec<(i32, u32)>,
    /// (uid, live connections) for every uid with at least one.
    uids: Vec<(u32, u32)>,
    cont: bool,
    /// Set after an accept failed for lack of resources: accept again once it passes.
    backoff: Option<Deadline>,
    spawner: Spawner,
    /// What a handler that cannot be exec'd prints (see [`spawn_failure`]).
    failure_msg: Vec<u8>,
}

impl<'a, 'c> Server<'a, 'c> {
    fn new(o: &'a Options, check: Option<&'c mut dyn ConnCheck>) -> Server<'a, 'c> {
        let max = o.maxconn as usize;
        Server {
            o,
            check,
            conns: Vec::with_capacity(max),
            uids: Vec::with_capacity(if o.lookup { max } else { 1 }),
            cont: true,
            backoff: None,
            spawner: Spawner::new(),
            failure_msg: spawn_failure(&o.argv, o.verbosity > 0),
        }
    }

    fn full(&self) -> bool {
        self.conns.len() >= self.o.maxconn as usize
    }

    fn run(&mut self, lp: &mut EventLoop, trap: &Trap, listener: BorrowedFd<'_>) -> Result<(), Fatal> {
        let mut listening = false;
        while self.cont {
            if self.backoff.is_some_and(Deadline::passed) {
                self.backoff = None;
            }
            let want = !self.full() && self.backoff.is_none();
            if want != listening {
                // Registering again re-arms the edge: clients already waiting are reported.
                let res =
                    if want { lp.add(listener, TOKEN_LISTEN, Watch::Read) } else { lp.remove(listener) };
                res.map_err(|e| Fatal::sys("watch the listening socket", &e))?;
                listening = want;
            }
            let (mut sigs, mut conn, mut broken) = (false, false, false);
            lp.wait(self.backoff.unwrap_or(Deadline::Never), |ev| match ev.token {
                TOKEN_SIG => sigs = true,
                _ => {
                    conn = true;
                    broken |= ev.broken;
                }
            })
            .map_err(|e| Fatal::sys("iopause", &e))?;
            if sigs {
                self.handle_signals(trap)?;
                if !self.cont {
                    break;
                }
            }
            if conn && listening {
                if broken {
                    return Err(Fatal::new(cli::EXIT_SYS, "trouble with socket"));
                }
                self.accept_all(listener);
            }
        }
        Ok(())
    }

    /// Accepts until the backlog is empty, the tables are full, or accepting fails.
    fn accept_all(&mut self, listener: BorrowedFd<'_>) {
        while !self.full() {
            match socket::accept(listener, false) {
                Ok((conn, path)) => self.new_connection(conn, &path),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    if self.o.verbosity > 0 {
                        cli::warn_sys("accept", &e);
                    }
                    let transient = matches!(e.raw_os_error(), Some(libc::ECONNABORTED | libc::EPROTO));
                    if !transient {
                        self.backoff = Some(Deadline::from_ms(ACCEPT_BACKOFF_MS));
                        return;
                    }
                }
            }
        }
    }

    fn uid_index(&self, uid: u32) -> Option<usize> {
        self.uids.iter().position(|&(u, _)| u == uid)
    }

    fn new_connection(&mut self, conn: OwnedFd, path: &SockPath) {
        let creds = if self.o.lookup {
            match socket::peer_creds(conn.as_fd()) {
                Ok(c) => Some(c),
                Err(e) => {
                    if self.o.verbosity > 0 {
                        cli::warn_sys("getpeereid", &e);
                    }
                    return;
                }
            }
        } else {
            None
        };
        let (uid, gid) = creds.map_or((0, 0), |c: Creds| (c.uid, c.gid));
        let slot = self.uid_index(uid);
        let num = slot.map_or(0, |i| self.uids[i].1);
        if num >= self.o.localmaxconn {
            // Logged at every verbosity, as upstream does. Upstream appends a stale errno
            // text (usually ": Success"); it says nothing, so it is left out.
            cli::info(format_args!(
                "deny {} count {}/{}",
                self.ids(uid, gid),
                self.num(num),
                self.o.localmaxconn
            ));
            return;
        }
        let mut env = self.ucspi_env(creds, num, path);
        let verdict = match self.check.as_deref_mut() {
            Some(c) => {
                let peer = Peer { conn: conn.as_fd(), creds, path: path.as_os_str(), connnum: num };
                c.check(&peer, &mut env)
            }
            None => Verdict::Allow { argv: None },
        };
        let argv = match &verdict {
            Verdict::Deny => return,
            Verdict::Allow { argv: Some(a) } if !a.is_empty() => &a[..],
            Verdict::Allow { .. } => &self.o.argv[..],
        };
        let default_argv = std::ptr::eq(argv, &self.o.argv[..]);
        let override_msg;
        let msg = if default_argv {
            &self.failure_msg[..]
        } else {
            override_msg = spawn_failure(argv, self.o.verbosity > 0);
            &override_msg[..]
        };
        let spawned = Command::new(argv).and_then(|mut cmd| {
            cmd.fd(conn.as_fd(), 0)?.fd(conn.as_fd(), 1)?.env(&env)?;
            self.spawner.spawn(&cmd, Report::ByChild(msg))
        });
        let pid = match spawned {
            Ok(pid) => pid,
            Err(e) => {
                if self.o.verbosity > 0 {
                    cli::warn_sys(format_args!("spawn {}", cli::show(&argv[0])), &e);
                }
                return;
            }
        };
        let count = match slot {
            Some(i) => {
                self.uids[i].1 += 1;
                self.uids[i].1
            }
            None => {
                self.uids.push((uid, 1));
                1
            }
        };
        self.conns.push((pid, uid));
        if self.o.verbosity >= 2 {
            cli::info(format_args!(
                "allow {} pid {pid} count {}/{}",
                self.ids(uid, gid),
                self.num(count),
                self.o.localmaxconn
            ));
            self.log_status();
        }
    }

    /// The variables every handler gets, in upstream's order.
    fn ucspi_env(&self, creds: Option<Creds>, num: u32, path: &SockPath) -> Vec<EnvMod> {
        let set = |n: &str, v: String| (OsString::from(n), Some(OsString::from(v)));
        let mut env = Vec::with_capacity(5);
        env.push(set("PROTO", "IPC".into()));
        match creds {
            Some(c) => {
                env.push(set("IPCREMOTEEUID", c.uid.to_string()));
                env.push(set("IPCREMOTEEGID", c.gid.to_string()));
                env.push(set("IPCCONNNUM", num.to_string()));
            }
            None => {
                env.push((OsString::from("IPCREMOTEEUID"), None));
                env.push((OsString::from("IPCREMOTEEGID"), None));
                env.push(set("IPCCONNNUM", String::new()));
            }
        }
        env.push((OsString::from("IPCREMOTEPATH"), Some(path.as_os_str().to_owned())));
        env
    }

    fn ids(&self, uid: u32, gid: u32) -> String {
        if self.o.lookup {
            format!("{uid}:{gid}")
        } else {
            "?:?".into()
        }
    }

    fn num(&self, n: u32) -> String {
        if self.o.lookup {
            n.to_string()
        } else {
            "?".into()
        }
    }

    fn log_status(&self) {
        cli::info(format_args!("status: {}/{}", self.conns.len(), self.o.maxconn));
    }

    fn handle_signals(&mut self, trap: &Trap) -> Result<(), Fatal> {
        let v2 = self.o.verbosity >= 2;
        while let Some(s) = trap.next().map_err(|e| Fatal::sys("read signalfd", &e))? {
            match s {
                libc::SIGCHLD => self.reap()?,
                libc::SIGTERM => {
                    if v2 {
                        cli::info("received SIGTERM, quitting");
                    }
                    self.cont = false;
                }
                libc::SIGHUP => {
                    if v2 {
                        cli::info("received SIGHUP, sending SIGTERM+SIGCONT to all connections");
                    }
                    self.kill_all(libc::SIGTERM);
                    self.kill_all(libc::SIGCONT);
                }
                libc::SIGQUIT => {
                    if v2 {
                        cli::info(
                            "received SIGQUIT, sending SIGTERM+SIGCONT to all connections and quitting",
                        );
                    }
                    self.cont = false;
                    self.kill_all(libc::SIGTERM);
                    self.kill_all(libc::SIGCONT);
                }
                libc::SIGABRT => {
                    if v2 {
                        cli::info("received SIGABRT, sending SIGKILL to all connections and quitting");
                    }
                    self.cont = false;
                    self.kill_all(libc::SIGKILL);
                }
                _ => return Err(bug()),
            }
        }
        Ok(())
    }

    fn kill_all(&self, sig: i32) {
        for &(pid, _) in &self.conns {
            let _ = sig::kill(pid, sig);
        }
    }

    /// Reaps every dead child and releases its connection slot.
    fn reap(&mut self) -> Result<(), Fatal> {
        while let Some((pid, st)) = s6rs_sys::exec::reap().map_err(|e| Fatal::sys("wait_nohang", &e))? {
            let Some(i) = self.conns.iter().position(|&(p, _)| p == pid) else { continue };
            let (_, uid) = self.conns.swap_remove(i);
            let j = self.uid_index(uid).ok_or_else(bug)?;
            self.uids[j].1 -= 1;
            if self.uids[j].1 == 0 {
                self.uids.swap_remove(j);
            }
            if self.o.verbosity >= 2 {
                let who = if self.o.lookup { uid.to_string() } else { "?".into() };
                let how = match st.signal() {
                    Some(n) => format!("signal {n}"),
                    None => format!("exitcode {}", st.exit_code().unwrap_or(0)),
                };
                cli::info(format_args!("end pid {pid} uid {who} {how}"));
                self.log_status();
            }
        }
        Ok(())
    }
}

fn bug() -> Fatal {
    Fatal::new(cli::EXIT_BUG, "internal inconsistency. Please submit a bug-report.")
}

/// The warning a handler that cannot be exec'd prints before the error text (nothing
/// under `-v0`).
fn spawn_failure(argv: &[OsString], warn: bool) -> Vec<u8> {
    if warn {
        format!("{}: warning: unable to spawn {}: ", cli::prog(), cli::show(&argv[0])).into_bytes()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use s6rs_sys::testing::args;

    #[test]
    fn options_are_clamped_like_upstream() {
        let o = parse(&args(&["prog"])).unwrap();
        assert_eq!((o.maxconn, o.localmaxconn, o.verbosity, o.lookup, o.ready), (40, 40, 1, true, false));
        let o = parse(&args(&["-c0", "-C", "5", "prog"])).unwrap();
        assert_eq!((o.maxconn, o.localmaxconn), (1, 1));
        let o = parse(&args(&["-c", "99999", "-C", "20000", "p"])).unwrap();
        assert_eq!((o.maxconn, o.localmaxconn), (16384, 16384));
        let o = parse(&args(&["-c", "10", "-C", "3", "-P", "p", "-v"])).unwrap();
        assert_eq!((o.maxconn, o.localmaxconn, o.lookup), (10, 10, false));
        assert_eq!(o.argv, args(&["p", "-v"]));
        let o = parse(&args(&["-1v2", "--", "p"])).unwrap();
        assert_eq!((o.ready, o.verbosity), (true, 2));
    }

    #[test]
    fn usage_errors() {
        for bad in [&[][..], &["-c"], &["-c", "x", "p"], &["-z", "p"], &[""], &["-v", "-1", "p"]] {
            let e = parse(&args(bad)).unwrap_err();
            assert!(e.usage && e.code == 100, "{bad:?}");
        }
    }
}
