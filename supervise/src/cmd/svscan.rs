//! `s6-svscan [ -d notif ] [ -X consoleholder ] [ -C services_max ] [ -L name_max ]
//! [ -t rescan ] scandir`: run one s6-supervise per service directory of `scandir`, keep the
//! logger pipes, reap every child, obey `s6-svscanctl` and signals, and exec
//! `.s6-svscan/finish` at the end (upstream doc/s6-svscan.html; INVENTORY.md §1.1, §3;
//! FORMATS.md §3).
//!
//! Once set up it never exits on its own: an unrecoverable system error execs
//! `.s6-svscan/crash`. It is single-threaded: one event loop over the signalfd and the
//! control fifo, with deadlines for the next scan and the next supervisor start.
//!
//! As process 1 (a container's entry point; tests/supervise/container.rs) nothing is
//! special-cased. The reaper takes every child, orphans re-parented to us included. A PID
//! namespace's init gets no signal it neither catches nor blocks; ours are blocked and read
//! from the signalfd, so SIGTERM and SIGINT from outside arrive. SIGCHLD is put back to the
//! default first, as an entry point started with it ignored would never see a death. When
//! `.s6-svscan/finish`, exec'd as pid 1, exits (or we exit without one), the namespace ends
//! with that exit code and the kernel kills what is left in it.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use s6rs_sys::cli::{errtext, parse_uint, show, warn, warn_sys, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{EventLoop, Watch};
use s6rs_sys::exec::{self, exec_fatal, Command, Report};
use s6rs_sys::fd;
use s6rs_sys::sig::{self, Trap};

use crate::control::ScanCommand;
use crate::svscan::scan;
use crate::svscan::table::{KillSet, Start, Table};

/// The command line, with 2.15's long options.
pub const SPEC: Spec = Spec {
    name: "s6-svscan",
    operands: "scandir",
    about: "Runs one s6-supervise for each service directory in scandir, and keeps that tree \
            in step with the directory.",
    doc: "s6-svscan.html",
    flags: &[
        Flag::arg('C', "services_max", Show::Own, "room for this many services (default 1000)")
            .long("services-max"),
        Flag::arg('L', "name_max", Show::Own, "longest service name accepted (default 251)").long("name-max"),
        Flag::arg('t', "timeout", Show::Own, "rescan every this many milliseconds (0, the default: never)")
            .long("timeout"),
        Flag::arg('d', "notif", Show::Own, "write a newline to this fd once ready for commands")
            .long("notification-fd"),
        Flag::arg(
            'X',
            "consoleholder",
            Show::Own,
            "this fd holds the console, for the s6-svscan-log supervisor",
        )
        .long("console-holder"),
    ],
};

const CTLDIR: &str = ".s6-svscan";
const LOCK: &str = ".s6-svscan/lock";
const CONTROL: &str = ".s6-svscan/control";
const FINISH: &str = ".s6-svscan/finish";
const CRASH: &str = ".s6-svscan/crash";

// Pending actions, with upstream's bit values (FORMATS.md §3.2).
/// Kill every supervisor, not only inactive ones.
const KILL_ALL: u8 = 1;
/// Kill (inactive) supervisors, with SIGTERM to mains.
const TERM_MAINS: u8 = 2;
/// SIGTERM to loggers too.
const TERM_LOGGERS: u8 = 4;
/// Run the reaper.
const REAP: u8 = 8;
/// Hold kills until the next complete scan (`h`, `a`).
const AFTER_SCAN: u8 = 16;
const KILLS: u8 = KILL_ALL | TERM_MAINS | TERM_LOGGERS;

/// Seconds without spawning after a failed spawn.
const SPAWN_RETRY: Duration = Duration::from_secs(10);

// The event-loop tokens, numbered from 0: the main loop reads them back in this order
// (`wait_tokens`).
const TOKEN_SIGNALS: usize = 0;
const TOKEN_CONTROL: usize = 1;

const TRAPPED: &[i32] = &[
    libc::SIGCHLD,
    libc::SIGALRM,
    libc::SIGABRT,
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGPWR,
    libc::SIGWINCH,
];

