//! `s6-fdholderd [ -1 ] [ -v verbosity ] [ -c maxconn ] [ -n maxfds ] [ -t clienttimeout ]
//! [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ]`: hold fds for clients that connect
//! to the listening Unix socket on fd 0 (upstream doc/s6-fdholderd.html; FORMATS.md §5).
//!
//! One thread, one event loop (`sys::event`) over the listening socket, a signalfd and the
//! clients; each client is a small state machine: it is *read* (one request at a time)
//! until a reply is queued, then *written* until the reply has left, and only then read
//! again. So a client that does not read its replies stops being read, and what a client
//! can make the daemon hold is one request (at most [`protocol::MAX_REQUEST`] bytes: a longer
//! header closes it) and one reply. A slow or silent client only waits on its own socket.
//! Memory is bounded by `-c` clients and `-n` fds; the fd tables grow with what is held.
//!
//! Access: each client's uid and gid are looked up in the rules (`-i` directory, read
//! afresh at every connection; `-x` cdb, opened at start and reopened on SIGHUP); a client
//! without an allowing rule, or whose rule carries an invalid regex, is closed at once. The
//! rights come from the rule's environment ([`crate::rights`]). A rule's `exec` is ignored
//! (the daemon runs no program).
//!
//! `-t`: a new client must have its first reply sent within the timeout, and each reply
//! after that as well; a client with nothing pending is never timed out. `-T`: after
//! SIGTERM the daemon stops accepting and reading, finishes the replies under way, and
//! exits once none is left or the lame-duck timeout has passed. The exit code says what
//! was left: bit 0 set when fds were still held, bit 1 when clients were still connected.
//!
//! A request that does not follow the protocol closes that client's connection only, with
//! no reply; so does an ill-formed fd count or a client that hangs up mid-message.
//!
//! Choices beyond what s6 says: ids are listed in slot order, as s6 does; a retrieved or
//! dumped fd is a duplicate made when the reply is queued, so a later delete or expiry
//! cannot close it under the reply. A dump that needs more duplicates than the process may
//! open is answered with the errno, as s6 answers a reply it cannot queue.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::time::Duration;

use s6rs_access::cdb::CdbRules;
use s6rs_access::fs::FsRules;
use s6rs_access::rules::{first_match, uidgid_keys, Lookup};
use s6rs_ipc::fdpass::{Message, Received, Receiver, Sender};
use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{EventLoop, Watch};
use s6rs_sys::sig::{self, Trap};
use s6rs_sys::socket;
use s6rs_sys::tai::Tain;

use crate::protocol::{self, errno, Entry, Request, CHUNK, MAX_REQUEST};
use crate::rights::{RegexCache, Rights};
use crate::store::{Refused, Store};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholderd",
    operands: "",
    about: "Holds file descriptors for the clients of the listening Unix socket that is its stdin.",
    doc: "s6-fdholderd.html",
    flags: &FLAGS,
};

/// s6-fdholderd's options, in usage-line order (s6-fdholder-daemon passes them on).
pub const FLAGS: [Flag; 8] = [
    Flag::arg('v', "verbosity", Show::Own, "0 quiet, 1 warnings (the default), 2 more"),
    Flag::new('1', Show::Own, "write a newline to stdout and close it once accepting clients"),
    Flag::arg('c', "maxconn", Show::Own, "serve at most this many clients at once (default 16, max 256)"),
    Flag::arg('n', "maxfds", Show::Own, "hold at most this many fds (default 1000)"),
    Flag::arg('t', "timeout", Show::Own, "drop a client whose reply takes longer (ms; 0 = never)"),
    Flag::arg('T', "lameducktimeout", Show::Own, "after SIGTERM, wait at most this long for clients (ms)"),
    Flag::arg('i', "rulesdir", Show::Own, "read the access rules from this directory"),
    Flag::arg('x', "rulesfile", Show::Or, "read the access rules from this cdb file"),
];

/// The most clients (`S6_FDHOLDER_MAX`).
pub const MAXCONN_MAX: u32 = 256;

