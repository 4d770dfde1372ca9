//! `s6-svlisten [ -U | -u | -D | -d | -r | -R ] [ -a | -o ] [ -t timeout ] { servicedir... }
//! prog...`, whose argv form is `servicedir... "" prog...` in execline's block encoding:
//! s6-svlisten1 for several services, with s6-svwait's `-a`/`-o` and exit codes. `-r`/`-R`
//! imply `-a`. An empty block execs prog directly. Upstream doc/s6-svlisten.html.

use std::ffi::OsString;

use s6rs_sys::cli::{self, Fatal, Spec};
use s6rs_sys::exec::chainload;

use super::ftrig_listen1::spawn;
use super::svwait::finish;
use crate::block;
use crate::ftrig::Pause;
use crate::svwait::{Goal, Options, Want, Watcher, FLAGS};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-svlisten",
    operands: "servicedir... \"\" prog...",
    about: "Watches supervised services, runs prog, then waits until the services reach the \
            given state.",
    doc: "s6-svlisten.html",
    flags: &FLAGS,
};

/// Runs s6-svlisten.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    crate::svwait::speak_for_svc();
    let (Options { goal, mut any, deadline }, rest) = Options::parse(&args, &SPEC)?;
    if rest.len() < 3 {
        return Err(SPEC.usage_error());
    }
    let b = block::semicolon(rest, block::strict_level())?;
    let Some(end) = b.end else { return Err(Fatal::bad("unterminated servicedir block")) };
    let prog = &rest[end + 1..];
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    if b.words.is_empty() {
        return Err(chainload(prog, &[]));
    }
    if goal.is_restart() && any {
        any = false;
        let flag = if goal == Goal::RestartReady { 'R' } else { 'r' };
        cli::warn(format_args!("-o is unsupported when combined with -{flag} - using -a instead"));
    }
    let phases = goal.phases(any, Want { up: false, ready: true, any: false });
    let mut w = Watcher::start(&b.words)?;
    let mut pause =
        Pause::new(w.subscriptions(), true).map_err(|e| Fatal::sys("set up the event loop", &e))?;
    spawn(prog)?;
    let outcome = w.wait(&mut pause, &phases, deadline);
    finish(&w, outcome)
}