struct Options {
    max: usize,
    namemax: usize,
    rescan: Option<Duration>,
    notif: Option<i32>,
    console: Option<OwnedFd>,
    dir: OsString,
}

/// Runs s6-svscan.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let opts = parse(&args)?;
    sanitize_std_fds().map_err(|_| Fatal::bad("unable to sanitize standard fds"))?;
    std::env::set_current_dir(&opts.dir)
        .map_err(|e| Fatal::sys(format_args!("chdir to {}", show(&opts.dir)), &e))?;
    let control = Control::init()?;
    // The trap also puts an inherited ignored SIGCHLD back to its default (a container's
    // entry point may be started so), which would hide every death from the reaper.
    let trap = Trap::new(TRAPPED).map_err(|e| Fatal::sys("trap signals", &e))?;
    sig::ignore(libc::SIGPIPE).map_err(|e| Fatal::sys("ignore SIGPIPE", &e))?;
    initial_cleanup()?;
    if let Some(n) = opts.notif {
        // Shallow readiness: the control fifo is ready; says nothing about services.
        if let Ok(f) = fd::adopt(n) {
            let _ = fd::write_all(f.as_fd(), b"\n");
        }
    }
    let lp = EventLoop::new(4).map_err(|e| Fatal::sys("create event loop", &e))?;
    lp.add(trap.as_fd(), TOKEN_SIGNALS, Watch::Read).map_err(|e| Fatal::sys("watch signals", &e))?;
    lp.add(control.read.as_fd(), TOKEN_CONTROL, Watch::Read)
        .map_err(|e| Fatal::sys(format_args!("watch {CONTROL}"), &e))?;
    let mut sv = Svscan {
        table: Table::new(opts.max, opts.namemax),
        trap,
        control,
        lp,
        supervise: exec::sibling("s6-supervise"),
        console: opts.console,
        rescan: opts.rescan,
        scan_deadline: Deadline::At(Instant::now()),
        spawn_hold: Deadline::At(Instant::now()),
        what: 0,
        cont: true,
        waitall: false,
        spawner: exec::Spawner::new(),
    };
    // From here on s6-svscan must not die: recoverable errors are retried later, the others
    // exec into the crash program.
    if let Err(c) = sv.main_loop() {
        restore_console(sv.console.take());
        return Err(crash(&c));
    }
    sv.finish()
}

fn parse(args: &[OsString]) -> Result<Options, Fatal> {
    let mut g = SPEC.getopt(args);
    let (mut max, mut namemax, mut timeout, mut notif, mut console) = (None, None, None, None, None);
    while let Some(opt) = g.next_long() {
        let o = opt.map_err(|b| b.fatal(&SPEC.usage()))?;
        let v = o.arg_str().to_owned();
        match o.c {
            'C' => max = Some(v),
            'L' => namemax = Some(v),
            't' => timeout = Some(v),
            'd' => notif = Some(v),
            'X' => console = Some(v),
            _ => return Err(SPEC.usage_error()),
        }
    }
    let Some(dir) = g.operands().first() else { return Err(SPEC.usage_error()) };
    let uint = |v: &str, what: &str| {
        parse_uint::<u32>(v).ok_or_else(|| Fatal::bad(format!("{what} must be an unsigned integer")))
    };
    let mut o =
        Options { max: 1000, namemax: 251, rescan: None, notif: None, console: None, dir: dir.clone() };
    if let Some(v) = max {
        o.max = uint(&v, "services_max")?.clamp(4, 160_000) as usize;
    }
    if let Some(v) = namemax {
        o.namemax = uint(&v, "name_max")?.clamp(11, 1019) as usize;
    }
    if let Some(v) = timeout {
        let ms = uint(&v, "timeout")?;
        o.rescan = (ms > 0).then(|| Duration::from_millis(u64::from(ms)));
    }
    if let Some(v) = notif {
        let n = given_fd(&v, "notif", "invalid notification fd")?;
        o.notif = Some(n);
    }
    if let Some(v) = console {
        let n = given_fd(&v, "consoleholder", "invalid console holder fd")?;
        let f =
            fd::adopt(n).map_err(|e| Fatal::bad(format!("invalid console holder fd: {}", errtext(&e))))?;
        fd::set_cloexec(f.as_fd(), true).map_err(|e| Fatal::sys("coe console holder", &e))?;
        o.console = Some(f);
    }
    Ok(o)
}

