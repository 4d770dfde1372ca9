//! `s6-fghack prog...`: the anti-backgrounding hack (upstream doc/s6-fghack.html). prog gets
//! many copies of a pipe's write end; the pipe reads EOF only when prog and everything that
//! kept those fds (a daemon that forked away) are gone. Obsolescent: s6-background-watch
//! does this job properly.
//!
//! Exit: 102 if anything was written to the pipe, else prog's status (128 + signal when it
//! was killed); 111 when prog cannot be spawned.

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};

use s6rs_sys::cli::{self, Fatal, Spec};
use s6rs_sys::exec::{self, Command, Report};
use s6rs_sys::{fd, sig};

/// The command line: no options, as upstream.
pub const SPEC: Spec = Spec {
    name: "s6-fghack",
    operands: "prog...",
    about: "Runs prog and waits until it and every process that kept its descriptors are gone \
            (obsolescent: see s6-background-watch).",
    doc: "s6-fghack.html",
    flags: &[],
};

/// How many inheritable copies of the write end prog gets, beside the original.
const COPIES: usize = 30;

/// Exit code when prog wrote to the hack pipe.
const EXIT_WROTE: u8 = 102;

/// Runs s6-fghack.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    if args.is_empty() {
        return Err(SPEC.usage_error());
    }
    cli::warn("this program is obsolescent, use s6-background-watch instead");
    let name = args[0].to_string_lossy().into_owned();
    // An inherited SIGCHLD=SIG_IGN would let the kernel reap prog before we wait for it.
    sig::default(libc::SIGCHLD).map_err(|e| Fatal::sys("reset SIGCHLD", &e))?;
    let (rd, wr) = fd::pipe().map_err(|e| Fatal::sys("create hackpipe", &e))?;
    let copies = (0..=COPIES)
        .map(|_| fd::dup_inheritable(wr.as_fd()))
        .collect::<std::io::Result<Vec<OwnedFd>>>()
        .map_err(|e| Fatal::sys("create hackpipe", &e))?;
    let cmd = Command::new(&args).map_err(|e| Fatal::sys(format_args!("spawn {name}"), &e))?;
    let pid = cmd.spawn(Report::ExecFailure).map_err(|e| Fatal::sys(format_args!("spawn {name}"), &e))?;
    drop(copies);
    drop(wr);
    let mut byte = [0u8; 1];
    match fd::read(rd.as_fd(), &mut byte) {
        Err(e) => return Err(Fatal::sys("read on hackpipe", &e)),
        Ok(0) => {}
        Ok(_) => return Err(Fatal::new(EXIT_WROTE, format!("{name} wrote on hackpipe"))),
    }
    let st = exec::wait(pid).map_err(|e| Fatal::sys(format_args!("wait for {name}"), &e))?;
    Ok(st.estatus())
}
