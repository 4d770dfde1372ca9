//! Adding services to a running s6-svscan and taking them away, without races (upstream
//! `s6_supervise_link_names` / `s6_supervise_unlink_names`, used by s6-svlink, s6-svunlink
//! and the instance programs).
//!
//! Linking subscribes to each new service's `event/` fifodir before the symlink exists, so
//! the supervisor's start-up event `s` cannot be missed; unlinking subscribes to the
//! supervisors' exit event `x` before asking s6-svscan to let them go.

use std::ffi::OsStr;
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use s6rs_sys::cli::{parse_uint, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{EventLoop, Watch};

use crate::cmd::svok::is_supervised;
use crate::control::{self, Command, ScanCommand, SendError};
use crate::fifodir::{self, Listener};

/// How [`link`] treats the services it adds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LinkOptions {
    /// Apply the public/private mode to an `event/` that already exists.
    pub force_event_mode: bool,
    /// Create `event/` public (anyone may subscribe) rather than restricted to our egid.
    pub public_events: bool,
    /// Create `./down` in each new service dir, so its supervisor does not start it.
    pub down: bool,
    /// Remove `./down` again once the supervisors run (with `down`: start them down, once).
    pub remove_down_after: bool,
}

/// The options of s6-svlink and s6-instance-create, in their usage-line order:
/// `[ -d | -D ] [ -f ] [ -P ] [ -t timeout ]`.
pub(crate) const LINK_FLAGS: [Flag; 5] = [
    Flag::new('d', Show::Own, "start the supervisor with the service down; remove ./down afterwards"),
    Flag::new('D', Show::Or, "start the supervisor with the service down, and leave ./down"),
    Flag::new('f', Show::Own, "set event/'s public or private mode even if it exists"),
    Flag::new('P', Show::Own, "make event/ public: anyone may subscribe"),
    Flag::arg('t', "timeout", Show::Own, "give up after this many milliseconds, exit 99 (0: never)"),
];

/// The options of s6-svunlink and s6-instance-delete: `[ -X ] [ -t timeout ]`.
pub(crate) const UNLINK_FLAGS: [Flag; 2] = [
    Flag::new('X', Show::Own, "do not wait for the supervisor to exit"),
    Flag::arg('t', "timeout", Show::Own, "stop waiting after this many milliseconds (0: never)"),
];

impl LinkOptions {
    /// Parses `args` against `spec`, whose table is [`LINK_FLAGS`]: the options, the
    /// timeout (ms, 0: none; the caller starts the clock) and the operands. Any bad option
    /// is a usage error.
    pub(crate) fn parse<'a>(
        spec: &'a Spec,
        args: &'a [std::ffi::OsString],
    ) -> Result<(LinkOptions, u64, &'a [std::ffi::OsString]), Fatal> {
        let mut g = spec.getopt(args);
        let mut opts = LinkOptions::default();
        let mut timeout = 0u64;
        while let Some(opt) = g.next() {
            let opt = opt.map_err(|_| spec.usage_error())?;
            match opt.c {
                'd' => {
                    opts.down = true;
                    opts.remove_down_after = true;
                }
                'D' => {
                    opts.down = true;
                    opts.remove_down_after = false;
                }
                'f' => opts.force_event_mode = true,
                'P' => opts.public_events = true,
                't' => timeout = parse_uint(opt.arg_str()).ok_or_else(|| spec.usage_error())?,
                _ => return Err(spec.usage_error()),
            }
        }
        Ok((opts, timeout, g.operands()))
    }
}

/// Parses `args` against `spec`, whose table is [`UNLINK_FLAGS`]: whether to wait for the
/// supervisors (no `-X`), the timeout (ms, 0: none) and the operands.
pub(crate) fn parse_unlink<'a>(
    spec: &'a Spec,
    args: &'a [std::ffi::OsString],
) -> Result<(bool, u64, &'a [std::ffi::OsString]), Fatal> {
    let mut g = spec.getopt(args);
    let mut wait = true;
    let mut timeout = 0u64;
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| spec.usage_error())?;
        match opt.c {
            'X' => wait = false,
            't' => timeout = parse_uint(opt.arg_str()).ok_or_else(|| spec.usage_error())?,
            _ => return Err(spec.usage_error()),
        }
    }
    Ok((wait, timeout, g.operands()))
}