/// An fd number given on the command line: at least 3 and open.
fn given_fd(v: &str, what: &str, invalid: &str) -> Result<i32, Fatal> {
    let n = parse_uint::<u32>(v).ok_or_else(|| Fatal::bad(format!("{what} must be an unsigned integer")))?;
    s6rs_sys::cli::given_fd(n.into(), what, invalid)
}

/// Makes sure fds 0, 1 and 2 are open (on /dev/null if they were closed), so that no file
/// we open later lands on them.
fn sanitize_std_fds() -> io::Result<()> {
    for n in 0..3 {
        if fd::is_open(n) {
            continue;
        }
        let f = OpenOptions::new().read(n == 0).write(n != 0).open("/dev/null")?;
        let raw = f.as_raw_fd();
        fd::dup_to(f.as_fd(), n)?;
        if raw == n {
            // It is the standard fd now: keep it open.
            let _ = f.into_raw_fd();
        }
    }
    Ok(())
}

/// `.s6-svscan/`: the lock held for our lifetime and the control fifo, whose write end we
/// keep open so that reading it never sees EOF.
struct Control {
    read: File,
    _write: File,
    _lock: File,
}

impl Control {
    fn init() -> Result<Control, Fatal> {
        let old = fd::umask(0);
        let res = Control::make();
        fd::umask(old);
        res
    }

    fn make() -> Result<Control, Fatal> {
        if let Err(e) = std::fs::DirBuilder::new().mode(0o700).create(CTLDIR) {
            if e.kind() != io::ErrorKind::AlreadyExists {
                return Err(Fatal::sys(format_args!("mkdir {CTLDIR}"), &e));
            }
            let md = std::fs::metadata(CTLDIR).map_err(|e| Fatal::sys(format_args!("stat {CTLDIR}"), &e))?;
            if !md.is_dir() {
                return Err(Fatal::bad(format!("{CTLDIR} exists and is not a directory")));
            }
        }
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NONBLOCK)
            .open(LOCK)
            .map_err(|e| Fatal::sys(format_args!("open {LOCK}"), &e))?;
        match s6rs_sys::lock::try_lock(lock.as_fd(), true) {
            Ok(true) => {}
            Ok(false) => {
                return Err(Fatal::bad(
                    "another instance of s6-svscan is already running on the same directory",
                ))
            }
            Err(e) => return Err(Fatal::sys(format_args!("lock {LOCK}"), &e)),
        }
        if let Err(e) = fd::mkfifo(Path::new(CONTROL), 0o600) {
            if e.kind() != io::ErrorKind::AlreadyExists {
                return Err(Fatal::sys(format_args!("mkfifo {CONTROL}"), &e));
            }
            let md =
                std::fs::metadata(CONTROL).map_err(|e| Fatal::sys(format_args!("stat {CONTROL}"), &e))?;
            if !md.file_type().is_fifo() {
                return Err(Fatal::bad(format!("{CONTROL} is not a FIFO")));
            }
        }
        let read = fd::open_read_nb(Path::new(CONTROL))
            .map_err(|e| Fatal::sys(format_args!("open {CONTROL} for reading"), &e))?;
        let write = fd::open_write_nb(Path::new(CONTROL))
            .map_err(|e| Fatal::sys(format_args!("open {CONTROL} for writing"), &e))?;
        Ok(Control { read, _write: write, _lock: lock })
    }
}

/// Removes dangling symlinks (any non-dot entry whose target does not exist) before the
/// first scan, so that stale links are not warned about at every scan (upstream 2.14.0.1).
fn initial_cleanup() -> Result<(), Fatal> {
    let dir = std::fs::read_dir(".").map_err(|e| Fatal::sys("opendir .", &e))?;
    for ent in dir {
        let ent = ent.map_err(|e| Fatal::sys("readdir .", &e))?;
        let name = ent.file_name();
        if name.as_bytes().first() == Some(&b'.') {
            continue;
        }
        if let Err(e) = std::fs::metadata(&name) {
            if e.kind() == io::ErrorKind::NotFound {
                let _ = std::fs::remove_file(&name);
            }
        }
    }
    Ok(())
}

