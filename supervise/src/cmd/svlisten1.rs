//! `s6-svlisten1 [ -U | -u | -D | -d | -r | -R ] [ -t timeout ] servicedir prog...`: watch
//! one service, spawn prog once its state is known, and wait for the wanted state (as
//! s6-svwait; `-r`/`-R` wait for down with finish done, then up). Exit 0; 1 when the
//! service failed permanently or its supervisor died; 99 on timeout. Upstream
//! doc/s6-svlisten1.html.

use std::ffi::OsString;

use s6rs_sys::cli::{self, Fatal, Getopt};
use s6rs_sys::deadline::Deadline;

use super::ftrig_listen1::spawn;
use crate::ftrig::Pause;
use crate::svwait::{self, Goal, Outcome, Want, Watcher};

const USAGE: &str = "s6-svlisten1 [ -U | -u | -d | -D | -r | -R ] [ -t timeout ] servicedir prog...";

/// Runs s6-svlisten1.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut goal = Goal::Up;
    let mut deadline = Deadline::Never;
    let mut g = Getopt::new(&args, "uUdDrRt:");
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| Fatal::usage(USAGE))?;
        match opt.c {
            't' => deadline = svwait::timeout(opt.arg_str()).ok_or_else(|| Fatal::usage(USAGE))?,
            c => goal = Goal::from_opt(c).ok_or_else(|| Fatal::usage(USAGE))?,
        }
    }
    let [dir, prog @ ..] = g.operands() else { return Err(Fatal::usage(USAGE)) };
    if prog.is_empty() {
        return Err(Fatal::usage(USAGE));
    }
    let phases = goal.phases(true, Want { up: false, ready: true, any: true });
    let mut w = Watcher::start(std::slice::from_ref(dir))?;
    let mut pause =
        Pause::new(w.subscriptions(), true).map_err(|e| Fatal::sys("set up the event loop", &e))?;
    spawn(prog)?;
    match w.wait(&mut pause, &phases, deadline) {
        Ok(Outcome::Reached { failures: 0 }) => Ok(0),
        Ok(Outcome::Reached { .. }) => {
            Err(Fatal::new(1, format!("{} failed permanently or its supervisor died", cli::show(dir))))
        }
        Ok(Outcome::TimedOut) => Err(Fatal::new(99, "timed out")),
        Err(e) => Err(Fatal::sys("read events", &e)),
    }
}
