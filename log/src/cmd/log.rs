//! s6-log: the reliable logger (upstream page: s6-log.html; FORMATS §8; INVENTORY part 2 §4).
//!
//! `s6-log [ -d notif ] [ -q | -v ] [ -b ] [ -p ] [ -l linelimit ] [ -t lastlinetimeout ]
//! [ -- ] logging script`
//!
//! One thread, one event loop over a signalfd (ALRM TERM HUP CHLD), stdin and stdout.
//! Input is read in large chunks and cut into lines in place (a line ends at `\n` or NUL, or
//! is split after `-l` bytes); each line walks the script once and its output is appended to
//! per-destination buffers that are written with one `write` per chunk. Nothing read from
//! stdin is dropped on a clean stop: buffers are flushed, rotations in progress finish,
//! `current` is fsynced and marked u+x.
//!
//! Deviation: upstream drops an unterminated last line when stdin reaches end of file (its
//! end-of-file path returns before the code meant to process it). We process it, as if a
//! newline ended it, which is what the page's promise of no log loss asks for.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, IntoRawFd};

use s6rs_sys::cli::{self, warn, warn_sys, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{EventLoop, Watch};
use s6rs_sys::sig::Trap;
use s6rs_sys::tai::Tain;

use crate::logdir::Logdir;
use crate::script::{self, Script, Target};
use crate::stamp;

/// The command line, as 2.15's.
pub const SPEC: Spec = Spec {
    name: "s6-log",
    operands: "[ -- ] logging_script",
    about: "Reads log lines on stdin and, as the logging script says, selects, timestamps and \
            stores them in rotated log directories.",
    doc: "s6-log.html",
    flags: &[
        Flag::arg('d', "notif", Show::Own, "write a newline to this fd once ready"),
        Flag::new('q', Show::Own, "one less level of messages on stderr"),
        Flag::new('v', Show::Or, "one more level of messages on stderr"),
        Flag::new('b', Show::Own, "stop reading stdin while output is pending"),
        Flag::new('p', Show::Own, "ignore SIGTERM: stop only on SIGHUP or end of input"),
        Flag::arg(
            'l',
            "linelimit",
            Show::Own,
            "split lines longer than this many bytes (default 8192, 0: never)",
        ),
        Flag::arg(
            't',
            "lastlinetimeout",
            Show::Own,
            "once told to stop, wait this many milliseconds for the end of a partial line (default 2000)",
        ),
    ],
};

/// Lines longer than this are split (`-l`), unless 0.
const DEFAULT_LINELIMIT: usize = 8192;
/// `-l` values below this (except 0) are raised to it.
const LINELIMIT_MIN: usize = 48;
/// Size of one read from stdin (a pipe holds 64 KiB by default; files give more).
const READ_SIZE: usize = 64 << 10;

// The event-loop tokens, numbered from 0: the main loop reads them back in this order
// (`wait_tokens`).
const TOKEN_SIG: usize = 0;
const TOKEN_IN: usize = 1;
const TOKEN_OUT: usize = 2;

/// The options.
#[derive(Debug)]
struct Opts {
    notif: Option<i32>,
    verbosity: u32,
    block: bool,
    protect: bool,
    linelimit: usize,
    lastline_ms: u64,
}

fn parse_opts(args: &[OsString]) -> Result<(Opts, usize), Fatal> {
    let mut o = Opts {
        notif: None,
        verbosity: 1,
        block: false,
        protect: false,
        linelimit: DEFAULT_LINELIMIT,
        lastline_ms: 2000,
    };
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            'q' => o.verbosity = o.verbosity.saturating_sub(1),
            'v' => o.verbosity += 1,
            'b' => o.block = true,
            'p' => o.protect = true,
            'l' => o.linelimit = cli::parse_uint(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?,
            't' => o.lastline_ms = cli::parse_uint(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?,
            'd' => {
                let fd: i32 = cli::parse_uint(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?;
                o.notif = Some(cli::given_fd(fd.into(), "notification fd", "invalid notification fd")?);
            }
            _ => return Err(SPEC.usage_error()),
        }
    }
    if o.linelimit != 0 && o.linelimit < LINELIMIT_MIN {
        o.linelimit = LINELIMIT_MIN;
    }
    Ok((o, g.index()))
}

/// Makes sure fds 0, 1 and 2 are open (on /dev/null if they were closed).
fn sanitize_std_fds() -> io::Result<()> {
    for fd in 0..3 {
        if !s6rs_sys::fd::is_open(fd) {
            let f = std::fs::OpenOptions::new().read(fd == 0).write(fd != 0).open("/dev/null")?;
            // The fd stays open on /dev/null for the life of the process.
            let _ = s6rs_sys::fd::move_to(f.into(), fd)?.into_raw_fd();
        }
    }
    Ok(())
}

/// Points `fd` at /dev/null, releasing what it was (a closed stdin or stdout stays a valid
/// descriptor, so no file opened later lands on 0 or 1).
fn park_on_devnull(fd: i32) {
    if let Ok(f) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        let _ = s6rs_sys::fd::dup_to(f.as_fd(), fd);
    }
}

// fds 0, 1 and 2 are kept open for the whole life of the process (sanitize_std_fds, and
// park_on_devnull replaces an fd rather than closing it).
use s6rs_sys::fd::{stdin, stdout};

/// Where each line goes: the compiled script and the output buffers.
struct Engine {
    script: Script,
    logdirs: Vec<Logdir>,
    out: Vec<u8>,
    out_open: bool,
    tai: bool,
    local: bool,
    clock: stamp::Clock,
    scratch: Vec<u8>,
    verbose: bool,
}

impl Engine {
    /// Runs one line (without its terminator) through the script.
    fn line(&mut self, line: &[u8]) {
        let mut tai = [0u8; 26];
        let mut loc = [0u8; stamp::MAX_LEN + 2];
        let mut loclen = 0;
        if self.tai || self.local {
            let now = Tain::now();
            if self.tai {
                tai[..25].copy_from_slice(&now.label_bytes());
                tai[25] = b' ';
            }
            if self.local {
                let mut buf = [0u8; stamp::MAX_LEN];
                if let Some(n) = self.clock.format(now, &mut buf) {
                    loc[..n].copy_from_slice(&buf[..n]);
                    loc[n..n + 2].copy_from_slice(b"  ");
                    loclen = n + 2;
                }
            }
        }
        let Engine { script, logdirs, out, out_open, scratch, verbose, .. } = self;
        script.select(line, |a| {
            let t: &[u8] = if a.tai { &tai } else { b"" };
            let l: &[u8] = if a.local { &loc[..loclen] } else { b"" };
            let (p, sp): (&[u8], &[u8]) = match &a.prefix {
                Some(p) => (p, b" "),
                None => (b"", b""),
            };
            match &a.target {
                Target::Logdir(i) => logdirs[*i].push(&[t, l, p, sp, line, b"\n"]),
                Target::Stdout => {
                    if *out_open {
                        for part in [t, l, p, sp, line, b"\n"] {
                            out.extend_from_slice(part);
                        }
                    }
                }
                Target::Alert { size } => {
                    scratch.clear();
                    scratch.extend_from_slice(cli::prog().as_bytes());
                    scratch.extend_from_slice(b": alert: ");
                    for part in [t, l, p, sp] {
                        scratch.extend_from_slice(part);
                    }
                    if *size > 0 && size + 3 < line.len() {
                        scratch.extend_from_slice(&line[..*size]);
                        scratch.extend_from_slice(b"...\n");
                    } else {
                        scratch.extend_from_slice(line);
                        scratch.push(b'\n');
                    }
                    // If it blocks, too bad.
                    let _ = s6rs_sys::fd::write_all(s6rs_sys::fd::stderr(), scratch);
                }
                Target::Status { path, tmp, size } => {
                    scratch.clear();
                    for part in [t, l, p, sp, line, b"\n"] {
                        scratch.extend_from_slice(part);
                    }
                    if *size > 0 {
                        scratch.resize(*size, b'\n');
                    }
                    if let Err(e) = s6rs_sys::fd::replace_file_via(path, tmp, scratch) {
                        if *verbose {
                            warn_sys(format_args!("write status file {}", path.display()), &e);
                        }
                    }
                }
            }
        });
    }

    /// Writes what stdout can take now. Returns false when stdout would block.
    fn flush_stdout(&mut self) -> bool {
        match s6rs_sys::fd::write_nb(io::stdout().as_fd(), &self.out) {
            Ok(done) => {
                let ready = done == self.out.len();
                self.out.drain(..done);
                ready
            }
            Err(e) => {
                warn_sys("write to stdout, closing the stream - error was", &e);
                park_on_devnull(1);
                self.out_open = false;
                self.out = Vec::new();
                true
            }
        }
    }
}

/// What reading stdin led to.
enum Read {
    /// Data was read and processed; more may be there.
    Data,
    /// Nothing to read now.
    Empty,
    /// End of input (or a read error, or the last line is done): stop reading.
    End,
}

/// Stdin and the unfinished line at the end of what was read.
struct Input {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    linelimit: usize,
    ready: bool,
    /// `ready` was carried over from a read that returned data, not reported by the
    /// latest wait: nobody has looked at stdin and the signals together since.
    stale: bool,
    polled: bool,
    verbose: bool,
}

impl Input {
    fn partial(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Makes room after `end`: moves the unfinished line to the front, or grows the buffer
    /// when the line itself fills it (only with `-l 0` or a limit above the buffer size).
    fn make_room(&mut self) {
        if self.end < self.buf.len() {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        } else {
            let len = self.buf.len();
            self.buf.resize(len * 2, 0);
        }
    }

    /// One read in normal mode: process every complete line, keep the rest.
    fn read_normal(&mut self, engine: &mut Engine) -> Read {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        self.make_room();
        match s6rs_sys::fd::read(stdin(), &mut self.buf[self.end..]) {
            Ok(0) => Read::End,
            Ok(n) => {
                self.end += n;
                self.split(engine);
                self.stale = true;
                Read::Data
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.ready = !self.polled;
                Read::Empty
            }
            Err(e) => {
                if e.raw_os_error() != Some(libc::EPIPE) && self.verbose {
                    warn_sys("read from stdin", &e);
                }
                Read::End
            }
        }
    }

    /// Cuts the buffered input into lines and runs them.
    fn split(&mut self, engine: &mut Engine) {
        let limit = self.linelimit;
        loop {
            let window = &self.buf[self.start..self.end];
            let search = if limit > 0 && window.len() > limit { &window[..limit + 1] } else { window };
            match memchr::memchr2(b'\n', 0, search) {
                Some(i) => {
                    engine.line(&window[..i]);
                    self.start += i + 1;
                }
                None if limit > 0 && window.len() > limit => {
                    engine.line(&window[..limit]);
                    self.start += limit;
                }
                None => break,
            }
        }
    }

    /// Last-line mode: read one byte at a time, so that nothing past the end of the line
    /// is taken from the pipe (it stays for the next logger).
    fn read_last(&mut self, engine: &mut Engine) -> Read {
        loop {
            let mut c = [0u8; 1];
            match s6rs_sys::fd::read(stdin(), &mut c) {
                Ok(0) => {
                    self.flush_partial(engine);
                    return Read::End;
                }
                Ok(_) => {
                    if c[0] == b'\n' || c[0] == 0 {
                        self.flush_partial(engine);
                        return Read::End;
                    }
                    self.make_room();
                    self.buf[self.end] = c[0];
                    self.end += 1;
                    if self.linelimit > 0 && self.end - self.start >= self.linelimit {
                        if self.verbose {
                            warn("input line too long, stopping before the end");
                        }
                        self.flush_partial(engine);
                        return Read::End;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.ready = !self.polled;
                    return Read::Empty;
                }
                Err(e) => {
                    if e.raw_os_error() != Some(libc::EPIPE) && self.verbose {
                        warn_sys("read from stdin", &e);
                    }
                    self.flush_partial(engine);
                    return Read::End;
                }
            }
        }
    }

    /// Processes the unfinished line, if any, as a whole line.
    fn flush_partial(&mut self, engine: &mut Engine) {
        if self.start < self.end {
            engine.line(&self.buf[self.start..self.end]);
        }
        self.start = 0;
        self.end = 0;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Reading lines.
    Normal,
    /// TERM or HUP came in the middle of a line: finish that line, then stop. `until` is
    /// the `-t` deadline, after which the unfinished line is taken as it is. It lives in
    /// this state, not beside it, so that it stops counting the moment the state is left:
    /// a deadline kept past its use would make every later wait a zero-timeout poll, a
    /// spinning CPU while output is stuck behind a blocked stdout, a processor or a full
    /// disk.
    LastLine { until: Deadline },
    /// Stdin is closed: write out everything, then exit.
    Exiting,
}

/// The running logger.
struct Logger {
    engine: Engine,
    input: Input,
    mode: Mode,
    out_ready: bool,
    out_polled: bool,
    block: bool,
    protect: bool,
    lastline_ms: u64,
    ev: EventLoop,
    trap: Trap,
}

impl Logger {
    fn stop_reading(&mut self) {
        if self.input.polled {
            let _ = self.ev.remove(stdin());
            self.input.polled = false;
        }
        park_on_devnull(0);
        self.input.ready = false;
        self.mode = Mode::Exiting;
    }

    /// Before a read on readiness carried over from the previous read: looks again
    /// whether stdin holds data, then takes any signal sent before that data.
    ///
    /// Between the previous read and this one, output may have been written (a line in
    /// `current`), and a writer that saw it may then have sent TERM and written more.
    /// Upstream only reads what its last poll saw readable, with the signals of that poll
    /// handled first, so such input is read in last-line mode. Here the probe comes
    /// first: if it sees data written after the signal, the signal is already pending
    /// and the signalfd read after it takes it.
    fn recheck_input(&mut self) -> Result<(), Fatal> {
        self.input.stale = false;
        if self.input.polled && !readable_now(stdin()).map_err(|e| Fatal::sys("poll stdin", &e))? {
            self.input.ready = false;
            return Ok(());
        }
        self.handle_signals()
    }

    fn handle_signals(&mut self) -> Result<(), Fatal> {
        while let Some(sig) = self.trap.next().map_err(|e| Fatal::sys("read signalfd", &e))? {
            match sig {
                libc::SIGALRM => self.engine.logdirs.iter_mut().for_each(Logdir::rotate),
                libc::SIGTERM | libc::SIGHUP => {
                    if (sig == libc::SIGTERM && self.protect) || self.mode != Mode::Normal {
                        continue;
                    }
                    self.mode = Mode::LastLine { until: Deadline::from_ms(self.lastline_ms) };
                    if self.input.partial().is_empty() {
                        self.stop_reading();
                    }
                }
                libc::SIGCHLD => {
                    while let Some((pid, status)) =
                        s6rs_sys::exec::reap().map_err(|e| Fatal::sys("wait", &e))?
                    {
                        for ld in &mut self.engine.logdirs {
                            if ld.child_exited(pid, status) {
                                break;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The next time something is due without an event: the end of the last-line wait,
    /// a logdir's retry or periodic rotation. Each of these is dropped (or moved on) once
    /// acted upon, so a passed deadline here always has work behind it.
    fn next_deadline(&self) -> Deadline {
        let own = match self.mode {
            Mode::LastLine { until } => until,
            Mode::Normal | Mode::Exiting => Deadline::Never,
        };
        self.engine.logdirs.iter().fold(own, |d, ld| d.min(ld.deadline()))
    }

    fn run(&mut self) -> Result<(), Fatal> {
        loop {
            for ld in &mut self.engine.logdirs {
                if ld.has_data() && ld.state() == crate::logdir::State::Writable {
                    ld.flush();
                }
            }
            if self.engine.out_open && !self.engine.out.is_empty() && self.out_ready {
                self.out_ready = self.engine.flush_stdout() || !self.out_polled;
            }
            let out_pending = self.engine.out_open && !self.engine.out.is_empty();
            let blocked = out_pending || self.engine.logdirs.iter().any(Logdir::blocked);
            if self.mode == Mode::Exiting && !out_pending && self.engine.logdirs.iter().all(Logdir::idle) {
                return Ok(());
            }
            let mut can_read = self.mode != Mode::Exiting && !(self.block && blocked);
            if can_read && self.input.ready && self.input.stale {
                self.recheck_input()?;
                can_read = self.mode != Mode::Exiting;
            }
            // After a read there is output to write and maybe more to read: only look for
            // signals and events, without sleeping, before going round again.
            let mut busy = false;
            if can_read && self.input.ready {
                let res = match self.mode {
                    Mode::LastLine { .. } => self.input.read_last(&mut self.engine),
                    _ => self.input.read_normal(&mut self.engine),
                };
                match res {
                    Read::Data => busy = true,
                    Read::Empty => {}
                    Read::End => {
                        self.input.flush_partial(&mut self.engine);
                        self.stop_reading();
                        busy = true;
                    }
                }
            }
            let deadline = if busy { Deadline::At(std::time::Instant::now()) } else { self.next_deadline() };
            let [sig, inp, outp] =
                self.ev.wait_tokens(deadline).map_err(|e| Fatal::sys("wait for events", &e))?;
            if sig {
                self.handle_signals()?;
            }
            if inp {
                self.input.ready = true;
                self.input.stale = false;
            }
            if outp {
                self.out_ready = true;
            }
            if matches!(self.mode, Mode::LastLine { until } if until.passed()) {
                self.input.flush_partial(&mut self.engine);
                self.stop_reading();
            }
            for ld in &mut self.engine.logdirs {
                ld.on_timer();
            }
        }
    }

    /// fsync and mark u+x every `current`, retrying failures after their delay.
    fn finalize(&mut self) {
        loop {
            let mut next = Deadline::Never;
            let mut done = true;
            for ld in &mut self.engine.logdirs {
                if !ld.finalize() {
                    done = false;
                    next = next.min(ld.retry_deadline());
                }
            }
            if done {
                return;
            }
            if let Some(d) = next.remaining() {
                std::thread::sleep(d);
            }
        }
    }
}

/// Whether `fd` has data (or end of file) to read right now, level-triggered: the
/// event loop is edge-triggered and only reports new arrivals.
fn readable_now(fd: BorrowedFd<'_>) -> io::Result<bool> {
    use s6rs_sys::event::{PollFd, PollFlags};
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    // A zero timeout never sleeps, so this poll cannot be interrupted (EINTR).
    s6rs_sys::event::poll(&mut fds, Deadline::At(std::time::Instant::now()))?;
    Ok(fds[0].revents().is_some_and(|r| !r.is_empty()))
}

/// Registers `fd`; false when it cannot be polled (a regular file or /dev/null, which are
/// always ready).
fn watch(ev: &EventLoop, fd: BorrowedFd<'_>, token: usize, w: Watch) -> Result<bool, Fatal> {
    match ev.add(fd, token, w) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => Ok(false),
        Err(e) => Err(Fatal::sys("register with the event loop", &e)),
    }
}

/// Runs s6-log.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (opts, idx) = parse_opts(&args)?;
    let words = &args[idx..];
    if words.is_empty() {
        return Err(SPEC.usage_error());
    }
    sanitize_std_fds().map_err(|e| Fatal::sys("ensure stdin/stdout/stderr are open", &e))?;
    s6rs_sys::fd::set_nonblock(stdin(), true).map_err(|e| Fatal::sys("set stdin non-blocking", &e))?;
    s6rs_sys::fd::set_nonblock(stdout(), true).map_err(|e| Fatal::sys("set stdout non-blocking", &e))?;
    let umask = s6rs_sys::fd::umask(0);
    s6rs_sys::fd::umask(umask);
    let mask = !umask & 0o666;
    let verbose = opts.verbosity > 0;

    let mut parsed = script::parse(words)?;
    if parsed.extraneous && verbose {
        warn("ignoring extraneous non-action directives");
    }
    let specs = std::mem::take(&mut parsed.logdirs);
    let mut logdirs = Vec::with_capacity(specs.len());
    for spec in specs {
        logdirs.push(Logdir::open(spec, mask, verbose)?);
    }
    let (tai, local) = parsed.stamps();

    let trap = Trap::new(&[libc::SIGALRM, libc::SIGTERM, libc::SIGHUP, libc::SIGCHLD])
        .map_err(|e| Fatal::sys("trap signals", &e))?;
    let ev = EventLoop::new(8).map_err(|e| Fatal::sys("create the event loop", &e))?;
    ev.add(trap.as_fd(), TOKEN_SIG, Watch::Read).map_err(|e| Fatal::sys("register signalfd", &e))?;
    let in_polled = watch(&ev, stdin(), TOKEN_IN, Watch::Read)?;
    let out_polled = watch(&ev, stdout(), TOKEN_OUT, Watch::Write)?;

    let read_size = READ_SIZE.max(opts.linelimit.saturating_add(1));
    let mut logger = Logger {
        engine: Engine {
            script: parsed,
            logdirs,
            out: Vec::new(),
            out_open: true,
            tai,
            local,
            clock: stamp::Clock::new(true),
            scratch: Vec::new(),
            verbose,
        },
        input: Input {
            buf: vec![0; read_size],
            start: 0,
            end: 0,
            linelimit: opts.linelimit,
            ready: true,
            stale: false,
            polled: in_polled,
            verbose,
        },
        mode: Mode::Normal,
        out_ready: true,
        out_polled,
        block: opts.block,
        protect: opts.protect,
        lastline_ms: opts.lastline_ms,
        ev,
        trap,
    };

    if let Some(fd) = opts.notif {
        if let Ok(f) = s6rs_sys::fd::adopt(fd) {
            let f = File::from(f);
            let _ = s6rs_sys::fd::write_all(f.as_fd(), b"\n");
            drop(f);
        }
    }
    logger.run()?;
    logger.finalize();
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    use s6rs_sys::testing::args;

    #[test]
    fn options() {
        let (o, i) = parse_opts(&args(&["-b", "-p", "-l", "10", "-t0", "-vv", "-q", "1"])).unwrap();
        assert!(o.block && o.protect);
        assert_eq!((o.linelimit, o.lastline_ms, o.verbosity, i), (48, 0, 2, 7));
        let (o, _) = parse_opts(&args(&["-l0", "1"])).unwrap();
        assert_eq!(o.linelimit, 0);
        assert!(parse_opts(&args(&["-z", "1"])).unwrap_err().usage);
        assert!(parse_opts(&args(&["-l", "x", "1"])).unwrap_err().usage);
        assert_eq!(
            parse_opts(&args(&["-d", "1", "1"])).unwrap_err().msg,
            "notification fd must be 3 or more"
        );
        assert_eq!(parse_opts(&args(&["-d", "999", "1"])).unwrap_err().code, 100);
    }
}