/// An unrecoverable error in the main loop: what failed.
struct Crash {
    what: &'static str,
    err: io::Error,
}

fn crashed(what: &'static str) -> impl FnOnce(io::Error) -> Crash {
    move |err| Crash { what, err }
}

/// Reports `c` and execs into `.s6-svscan/crash`; returns the error if even that fails.
fn crash(c: &Crash) -> Fatal {
    warn_sys(c.what, &c.err);
    warn(format_args!("executing into {CRASH}"));
    match Command::new(&[CRASH]) {
        Ok(cmd) => exec_fatal(CRASH, &cmd.exec()),
        Err(e) => exec_fatal(CRASH, &e),
    }
}

/// Gives fds 1 and 2 back to the console holder of `-X`.
fn restore_console(console: Option<OwnedFd>) {
    let Some(c) = console else { return };
    let _ = fd::dup_to(c.as_fd(), 2);
    drop(c);
    if let Err(e) = fd::dup_to(io::stderr().as_fd(), 1) {
        warn_sys("restore stdout", &e);
    }
}

struct Svscan {
    table: Table,
    trap: Trap,
    control: Control,
    lp: EventLoop,
    /// Our own s6-supervise, next to this program.
    supervise: PathBuf,
    console: Option<OwnedFd>,
    rescan: Option<Duration>,
    scan_deadline: Deadline,
    /// No supervisor is spawned before this (set after a spawn failure).
    spawn_hold: Deadline,
    /// Pending actions: the bits above.
    what: u8,
    /// Keep running; false once told to finish.
    cont: bool,
    /// Wait for every supervisor before exec'ing finish.
    waitall: bool,
    /// Starts supervisors vfork-style, without waiting for their exec.
    spawner: exec::Spawner,
}

impl Svscan {
    fn main_loop(&mut self) -> Result<(), Crash> {
        while self.cont {
            let start_at = match self.table.next_start() {
                Some(t) => Deadline::At(t).max(self.spawn_hold),
                None => Deadline::Never,
            };
            let [signals, control] =
                self.lp.wait_tokens(self.scan_deadline.min(start_at)).map_err(crashed("wait for events"))?;
            if signals {
                self.signals()?;
            }
            if control {
                self.control()?;
            }
            if self.cont {
                if self.scan_deadline.passed() {
                    self.scan();
                }
                if self.spawn_hold.passed() && self.table.next_start().is_some_and(|t| t <= Instant::now()) {
                    self.start();
                }
            }
            self.kill();
            self.reap()?;
        }
        Ok(())
    }

    fn signals(&mut self) -> Result<(), Crash> {
        while let Some(s) = self.trap.next().map_err(crashed("read signals"))? {
            match s {
                libc::SIGCHLD => self.what |= REAP,
                libc::SIGALRM => self.alarm(),
                libc::SIGABRT => self.abort(),
                _ if run_signal_script(s) => {}
                libc::SIGHUP => self.hup(),
                libc::SIGINT | libc::SIGTERM => self.term(),
                libc::SIGQUIT => self.quit(),
                _ => {}
            }
        }
        Ok(())
    }

