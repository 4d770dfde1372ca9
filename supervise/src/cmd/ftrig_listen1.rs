//! `s6-ftrig-listen1 [ -t timeout ] fifodir regexp prog...`: subscribe to fifodir, spawn
//! prog, then wait as s6-ftrig-wait does and print the matched events (2.15: the whole
//! sequence plus `\n`). Subscribing first means prog's notifications cannot be missed.
//! Timeout: exit 1. Upstream doc/s6-ftrig-listen1.html.

use std::ffi::OsString;

use s6rs_sys::cli::{Fatal, Spec};
use s6rs_sys::exec::{Command, Report};

use super::ftrig_wait::{listen_timeout, print_events, subscribe};
use crate::ftrig::{self, Pause};

/// The command line, with upstream's long option.
pub const SPEC: Spec = Spec {
    name: "s6-ftrig-listen1",
    operands: "fifodir regexp prog...",
    about: "Subscribes to fifodir, runs prog, then waits until the events match regexp and prints them.",
    doc: "s6-ftrig-listen1.html",
    flags: &[ftrig::TIMEOUT],
};

/// Spawns prog as a child (reaped when it dies, never waited for).
pub(crate) fn spawn(prog: &[OsString]) -> Result<(), Fatal> {
    let name = prog.first().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    Command::new(prog)
        .and_then(|c| c.spawn(Report::ExecFailure))
        .map(drop)
        .map_err(|e| Fatal::sys(format_args!("spawn {name}"), &e))
}

/// Runs s6-ftrig-listen1.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (deadline, operands) = ftrig::timeout_options(&args, &SPEC)?;
    let [dir, re, prog @ ..] = operands else { return Err(SPEC.usage_error()) };
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let mut subs = [subscribe(dir, re)?];
    let mut pause = Pause::new(&subs, true).map_err(|e| Fatal::sys("set up the event loop", &e))?;
    spawn(prog)?;
    match ftrig::wait_for(&mut subs, &mut pause, true, deadline) {
        Ok(Some(seq)) => print_events(&seq).map(|()| 0),
        Ok(None) => Err(listen_timeout()),
        Err(e) => Err(Fatal::sys("read events", &e)),
    }
}