/// Where the rules are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rules {
    /// `-i`.
    Dir(PathBuf),
    /// `-x`.
    Cdb(PathBuf),
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-1`.
    pub ready: bool,
    /// `-v`.
    pub verbosity: u32,
    /// `-c`, clamped to 1..=256.
    pub maxconn: u32,
    /// `-n`, before the clamp to the open-file limit.
    pub maxfds: u32,
    /// `-t`, ms (0 = none).
    pub timeout: u64,
    /// `-T`, ms (0 = none).
    pub lameduck: u64,
    /// `-i` or `-x`.
    pub rules: Rules,
}

/// Parses the command line (without argv\[0\]).
pub fn parse(args: &[OsString]) -> Result<Options, Fatal> {
    let usage = || SPEC.usage_error();
    let (mut ready, mut verbosity, mut maxconn, mut maxfds, mut timeout, mut lameduck) =
        (false, 1u32, 16u32, 1000u32, 0u64, 0u64);
    let mut rules = None;
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str();
        match opt.c {
            '1' => ready = true,
            'v' => verbosity = cli::parse_uint(arg).ok_or_else(usage)?,
            'c' => maxconn = cli::parse_uint(arg).ok_or_else(usage)?,
            'n' => maxfds = cli::parse_uint(arg).ok_or_else(usage)?,
            't' => timeout = u64::from(cli::parse_uint::<u32>(arg).ok_or_else(usage)?),
            'T' => lameduck = u64::from(cli::parse_uint::<u32>(arg).ok_or_else(usage)?),
            'i' => rules = Some(Rules::Dir(arg.into())),
            'x' => rules = Some(Rules::Cdb(arg.into())),
            _ => return Err(usage()),
        }
    }
    let rules = rules.ok_or_else(|| Fatal::bad("no access rights specified!"))?;
    Ok(Options { ready, verbosity, maxconn: maxconn.clamp(1, MAXCONN_MAX), maxfds, timeout, lameduck, rules })
}

/// `-n` as s6 bounds it: at most the open-file limit (less 6 when over it), at least 1.
fn clamp_maxfds(maxfds: u32) -> Result<usize, Fatal> {
    let lim = s6rs_sys::rlimit::get(s6rs_sys::rlimit::NOFILE).map_err(|e| Fatal::sys("getrlimit", &e))?;
    let mut n = u64::from(maxfds);
    if lim.soft != s6rs_sys::rlimit::INFINITY {
        if lim.soft < 7 {
            return Err(Fatal::new(cli::EXIT_SYS, "open file limit too low"));
        }
        if n > lim.soft {
            n = lim.soft - 6;
        }
    }
    Ok(n.max(1) as usize)
}

const TOKEN_SIG: usize = 0;
const TOKEN_LISTEN: usize = 1;
const TOKEN_CLIENT0: usize = 2;

/// The longest wait before looking at the fd limits again: limits far ahead (s6's "no
/// limit" is 2^61 s away) are not turned into a monotonic instant, which could overflow.
const EXPIRY_WAKE_MAX: Duration = Duration::from_secs(3600);

/// How long to leave clients in the backlog after accepting failed for lack of resources.
const ACCEPT_BACKOFF_MS: u64 = 100;

/// Runs s6-fdholderd.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let o = parse(&args)?;
    let maxfds = clamp_maxfds(o.maxfds)?;
    let listener = s6rs_sys::fd::stdin();
    match socket::is_socket(listener) {
        Ok(true) => {}
        Ok(false) => return Err(Fatal::bad("stdin is not a socket")),
        Err(e) => return Err(Fatal::sys("fstat stdin", &e)),
    }
    s6rs_sys::fd::set_nonblock(listener, true).map_err(|e| Fatal::sys("set stdin non-blocking", &e))?;
    let stdout = if o.ready {
        Some(s6rs_sys::fd::adopt(1).map_err(|e| {
            Fatal::new(
                cli::EXIT_USAGE,
                format!("called with option -1 but stdout said: {}", cli::errtext(&e)),
            )
        })?)
    } else {
        drop(s6rs_sys::fd::adopt(1));
        None
    };
    sig::ignore(libc::SIGPIPE).map_err(|e| Fatal::sys("ignore SIGPIPE", &e))?;
    let trap = Trap::new(&[libc::SIGTERM, libc::SIGHUP]).map_err(|e| Fatal::sys("trap signals", &e))?;
    let cdb = match &o.rules {
        Rules::Cdb(path) => {
            // A cdb rewritten in place under the mapping must cost a refused client, not
            // the daemon (see s6rs_access::mapping).
            s6rs_access::mapping::guard::install().map_err(|e| Fatal::sys("catch SIGBUS", &e))?;
            Some(
                CdbRules::open(path)
                    .map_err(|e| Fatal::sys(format_args!("cdb_init {}", path.display()), &e))?,
            )
        }
        Rules::Dir(_) => None,
    };
    let mut lp = EventLoop::new(64).map_err(|e| Fatal::sys("create event loop", &e))?;
    lp.add(trap.as_fd(), TOKEN_SIG, Watch::Read).map_err(|e| Fatal::sys("register signalfd", &e))?;
    let mut d = Daemon {
        timeout: (o.timeout > 0).then(|| Duration::from_millis(o.timeout)),
        store: Store::new(maxfds),
        clients: (0..o.maxconn).map(|_| None).collect(),
        nclients: 0,
        cont: true,
        lameduck: Deadline::Never,
        backoff: None,
        cdb,
        regexes: RegexCache::default(),
        me: (s6rs_sys::proc::euid(), s6rs_sys::proc::egid()),
        spare_rx: None,
        o,
    };
    if let Some(fd) = stdout {
        let _ = s6rs_sys::fd::write_all(fd.as_fd(), b"\n");
    }
    d.run(&mut lp, &trap, listener)?;
    Ok(u8::from(!d.store.is_empty()) | (u8::from(d.nclients > 0) << 1))
}

/// Where a client is in its exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request (watching for readability).
    Reading,
    /// A reply is queued (watching for writability).
    Writing,
}

/// One connected client.
#[derive(Debug)]
struct Client {
    fd: OwnedFd,
    rx: Receiver,
    tx: Sender,
    rights: Rights,
    /// Setdump entries still announced.
    dumping: u32,
    /// When its pending reply must have left (`-t`).
    deadline: Deadline,
    phase: Phase,
}

/// What became of a client after it was served.
enum Outcome {
    Keep,
    Close,
}

struct Daemon {
    o: Options,
    timeout: Option<Duration>,
    store: Store,
    clients: Vec<Option<Client>>,
    nclients: usize,
    cont: bool,
    lameduck: Deadline,
    /// Set when accepting failed for lack of resources: accept again once it passes.
    backoff: Option<Deadline>,
    cdb: Option<CdbRules>,
    /// The rights' regexes, built once per pattern rather than once per connection.
    regexes: RegexCache,
    /// This process's effective ids, for the `uid/self` and `gid/self` keys: they never
    /// change while it runs.
    me: (u32, u32),
    /// The receiver of a client gone with nothing buffered, for the next one: a buffer
    /// allocated per connection costs musl's allocator an mmap and a munmap each time.
    spare_rx: Option<Receiver>,
}

impl Daemon {
    fn run(&mut self, lp: &mut EventLoop, trap: &Trap, listener: BorrowedFd<'_>) -> Result<(), Fatal> {
        let mut listening = false;
        let mut ready: Vec<usize> = Vec::with_capacity(64);
        loop {
            if self.backoff.is_some_and(Deadline::passed) {
                self.backoff = None;
            }
            let want = self.cont && self.nclients < self.clients.len() && self.backoff.is_none();
            if want != listening {
                let res =
                    if want { lp.add(listener, TOKEN_LISTEN, Watch::Read) } else { lp.remove(listener) };
                res.map_err(|e| Fatal::sys("watch the listening socket", &e))?;
                listening = want;
            }
            if !self.cont && (!self.any_pending() || self.lameduck.passed()) {
                return Ok(());
            }
            let deadline = self.next_deadline();
            ready.clear();
            lp.wait(deadline, |ev| ready.push(ev.token)).map_err(|e| Fatal::sys("iopause", &e))?;
            for &token in &ready {
                match token {
                    TOKEN_SIG => self.handle_signals(trap)?,
                    TOKEN_LISTEN if listening => self.accept_all(lp, listener)?,
                    TOKEN_LISTEN => {}
                    t => self.serve(lp, t - TOKEN_CLIENT0),
                }
            }
            self.store.expire(Tain::now());
            for i in 0..self.clients.len() {
                if self.clients[i].as_ref().is_some_and(|c| c.deadline.passed()) {
                    self.close(i);
                }
            }
        }
    }

    /// The earliest of the lame-duck deadline, the clients' deadlines and the next expiry.
    fn next_deadline(&self) -> Deadline {
        let mut d = if self.cont { Deadline::Never } else { self.lameduck };
        if let Some(b) = self.backoff {
            d = d.min(b);
        }
        for c in self.clients.iter().flatten() {
            d = d.min(c.deadline);
        }
        if let Some(limit) = self.store.next_limit() {
            let wait = Tain::now().elapsed_at(limit).min(EXPIRY_WAKE_MAX);
            // Expiry is checked once the limit has passed, not at it.
            d = d.min(Deadline::after(wait + Duration::from_millis(1)));
        }
        d
    }

    /// Whether a client still has a reply to send. (A whole request already received is
    /// answered as soon as the reply before it has left, so it shows as a pending reply.)
    fn any_pending(&self) -> bool {
        self.clients.iter().flatten().any(|c| !c.tx.is_empty())
    }

    fn handle_signals(&mut self, trap: &Trap) -> Result<(), Fatal> {
        while let Some(s) = trap.next().map_err(|e| Fatal::sys("read signalfd", &e))? {
            match s {
                libc::SIGTERM if self.cont => {
                    self.cont = false;
                    self.lameduck = Deadline::from_ms(self.o.lameduck);
                }
                libc::SIGHUP => {
                    if let Rules::Cdb(path) = &self.o.rules {
                        // A file that cannot be opened leaves the rules as they were.
                        match CdbRules::open(path) {
                            Ok(db) => self.cdb = Some(db),
                            Err(e) if self.o.verbosity > 0 => {
                                cli::warn_sys(format_args!("reopen {}", path.display()), &e)
                            }
                            Err(_) => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn accept_all(&mut self, lp: &EventLoop, listener: BorrowedFd<'_>) -> Result<(), Fatal> {
        while self.nclients < self.clients.len() && self.backoff.is_none() {
            match socket::accept_conn(listener, true) {
                Ok(fd) => {
                    if let Some(rights) = self.admit(fd.as_fd()) {
                        self.add(lp, fd, rights);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                // That client went away before we could take it: the next one.
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ECONNABORTED | libc::EINTR | libc::ENOTCONN)
                    ) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                    ) =>
                {
                    // Out of resources: leave the clients in the backlog for a while rather
                    // than spin on them or die.
                    if self.o.verbosity > 0 {
                        cli::warn_sys("accept", &e);
                    }
                    self.backoff = Some(Deadline::from_ms(ACCEPT_BACKOFF_MS));
                    return Ok(());
                }
                Err(e) => return Err(Fatal::sys("accept", &e)),
            }
        }
        Ok(())
    }

    /// The rights of a new client, or `None` to close it at once.
    fn admit(&mut self, fd: BorrowedFd<'_>) -> Option<Rights> {
        let v = self.o.verbosity;
        let creds = match socket::peer_creds(fd) {
            Ok(c) => c,
            Err(e) => {
                if v > 0 {
                    cli::warn_sys("getpeereid", &e);
                }
                return None;
            }
        };
        let keys = uidgid_keys(creds.uid, creds.gid, self.me.0, self.me.1);
        let found = match (&self.o.rules, &self.cdb) {
            (Rules::Dir(dir), _) => first_match(&FsRules::new(dir), keys),
            (Rules::Cdb(_), Some(db)) => {
                let armed = db.cdb().arm();
                let r = first_match(db, keys);
                if armed.as_ref().is_some_and(|a| a.hit()) {
                    Err(io::Error::from_raw_os_error(libc::ESTALE))
                } else {
                    r
                }
            }
            (Rules::Cdb(_), None) => Err(io::Error::from_raw_os_error(libc::EINVAL)),
        };
        let grant = match found {
            Ok(Lookup::Allow(g)) => g,
            Ok(_) => return None,
            Err(e) => {
                if v > 0 {
                    cli::warn_sys("error while checking rules", &e);
                }
                return None;
            }
        };
        if !grant.exec.is_empty() && v > 0 {
            cli::warn(format_args!("unused exec string in rules for uid {} gid {}", creds.uid, creds.gid));
        }
        match Rights::from_env_cached(&grant.env, &mut self.regexes) {
            Ok(r) => Some(r),
            Err(bad) => {
                if v > 0 {
                    cli::warn(format_args!("invalid {} value: {}: {}", bad.var, bad.value, bad.why));
                }
                None
            }
        }
    }

    fn add(&mut self, lp: &EventLoop, fd: OwnedFd, rights: Rights) {
        let Some(i) = self.clients.iter().position(Option::is_none) else { return };
        if lp.add(fd.as_fd(), TOKEN_CLIENT0 + i, Watch::Read).is_err() {
            return;
        }
        let deadline = self.timeout.map_or(Deadline::Never, Deadline::after);
        self.clients[i] = Some(Client {
            fd,
            rx: self.spare_rx.take().unwrap_or_else(|| Receiver::with_max_len(true, MAX_REQUEST)),
            tx: Sender::new(),
            rights,
            dumping: 0,
            deadline,
            phase: Phase::Reading,
        });
        self.nclients += 1;
        // Its request may already be there: edge-triggered readiness was armed by the add.
        self.serve(lp, i);
    }

    /// Drops client `i`. Closing its socket is enough to take it out of the event loop: the
    /// socket was accepted here and never duplicated, so the close is its last reference.
    fn close(&mut self, i: usize) {
        if let Some(c) = self.clients[i].take() {
            self.retire(c);
        }
    }

    /// Forgets a client, keeping its receiver when it is idle.
    fn retire(&mut self, c: Client) {
        self.nclients -= 1;
        if c.rx.is_idle() {
            self.spare_rx = Some(c.rx);
        }
    }

    /// Moves client `i` on as far as it can go without waiting.
    fn serve(&mut self, lp: &EventLoop, i: usize) {
        let Some(mut c) = self.clients.get_mut(i).and_then(Option::take) else { return };
        let outcome = self.step(&mut c);
        let phase = if c.tx.is_empty() { Phase::Reading } else { Phase::Writing };
        let keep = matches!(outcome, Outcome::Keep) && (phase == c.phase || self.rewatch(lp, &c, i, phase));
        if keep {
            c.phase = phase;
            self.clients[i] = Some(c);
        } else {
            // As in `close`: dropping the socket unregisters it.
            self.retire(c);
        }
    }

    /// Watches a client for the other readiness (registering again re-arms the edge).
    fn rewatch(&self, lp: &EventLoop, c: &Client, i: usize, phase: Phase) -> bool {
        let _ = lp.remove(c.fd.as_fd());
        let w = if phase == Phase::Reading { Watch::Read } else { Watch::Write };
        lp.add(c.fd.as_fd(), TOKEN_CLIENT0 + i, w).is_ok()
    }

    fn step(&mut self, c: &mut Client) -> Outcome {
        loop {
            if !c.tx.is_empty() {
                match c.tx.flush(c.fd.as_fd()) {
                    Ok(true) => c.deadline = Deadline::Never,
                    Ok(false) => return Outcome::Keep,
                    Err(_) => return Outcome::Close,
                }
            }
            let got = if self.cont {
                c.rx.receive(c.fd.as_fd())
            } else {
                // Lame duck: answer what has arrived whole, read nothing more.
                c.rx.next_buffered().map(|m| m.map_or(Received::WouldBlock, Received::Message))
            };
            match got {
                Ok(Received::Message(m)) => {
                    if self.handle(c, m).is_err() {
                        return Outcome::Close;
                    }
                    if !c.tx.is_empty() && c.deadline == Deadline::Never {
                        c.deadline = self.timeout.map_or(Deadline::Never, Deadline::after);
                    }
                }
                Ok(Received::WouldBlock) => return Outcome::Keep,
                Ok(Received::Eof) | Err(_) => return Outcome::Close,
            }
        }
    }

    /// Answers one request; `Err` closes the connection (a protocol error).
    fn handle(&mut self, c: &mut Client, m: Message) -> Result<(), ()> {
        let Message { data, fds } = m;
        let req = protocol::decode_request(&data, fds.len()).map_err(|_| ())?;
        let status =
            |c: &mut Client, e: u8| c.tx.put(&protocol::encode_status(e), Vec::new()).map_err(|_| ());
        if c.dumping > 0 && !matches!(req, Request::SetDumpData { .. }) {
            return Err(());
        }
        match req {
            Request::Store { limit, id } => {
                let Some(fd) = fds.into_iter().next() else { return Err(()) };
                if !c.rights.may_store(id) {
                    return status(c, errno::EPERM);
                }
                match self.store.insert(id, fd, limit) {
                    Ok(()) => status(c, 0),
                    Err((Refused::Full, _)) => status(c, errno::ENFILE),
                    Err((Refused::Busy, _)) => status(c, errno::EBUSY),
                }
            }
            Request::Delete { id } => {
                if !c.rights.may_store(id) {
                    return status(c, errno::EPERM);
                }
                match self.store.remove(id) {
                    Some(fd) => {
                        drop(fd);
                        status(c, 0)
                    }
                    None => status(c, errno::ENOENT),
                }
            }
            Request::Retrieve { delete, id } => {
                if !c.rights.may_retrieve(id) || (delete && !c.rights.may_store(id)) {
                    return status(c, errno::EPERM);
                }
                let fd = if delete {
                    self.store.remove(id).map(Ok)
                } else {
                    self.store.get(id).map(|fd| fd.try_clone_to_owned())
                };
                match fd {
                    None => status(c, errno::ENOENT),
                    Some(Ok(fd)) => c.tx.put(&[0], vec![fd]).map_err(|_| ()),
                    Some(Err(e)) => status(c, errno_byte(&e)),
                }
            }
            Request::List => {
                if !c.rights.list {
                    return status(c, errno::EPERM);
                }
                let ids: Vec<&[u8]> = self.store.iter().map(|(id, _, _)| id).collect();
                c.tx.put(&protocol::encode_list(ids.into_iter()), Vec::new()).map_err(|_| ())
            }
            Request::GetDump => {
                if !c.rights.getdump {
                    return status(c, errno::EPERM);
                }
                match self.dump() {
                    Ok(chunks) => {
                        let head = protocol::encode_getdump_head(self.store.len() as u32);
                        c.tx.put(&head, Vec::new()).map_err(|_| ())?;
                        for (bytes, fds) in chunks {
                            c.tx.put(&bytes, fds).map_err(|_| ())?;
                        }
                        Ok(())
                    }
                    Err(e) => status(c, errno_byte(&e)),
                }
            }
            Request::SetDump { count } => {
                if !c.rights.setdump {
                    return status(c, errno::EPERM);
                }
                if count as usize > self.store.room() {
                    return status(c, errno::ENFILE);
                }
                c.dumping = count;
                c.tx.put(&protocol::encode_setdump_reply(count), Vec::new()).map_err(|_| ())
            }
            Request::SetDumpData { entries } => {
                if entries.len() > c.dumping as usize {
                    return Err(());
                }
                if !c.rights.setdump {
                    return status(c, errno::EPERM);
                }
                if entries.len() > self.store.room() {
                    return status(c, errno::ENFILE);
                }
                for (e, fd) in entries.iter().zip(fds) {
                    self.store.replace(e.id, fd, e.limit);
                }
                c.dumping -= entries.len() as u32;
                status(c, if c.dumping > 0 { errno::EAGAIN } else { 0 })
            }
        }
    }

    /// The dump messages: entries in chunks of [`CHUNK`], each with duplicates of its fds.
    fn dump(&self) -> io::Result<VecDeque<(Vec<u8>, Vec<OwnedFd>)>> {
        let all: Vec<(&[u8], BorrowedFd<'_>, Tain)> = self.store.iter().collect();
        let mut out = VecDeque::new();
        for chunk in all.chunks(CHUNK) {
            let entries: Vec<Entry<'_>> = chunk.iter().map(|&(id, _, limit)| Entry { limit, id }).collect();
            let fds =
                chunk.iter().map(|(_, fd, _)| fd.try_clone_to_owned()).collect::<io::Result<Vec<_>>>()?;
            out.push_back((protocol::encode_dump_chunk(&entries), fds));
        }
        Ok(out)
    }
}

/// An error's errno as one reply byte (EMFILE and ENFILE become ENFILE, as the clients'
/// documentation reads "out of fds").
fn errno_byte(e: &io::Error) -> u8 {
    match e.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE) | None => errno::ENFILE,
        Some(n) => u8::try_from(n).unwrap_or(errno::ENFILE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::testing::args;

    #[test]
    fn defaults_and_clamps_as_upstream() {
        let o = parse(&args(&["-i", "r"])).unwrap();
        assert_eq!((o.maxconn, o.maxfds, o.timeout, o.lameduck, o.ready), (16, 1000, 0, 0, false));
        assert_eq!(o.rules, Rules::Dir("r".into()));
        let o = parse(&args(&["-1", "-v2", "-c", "1000", "-n0", "-t5", "-T", "7", "-x", "c"])).unwrap();
        assert_eq!((o.maxconn, o.maxfds, o.timeout, o.lameduck, o.verbosity), (256, 0, 5, 7, 2));
        assert_eq!(o.rules, Rules::Cdb("c".into()));
        assert_eq!(parse(&args(&["-c0", "-i", "r"])).unwrap().maxconn, 1);
        assert_eq!(clamp_maxfds(0).unwrap(), 1);
    }

    #[test]
    fn usage_errors_and_missing_rules() {
        assert_eq!(parse(&args(&[])).unwrap_err().msg, "no access rights specified!");
        assert_eq!(parse(&args(&[])).unwrap_err().code, 100);
        for bad in [&["-c", "x", "-i", "r"][..], &["-k"], &["-t"]] {
            assert!(parse(&args(bad)).unwrap_err().usage, "{bad:?}");
        }
    }
}
