//! `s6-supervise servicedir`: supervise one service (upstream doc/s6-supervise.html).
//!
//! This module does the start-up of FORMATS.md §1.1, in order: `event/`, `supervise/`, the
//! lock, the control fifo, the signal trap, the event-directory cleanup, the death tally and
//! `./down`. Then [`crate::supervisor::Supervisor`] takes over.
//!
//! One deviation: a `supervise` or `event` symlink whose target already exists as a
//! directory is accepted (upstream dies, so a restarted supervisor could never reuse it).

use std::ffi::OsString;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use s6rs_sys::cli::{self, show, warn_sys, Fatal, Spec, EXIT_SYS};
use s6rs_sys::sig::{self, Trap};

use crate::supervisor::{Fds, Supervisor};
use crate::{dtally, fifodir, servicedir};

/// The command line: no options, as upstream.
pub const SPEC: Spec = Spec {
    name: "s6-supervise",
    operands: "dir",
    about: "Supervises the service in dir: runs ./run, restarts it when it dies, and obeys s6-svc.",
    doc: "s6-supervise.html",
    flags: &[],
};

/// Runs s6-supervise. It takes no options: the first argument is the service directory.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    s6rs_sys::proc::small_heap();
    let Some(dir) = args.into_iter().next() else { return Err(SPEC.usage_error()) };
    std::env::set_current_dir(&dir).map_err(|e| Fatal::sys(format_args!("chdir to {}", show(&dir)), &e))?;
    cli::rename_prog(&format!("s6-supervise {}", show(&dir)));
    let maxfd = nofile_limit()?;

    let old = s6rs_sys::fd::umask(0);
    let made = control_init();
    s6rs_sys::fd::umask(old);
    let (lock, control, control_w) = made?;

    let trap = Trap::new(&[libc::SIGCHLD, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGINT])
        .map_err(|e| Fatal::sys("trap signals", &e))?;
    sig::ignore(libc::SIGPIPE).map_err(|e| Fatal::sys("ignore SIGPIPE", &e))?;

    if let Err(e) = fifodir::clean(Path::new("event")) {
        warn_sys("clean event", &e);
    }
    dtally::truncate(Path::new(".")).map_err(|e| Fatal::sys("truncate supervise/death_tally", &e))?;
    let down = servicedir::flag(Path::new("."), "down").map_err(|e| Fatal::sys("access ./down", &e))?;

    let fds = Fds { _lock: lock, control, _control_w: control_w, trap };
    let sup = Supervisor::new(dir, maxfd, fds, !down).map_err(|e| Fatal::sys("create event loop", &e))?;
    sup.run()?;
    Ok(0)
}

fn nofile_limit() -> Result<u64, Fatal> {
    let lim = s6rs_sys::rlimit::get(s6rs_sys::rlimit::NOFILE).map_err(|e| Fatal::sys("getrlimit", &e))?;
    Ok(lim.soft)
}

/// Steps 1-4 of the start-up, run under umask 0.
fn control_init() -> Result<(File, File, File), Fatal> {
    if make_dir("event")? {
        let gid = s6rs_sys::proc::egid();
        std::os::unix::fs::chown("event", None, Some(gid)).map_err(|e| Fatal::sys("chown event", &e))?;
        std::fs::set_permissions("event", std::fs::Permissions::from_mode(0o3730))
            .map_err(|e| Fatal::sys("chmod event", &e))?;
    }
    make_dir("supervise")?;

    let lock = OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NONBLOCK)
        .open("supervise/lock")
        .map_err(|e| Fatal::sys("open supervise/lock", &e))?;
    match s6rs_sys::lock::try_lock(lock.as_fd(), true) {
        Ok(true) => {}
        Ok(false) => return Err(Fatal::bad("another instance of s6-supervise is already running")),
        Err(e) => return Err(Fatal::sys("lock supervise/lock", &e)),
    }

    let fifo = Path::new("supervise/control");
    if let Err(e) = s6rs_sys::fd::mkfifo(fifo, 0o600) {
        if e.kind() != io::ErrorKind::AlreadyExists {
            return Err(Fatal::sys("mkfifo supervise/control", &e));
        }
        let md = std::fs::metadata(fifo).map_err(|e| Fatal::sys("stat supervise/control", &e))?;
        if !md.file_type().is_fifo() {
            return Err(Fatal::bad("supervise/control is not a FIFO"));
        }
    }
    let control =
        s6rs_sys::fd::open_read_nb(fifo).map_err(|e| Fatal::sys("open supervise/control for reading", &e))?;
    let control_w = s6rs_sys::fd::open_write_nb(fifo)
        .map_err(|e| Fatal::sys("open supervise/control for writing", &e))?;
    Ok((lock, control, control_w))
}

/// `mkdir name 0700`; true if we created it. An existing directory is used as is. A
/// symlink gets its target created. Upstream dies when that target already exists (so a
/// restarted supervisor cannot reuse it); we accept an existing directory there.
fn make_dir(name: &str) -> Result<bool, Fatal> {
    let mut b = DirBuilder::new();
    b.mode(0o700);
    let e = match b.create(name) {
        Ok(()) => return Ok(true),
        Err(e) => e,
    };
    if e.kind() != io::ErrorKind::AlreadyExists {
        return Err(Fatal::sys(format_args!("mkdir {name}"), &e));
    }
    let target = match std::fs::read_link(name) {
        Ok(t) => t,
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            let md = std::fs::metadata(name).map_err(|e| Fatal::sys(format_args!("stat {name}"), &e))?;
            if !md.is_dir() {
                return Err(Fatal::bad(format!("{name} exists and is not a directory")));
            }
            return Ok(false);
        }
        Err(e) => return Err(Fatal::sys(format_args!("readlink {name}"), &e)),
    };
    match b.create(&target) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && target.is_dir() => Ok(false),
        Err(e) => Err(Fatal::sys_code(EXIT_SYS, format_args!("mkdir {}", target.display()), &e)),
    }
}
