//! `s6-svwait [ -U | -u | -D | -d | -r | -R ] [ -a | -o ] [ -t timeout ] servicedir...`:
//! wait until the services are up (`-u`, default), up and ready (`-U`), down (`-d`), down
//! with finish done (`-D`), or restarted (`-r`/`-R`: all down, then up or up and ready);
//! all of them (`-a`, default) or one (`-o`). Exit 0; 99 on timeout; otherwise the number
//! of services that failed permanently or lost their supervisor. Upstream
//! doc/s6-svwait.html; the engine is [`crate::svwait`].

use std::ffi::OsString;

use s6rs_sys::cli::{Fatal, Spec};

use crate::ftrig::Pause;
use crate::svwait::{Options, Outcome, Want, Watcher, FLAGS};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-svwait",
    operands: "servicedir...",
    about: "Waits until supervised services reach the given state.",
    doc: "s6-svwait.html",
    flags: &FLAGS,
};

/// Turns a wait's outcome into the exit code of s6-svwait and s6-svlisten: 0, the number of
/// services that failed (named in the message), 99 on timeout.
pub(crate) fn finish(w: &Watcher, outcome: std::io::Result<Outcome>) -> Result<u8, Fatal> {
    match outcome {
        Ok(Outcome::Reached { failures: 0 }) => Ok(0),
        Ok(Outcome::Reached { failures }) => Err(Fatal::new(failures.min(255) as u8, w.failure())),
        Ok(Outcome::TimedOut) => Err(Fatal::new(99, "timed out")),
        Err(e) => Err(Fatal::sys("read events", &e)),
    }
}

/// Runs s6-svwait.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    crate::svwait::speak_for_svc();
    let (Options { goal, any, deadline }, dirs) = Options::parse(&args, &SPEC)?;
    if dirs.is_empty() {
        return Ok(0);
    }
    // The down half of a restart always needs every service, and not their finish.
    let phases = goal.phases(any, Want { up: false, ready: false, any: false });
    let mut w = Watcher::start(dirs)?;
    let mut pause =
        Pause::new(w.subscriptions(), false).map_err(|e| Fatal::sys("set up the event loop", &e))?;
    let outcome = w.wait(&mut pause, &phases, deadline);
    finish(&w, outcome)
}