    fn control(&mut self) -> Result<(), Crash> {
        let mut buf = [0u8; 64];
        loop {
            match fd::read(self.control.read.as_fd(), &mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => buf[..n].iter().for_each(|&c| self.command(c)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(crashed("read control pipe")(e)),
            }
        }
    }

    fn command(&mut self, c: u8) {
        use ScanCommand as C;
        match ScanCommand::from_byte(c) {
            Some(C::Reap) => self.what |= REAP,
            Some(C::Alarm) => self.alarm(),
            Some(C::Abort) => self.abort(),
            Some(C::Hup) => self.hup(),
            Some(C::Int | C::Term) => self.term(),
            Some(C::Quit) => self.quit(),
            Some(C::Nuke) => self.what |= TERM_MAINS,
            Some(C::NukeAll) => self.what |= TERM_MAINS | TERM_LOGGERS,
            None => warn(format_args!("received unknown control command: {}", String::from_utf8_lossy(&[c]))),
        }
    }

    fn alarm(&mut self) {
        self.what |= AFTER_SCAN;
        self.scan_deadline = Deadline::At(Instant::now());
    }

    fn hup(&mut self) {
        self.what |= AFTER_SCAN | TERM_MAINS;
        self.scan_deadline = Deadline::At(Instant::now());
    }

    fn term(&mut self) {
        self.cont = false;
        self.waitall = true;
        self.what |= KILL_ALL | TERM_MAINS;
    }

    fn quit(&mut self) {
        self.cont = false;
        self.waitall = true;
        self.what |= KILLS;
    }

    fn abort(&mut self) {
        self.cont = false;
        self.waitall = false;
    }

    fn scan(&mut self) {
        self.scan_deadline = self.rescan.map_or(Deadline::Never, Deadline::after);
        let retry = match scan::scan(&mut self.table, Path::new("."), Instant::now()) {
            Ok(retry) => {
                self.what &= !AFTER_SCAN;
                retry
            }
            Err(secs) => Some(secs),
        };
        if let Some(secs) = retry {
            self.scan_deadline = self.scan_deadline.min(Deadline::after(Duration::from_secs(secs)));
        }
    }

    fn start(&mut self) {
        let (prog, console) = (&self.supervise, self.console.as_ref().map(|c| c.as_fd()));
        let spawner = &mut self.spawner;
        let ok =
            self.table.start_due(Instant::now(), |s| match spawn_supervisor(spawner, prog, &s, console) {
                Ok(pid) => Some(pid),
                Err(e) => {
                    warn_sys(format_args!("spawn s6-supervise for {}", show(s.name)), &e);
                    None
                }
            });
        if !ok {
            self.spawn_hold = Deadline::after(SPAWN_RETRY);
        }
    }

    /// Sends the pending kills. Kills asked for with a scan wait for that scan. When we are
    /// finishing no scan will come: a kill of everything (`t`, `q`) still goes out, but a
    /// kill of inactive services that waited for a scan is dropped, as upstream drops it.
    fn kill(&mut self) {
        if self.what & AFTER_SCAN != 0 && self.what & KILLS != 0 {
            if self.cont {
                return;
            }
            if self.what & KILL_ALL == 0 {
                self.what &= !KILLS;
            }
        }
        if self.what & KILLS == 0 {
            return;
        }
        let set = KillSet {
            all: self.what & KILL_ALL != 0,
            term_mains: self.what & TERM_MAINS != 0,
            term_loggers: self.what & TERM_LOGGERS != 0,
        };
        self.table.kill(set, |pid, s| {
            let _ = sig::kill(pid, s);
        });
        self.what &= !KILLS;
    }

    /// Reaps every dead child, ours or not (we may be pid 1).
    fn reap(&mut self) -> Result<(), Crash> {
        if self.what & REAP == 0 {
            return Ok(());
        }
        self.what &= !REAP;
        while let Some((pid, _)) = exec::reap().map_err(crashed("reap children"))? {
            self.table.reaped(pid);
        }
        Ok(())
    }

    /// The end: close the logger pipes, give the console back, wait for the supervisors if
    /// asked to, and exec `.s6-svscan/finish` (exit 0 if there is none).
    fn finish(mut self) -> Result<u8, Fatal> {
        self.table.close_pipes();
        if self.table.has_special() {
            // The catch-all logger reads our stdout/stderr: let it see EOF.
            null_stdout_stderr();
        }
        restore_console(self.console.take());
        if self.waitall {
            while self.table.running() > 0 {
                match exec::wait_any() {
                    Ok((pid, _)) => {
                        self.table.reaped(pid);
                    }
                    Err(e) => {
                        warn_sys("wait for all s6-supervise processes", &e);
                        break;
                    }
                }
            }
        }
        let err = match Command::new(&[FINISH]) {
            Ok(cmd) => cmd.exec(),
            Err(e) => e,
        };
        if err.raw_os_error() == Some(libc::ENOENT) {
            return Ok(0);
        }
        Err(crash(&Crash { what: "exec finish script .s6-svscan/finish", err }))
    }
}

/// Runs `.s6-svscan/SIGNAME` for signal `s` if it is executable. Returns whether it was
/// spawned (then the built-in action is skipped).
fn run_signal_script(s: i32) -> bool {
    let Some(name) = sig::name(s) else { return false };
    let path = PathBuf::from(format!("{CTLDIR}/{name}"));
    if !exec::is_executable(&path) {
        return false;
    }
    match Command::new(&[&path]).and_then(|c| c.spawn(Report::ExecFailure)) {
        Ok(_) => true,
        Err(e) => {
            if e.raw_os_error() != Some(libc::ENOENT) {
                warn_sys(format_args!("spawn {}", path.display()), &e);
            }
            false
        }
    }
}

/// Spawns `s6-supervise NAME` with its pipe end, and the console as stderr for the
/// catch-all logger's supervisor.
fn spawn_supervisor(
    spawner: &mut exec::Spawner,
    prog: &Path,
    s: &Start<'_>,
    console: Option<BorrowedFd<'_>>,
) -> io::Result<i32> {
    let mut cmd = Command::new(&[prog.as_os_str(), s.name])?;
    if let Some((pipe, n)) = s.pipe {
        cmd.fd(pipe, n)?;
    }
    if let (true, Some(c)) = (s.special, console) {
        cmd.fd(c, 2)?;
    }
    // Without waiting for the exec, as 2.11 did: waiting would hold the scan until each
    // supervisor had exec'd, serialising a tree's start-up. A missing program is still
    // reported here (and retried).
    let msg = format!("{}: warning: unable to spawn {}: ", s6rs_sys::cli::prog(), prog.display());
    spawner.spawn(&cmd, Report::Missing(msg.as_bytes()))
}

fn null_stdout_stderr() {
    match OpenOptions::new().write(true).open("/dev/null") {
        Ok(f) => {
            if let Err(e) = fd::dup_to(f.as_fd(), 1) {
                warn_sys("redirect stdout to /dev/null", &e);
            }
            if let Err(e) = fd::dup_to(f.as_fd(), 2) {
                warn_sys("redirect stderr to /dev/null", &e);
            }
        }
        Err(e) => warn_sys("open /dev/null", &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use s6rs_sys::testing::args;

    fn err(v: &[&str]) -> Fatal {
        match parse(&args(v)) {
            Err(f) => f,
            Ok(_) => panic!("accepted {v:?}"),
        }
    }

    #[test]
    fn options_clamp_and_long_forms() {
        let o = parse(&args(&["-C1", "-L", "5000", "--timeout=250", "dir"])).unwrap();
        assert_eq!((o.max, o.namemax, o.rescan), (4, 1019, Some(Duration::from_millis(250))));
        assert_eq!(o.dir, "dir");
        let o = parse(&args(&["--services-max=999999", "--name-max=0", "-t0", "x"])).unwrap();
        assert_eq!((o.max, o.namemax, o.rescan), (160_000, 11, None));
        let o = parse(&args(&["x"])).unwrap();
        assert_eq!((o.max, o.namemax, o.rescan), (1000, 251, None));
    }

    #[test]
    fn option_errors() {
        assert!(err(&[]).usage);
        assert!(err(&["-C", "5"]).usage);
        assert_eq!(err(&["-C", "x", "d"]).msg, "services_max must be an unsigned integer");
        assert_eq!(err(&["-t", "-1", "d"]).msg, "timeout must be an unsigned integer");
        assert_eq!(err(&["-d", "2", "d"]).msg, "notif must be 3 or more");
        assert_eq!(err(&["-d", "999", "d"]).msg, "invalid notification fd: Bad file descriptor");
        assert_eq!(err(&["-X", "1", "d"]).msg, "consoleholder must be 3 or more");
        assert_eq!(err(&["--bogus=1", "d"]).msg, "unrecognized option with argument: --bogus=1");
        assert_eq!(err(&["-c", "5", "d"]).msg, "unrecognized short option: c");
        assert_eq!(err(&["-C", "x", "d"]).code, 100);
    }
}
