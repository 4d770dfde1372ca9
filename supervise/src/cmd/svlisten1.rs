//! `s6-svlisten1 [ -U | -u | -D | -d | -r | -R ] [ -t timeout ] servicedir prog...`: watch
//! one service, spawn prog once its state is known, and wait for the wanted state (as
//! s6-svwait; `-r`/`-R` wait for down with finish done, then up). Exit 0; 1 when the
//! service failed permanently or its supervisor died; 99 on timeout. Upstream
//! doc/s6-svlisten1.html.

use std::ffi::OsString;

use s6rs_sys::cli::{Fatal, Spec};

use super::ftrig_listen1::spawn;
use crate::ftrig::Pause;
use crate::svwait::{Options, Outcome, Want, Watcher, ONE_SERVICE_FLAGS};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-svlisten1",
    operands: "servicedir prog...",
    about: "Watches one supervised service, runs prog, then waits until the service reaches \
            the given state.",
    doc: "s6-svlisten1.html",
    flags: &ONE_SERVICE_FLAGS,
};

/// Runs s6-svlisten1.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (Options { goal, deadline, .. }, operands) = Options::parse(&args, &SPEC)?;
    let [dir, prog @ ..] = operands else { return Err(SPEC.usage_error()) };
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let phases = goal.phases(true, Want { up: false, ready: true, any: true });
    let mut w = Watcher::start(std::slice::from_ref(dir))?;
    let mut pause =
        Pause::new(w.subscriptions(), true).map_err(|e| Fatal::sys("set up the event loop", &e))?;
    spawn(prog)?;
    match w.wait(&mut pause, &phases, deadline) {
        Ok(Outcome::Reached { failures: 0 }) => Ok(0),
        Ok(Outcome::Reached { .. }) => Err(Fatal::new(1, w.failure())),
        Ok(Outcome::TimedOut) => Err(Fatal::new(99, "timed out")),
        Err(e) => Err(Fatal::sys("read events", &e)),
    }
}