/// The exit code for a failed [`link`]: 99 when the deadline passed, 111 otherwise.
pub(crate) fn failure_code(e: &io::Error) -> u8 {
    if e.raw_os_error() == Some(libc::ETIMEDOUT) {
        99
    } else {
        111
    }
}

/// One service: the directory, and the name of its link in the scan directory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Service<'a> {
    /// The service directory.
    pub dir: &'a Path,
    /// The link name in the scan directory.
    pub name: &'a OsStr,
    /// What the link points to, as given; `None`: the real path of `dir` (s6-svlink's
    /// way; the instance programs link `../instances/NAME`, relative as upstream's).
    pub target: Option<&'a Path>,
}

/// Whether a service runs under a supervisor, and whether it has a supervised `log/`.
#[derive(Debug, Clone, Copy)]
struct Supervision {
    running: bool,
    logged: bool,
}

/// Looks at `dir` and `dir/log`, which must agree on being supervised or not.
fn supervision(dir: &Path) -> io::Result<Supervision> {
    let running = is_supervised(dir)?;
    let log = dir.join("log");
    let logged = match std::fs::metadata(&log) {
        Ok(md) if !md.is_dir() => return Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
        Ok(_) => {
            if is_supervised(&log)? != running {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            true
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    Ok(Supervision { running, logged })
}

/// Waits until every listener has seen `event`, or `deadline` passes (ETIMEDOUT).
fn wait_all(listeners: &[Listener], event: u8, deadline: Deadline) -> io::Result<()> {
    let mut pending: Vec<bool> = vec![true; listeners.len()];
    let mut lp = EventLoop::new(listeners.len())?;
    for (i, l) in listeners.iter().enumerate() {
        lp.add(l.as_fd(), i, Watch::Read)?;
    }
    let mut buf = [0u8; 256];
    loop {
        // Edge-triggered: drain everything still pending, whichever fd woke us.
        for (i, l) in listeners.iter().enumerate() {
            while pending[i] {
                let n = l.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                if buf[..n].contains(&event) {
                    pending[i] = false;
                }
            }
        }
        if !pending.contains(&true) {
            return Ok(());
        }
        if deadline.passed() {
            return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT));
        }
        lp.wait(deadline, |_| {})?;
    }
}

fn create_down(dir: &Path) -> io::Result<()> {
    s6rs_sys::fd::open_trunc(&dir.join("down")).map(drop)
}

/// Prepares one service dir for its first supervisor and subscribes to its events.
fn register(dir: &Path, gid: Option<u32>, opts: LinkOptions) -> io::Result<Listener> {
    if opts.down {
        create_down(dir)?;
    }
    let event = dir.join("event");
    fifodir::make(&event, gid, opts.force_event_mode)?;
    Listener::subscribe(&event)
}

/// Removes the `./down` files [`register`] made. Upstream leaves `log/down` behind, which
/// keeps the logger (and, once the pipe fills, the service) stopped for good.
fn remove_down(dir: &Path, logged: bool) {
    let _ = std::fs::remove_file(dir.join("down"));
    if logged {
        let _ = std::fs::remove_file(dir.join("log/down"));
    }
}

/// Undoes a link (upstream `s6_supervise_unlink`): when `kill`, the supervisors are told to
/// exit (`x`) and the service to stop (`d`) or its logger to stop once drained (`o`), so
/// s6-svscan does not have to notice; the link, and with `down` the `./down` file, go.
fn undo(scandir: &Path, name: &OsStr, kill: bool, down: bool) {
    let link = scandir.join(name);
    if down {
        remove_down(&link, true);
    }
    let fifos = kill.then(|| {
        (
            s6rs_sys::fd::open_write_nb(&link.join("supervise/control")).ok(),
            s6rs_sys::fd::open_write_nb(&link.join("log/supervise/control")).ok(),
        )
    });
    let _ = std::fs::remove_file(&link);
    if let Some((main, log)) = fifos {
        if let Some(f) = main {
            let _ = s6rs_sys::fd::write_all(f.as_fd(), &control::encode([Command::Exit, Command::Down]));
        }
        if let Some(f) = log {
            let _ = s6rs_sys::fd::write_all(f.as_fd(), &control::encode([Command::Exit, Command::Once]));
        }
    }
}

fn send_scan(scandir: &Path, cmds: &[u8]) -> io::Result<()> {
    control::send(scandir, ".s6-svscan", cmds).map_err(|e| match e {
        SendError::NotListening => io::Error::from_raw_os_error(libc::ENXIO),
        SendError::Broken(e) | SendError::Io(e) => e,
    })
}

/// Links `services` into `scandir`, has s6-svscan pick them up, and waits until a
/// supervisor runs for each (and for each `log/`). Services that are already supervised
/// are linked but not waited for. On failure every link made is taken back, and the error
/// is ETIMEDOUT when the deadline passed. Returns how many supervisors were waited for.
pub(crate) fn link(
    scandir: &Path,
    services: &[Service<'_>],
    opts: LinkOptions,
    deadline: Deadline,
) -> io::Result<usize> {
    let states = services.iter().map(|s| supervision(s.dir)).collect::<io::Result<Vec<_>>>()?;
    let gid = if opts.public_events { None } else { Some(s6rs_sys::proc::egid()) };
    let mut listeners = Vec::new();
    let mut linked = 0;
    let mut told_scanner = false;
    let res = (|| {
        for (svc, st) in services.iter().zip(&states) {
            if !st.running {
                listeners.push(register(svc.dir, gid, opts)?);
                if st.logged {
                    listeners.push(register(&svc.dir.join("log"), gid, opts)?);
                }
            }
            let target: PathBuf = match svc.target {
                Some(t) => t.to_path_buf(),
                None if svc.dir.is_absolute() => svc.dir.to_path_buf(),
                None => std::fs::canonicalize(svc.dir)?,
            };
            match std::os::unix::fs::symlink(&target, scandir.join(svc.name)) {
                Ok(()) => {}
                Err(e) if st.running && e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            linked += 1;
        }
        send_scan(scandir, &control::encode_scan([ScanCommand::Alarm]))?;
        told_scanner = true;
        wait_all(&listeners, b's', deadline)
    })();
    let waited = listeners.len();
    drop(listeners);
    if let Err(e) = res {
        for svc in &services[..linked] {
            undo(scandir, svc.name, told_scanner, opts.down);
        }
        return Err(e);
    }
    if opts.remove_down_after {
        for (svc, st) in services.iter().zip(&states) {
            remove_down(&scandir.join(svc.name), st.logged);
        }
    }
    Ok(waited)
}

/// Subscribes to the exit of the supervisor of `dir`, through the real path of its
/// `event/` (the link is about to disappear); `None` if that fails or it already exited.
fn watch_exit(dir: &Path) -> Option<Listener> {
    let event = std::fs::canonicalize(dir.join("event")).ok()?;
    let l = Listener::subscribe(&event).ok()?;
    // Subscribed first, checked second: an exit after this check is an event we will see.
    is_supervised(dir).ok()?.then_some(l)
}

/// Removes `names` from `scandir`, asks s6-svscan to rescan and drop inactive services
/// (`an`), and with `wait` waits (until `deadline`, silently) for their supervisors to
/// exit. Failing to be notified is not an error: this is a destructor. Returns how many
/// supervisors were waited for.
pub(crate) fn unlink(scandir: &Path, names: &[&OsStr], wait: bool, deadline: Deadline) -> io::Result<usize> {
    let states = if wait {
        names.iter().map(|n| supervision(&scandir.join(n))).collect::<io::Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    let mut listeners = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let link = scandir.join(name);
        if let Some(st) = states.get(i).filter(|st| st.running) {
            listeners.extend(watch_exit(&link));
            if st.logged {
                listeners.extend(watch_exit(&link.join("log")));
            }
        }
        let _ = std::fs::remove_file(&link);
    }
    let _ = send_scan(scandir, &control::encode_scan([ScanCommand::Alarm, ScanCommand::Nuke]));
    if wait {
        let _ = wait_all(&listeners, b'x', deadline);
    }
    Ok(listeners.len())
}
