//! `s6-setsid [ -s | -b | -f | -g ] [ -i | -I | -q ] [ -d ctty ] prog...`: run `prog` as a
//! session leader, or as the leader of a new background or foreground process group
//! (upstream doc/s6-setsid.html, 2.15 semantics).
//!
//! Long options as in 2.15: `--session`, `--process-group`, `--background-process-group`,
//! `--foreground`, `--foreground-process-group`, `--grab`, `--foreground-process-group-grab`,
//! `--strict`, `--no-strict`, `--quiet`, `--ctty=FD`. The three long-only ones set a single
//! flag each: `--foreground` alone does not make a process group.
//!
//! Without `-d`, the foreground modes find the controlling terminal by opening `/dev/tty`
//! (2.11 used fd 0).

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use s6rs_sys::cli::{self, parse_uint, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::chainload;
use s6rs_sys::{proc, sig};

/// The command line, with 2.15's long options; `P`, `F` and `G` name the long-only flags
/// and are not valid short options.
pub const SPEC: Spec = Spec {
    name: "s6-setsid",
    operands: "prog...",
    about: "Runs prog as the leader of a new session, or of a new background or foreground \
            process group.",
    doc: "s6-setsid.html",
    flags: &[
        Flag::new('s', Show::Own, "make a new session (the default)").long("session"),
        Flag::new('b', Show::Or, "make a new process group, in the background")
            .long("background-process-group"),
        Flag::new('f', Show::Or, "make a new process group and give it the terminal")
            .long("foreground-process-group"),
        Flag::new('g', Show::Or, "make a new process group and take the terminal from the foreground group")
            .long("foreground-process-group-grab"),
        Flag::new('P', Show::LongOnly, "make a new process group (alone: in the background)")
            .long("process-group"),
        Flag::new('F', Show::LongOnly, "give the new process group the terminal").long("foreground"),
        Flag::new('G', Show::LongOnly, "take the terminal, even from another foreground group").long("grab"),
        Flag::new('i', Show::Own, "strict: exit 111 if a step fails").long("strict"),
        Flag::new('I', Show::Or, "loose: warn if a step fails and run prog anyway (the default)")
            .long("no-strict"),
        Flag::new('q', Show::Or, "quiet: no warning when a step fails").long("quiet"),
        Flag::arg('d', "ctty", Show::Own, "the controlling terminal is this fd (default: open /dev/tty)")
            .long("ctty"),
    ],
};

const PGRP: u8 = 1;
const FG: u8 = 2;
const GRAB: u8 = 4;
const STRICT: u8 = 8;
const SILENT: u8 = 16;

/// The flag bits an option clears, then sets.
fn effect(c: char) -> (u8, u8) {
    match c {
        's' => (PGRP | FG | GRAB, 0),
        'P' => (0, PGRP),
        'b' => (FG | GRAB, PGRP),
        'F' => (0, FG),
        'f' => (GRAB, PGRP | FG),
        'G' => (0, GRAB),
        'g' => (0, PGRP | FG | GRAB),
        'I' => (STRICT, 0),
        'i' => (0, STRICT),
        'q' => (0, SILENT),
        _ => (0, 0),
    }
}

/// Runs s6-setsid.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    let mut flags = 0u8;
    let mut ctty = None;
    while let Some(o) = g.next_long() {
        let o = o.map_err(|b| b.fatal(&SPEC.usage()))?;
        if o.c == 'd' {
            ctty = Some(parse_uint::<i32>(o.arg_str()).ok_or_else(|| SPEC.usage_error())?);
        } else {
            let (clear, set) = effect(o.c);
            flags = (flags & !clear) | set;
        }
    }
    let prog = g.operands();
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let mut opened: Option<OwnedFd> = None;
    if ctty.is_none() && flags & (PGRP | FG) == PGRP | FG {
        let tty =
            s6rs_sys::fd::open_read_nb(Path::new("/dev/tty")).map_err(|e| Fatal::sys("open /dev/tty", &e))?;
        opened = Some(tty.into());
    }
    let fail = |what: &str, e: io::Error| -> Result<(), Fatal> {
        if flags & STRICT != 0 {
            return Err(Fatal::sys(what, &e));
        }
        if flags & SILENT == 0 {
            cli::warn_sys(what, &e);
        }
        Ok(())
    };
    if flags & PGRP != 0 {
        if let Err(e) = proc::new_process_group() {
            fail("setpgid", e)?;
        }
        if flags & FG != 0 {
            if flags & GRAB != 0 {
                // A background group writing to the terminal's settings would be stopped.
                // The disposition stays ignored in prog, as upstream leaves it.
                let _ = sig::ignore_across_exec(libc::SIGTTOU);
            }
            // SAFETY: the number comes from the command line and names an fd of ours; it is
            // only borrowed for the ioctl.
            let fd = match &opened {
                Some(t) => t.as_fd(),
                None => unsafe { BorrowedFd::borrow_raw(ctty.unwrap_or(0)) },
            };
            if let Err(e) = proc::set_foreground(fd, proc::pid()) {
                fail("tcsetpgrp", e)?;
            }
        }
    } else if let Err(e) = proc::setsid() {
        fail("setsid", e)?;
    }
    // The /dev/tty fd is close-on-exec: prog does not inherit it.
    Err(chainload(prog, &[]))
}
