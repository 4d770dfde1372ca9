//! Waiting for supervised services to reach a state: the engine of s6-svwait, s6-svlisten1
//! and s6-svlisten (and, through them, `s6-svc -w`). Upstream: doc/s6-svwait.html,
//! doc/s6-svlisten.html; FORMATS.md §1.5, INVENTORY.md part 2 §5.3.
//!
//! For each service directory: create `event/` if it is missing (group = our egid, so the
//! supervisor, which only fixes up a fifodir it creates itself, leaves it usable), subscribe
//! to it with `[DuUdOx]`, and only then read `supervise/status`, so that no transition can
//! fall between the snapshot and the first event. Events then update each service's
//! (up, ready) pair: `d` down, `D` down and ready (finish done), `u` up, `U` up and ready.
//! `O` (permanent failure) counts as a failure when waiting for up; `x` (the supervisor
//! exited) counts as a failure unless the service's pair was exactly the wanted one.
//! Either way the service is then taken as having reached the wanted state, so a failed
//! service never blocks the others, and the wait ends with the number of failures.
//!
//! A wait is one or two phases (restarts wait for down, then up). Each phase ends as soon
//! as its condition holds for all services (or, with "any", one of them).
//!
//! Differences from upstream (2.11 and 2.15 alike), all in corners of its event handling:
//! * A service that failed keeps the wanted state for the rest of the wait. Upstream goes
//!   on applying events, and the supervisor writes `O` glued to `D` (`OD`), so the `D`
//!   turns a failed service back to "down": with `-a` and several services, a permanent
//!   failure then ends in a timeout (exit 99, checked against Debian's s6-svlisten) instead
//!   of the documented exit code n.
//! * Bytes other than the six events (such as the supervisor's start-up `s`, which 2.15
//!   hands over glued to the next event) are ignored, where 2.15 reads them as "down".
//! * Events that follow the one ending the first phase in the same read are applied to the
//!   second phase instead of being dropped.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};

use s6rs_sys::cli::{Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;

use crate::fifodir;
use crate::ftrig::{Pause, Subscription};
use crate::svstatus::Status;

/// The program whose `-w` execs s6-svlisten and s6-svwait.
const SVC: &str = "s6-svc";

/// `s6-svc -w` execs s6-svlisten or s6-svwait with `s6-svc` as their `argv[0]`: their
/// messages then name s6-svc, the program the user ran, rather than a helper the user may
/// never have heard of. Run under any other name, they keep their own.
pub(crate) fn speak_for_svc() {
    let invoked = std::env::args_os().next();
    if invoked.as_deref().map(Path::new).and_then(Path::file_name) == Some(OsStr::new(SVC)) {
        s6rs_sys::cli::rename_prog(SVC);
    }
}

/// The pattern listeners subscribe to on a service's `event/` fifodir.
pub(crate) const EVENTS: &[u8] = b"[DuUdOx]";

/// The state flags shared by the waiting tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    /// `-u`: up (the default).
    Up,
    /// `-U`: up and ready.
    UpReady,
    /// `-d`: down.
    Down,
    /// `-D`: down, and `./finish` done.
    DownReady,
    /// `-r`: down, then up.
    Restart,
    /// `-R`: down, then up and ready.
    RestartReady,
}

impl Goal {
    /// The goal an option letter selects, if it is one of `uUdDrR`.
    pub(crate) fn from_opt(c: char) -> Option<Goal> {
        Some(match c {
            'u' => Goal::Up,
            'U' => Goal::UpReady,
            'd' => Goal::Down,
            'D' => Goal::DownReady,
            'r' => Goal::Restart,
            'R' => Goal::RestartReady,
            _ => return None,
        })
    }

    /// Whether this goal waits for a down phase first.
    pub(crate) fn is_restart(self) -> bool {
        matches!(self, Goal::Restart | Goal::RestartReady)
    }

    /// The phases to wait for. `any` applies to the final phase; `down_first` is the first
    /// phase of a restart (upstream's s6-svwait waits for plain down there, and
    /// s6-svlisten/s6-svlisten1 for down and ready).
    pub(crate) fn phases(self, any: bool, down_first: Want) -> Vec<Want> {
        let last = |up, ready| Want { up, ready, any };
        match self {
            Goal::Up => vec![last(true, false)],
            Goal::UpReady => vec![last(true, true)],
            Goal::Down => vec![last(false, false)],
            Goal::DownReady => vec![last(false, true)],
            Goal::Restart => vec![down_first, last(true, false)],
            Goal::RestartReady => vec![down_first, last(true, true)],
        }
    }
}

/// One phase's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Want {
    /// Wanted up (true) or down.
    pub up: bool,
    /// Also wanted ready; when false, readiness is ignored.
    pub ready: bool,
    /// One service suffices (instead of all of them).
    pub any: bool,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every phase was reached. `failures` counts the `O` and `x` events that counted as
    /// failures (upstream exits with that number when it is not 0).
    Reached {
        /// Number of failure events.
        failures: u32,
    },
    /// The deadline passed first.
    TimedOut,
}

/// The services being watched: their subscriptions and their last known (up, ready).
#[derive(Debug)]
pub(crate) struct Watcher {
    dirs: Vec<PathBuf>,
    subs: Vec<Subscription>,
    up: Vec<bool>,
    ready: Vec<bool>,
    /// Services that failed: their state no longer follows events.
    failed: Vec<bool>,
}

impl Watcher {
    /// Subscribes to each service's events, then reads its status.
    pub(crate) fn start<S: AsRef<OsStr>>(dirs: &[S]) -> Result<Watcher, Fatal> {
        let egid = s6rs_sys::proc::egid();
        let mut w = Watcher {
            dirs: Vec::with_capacity(dirs.len()),
            subs: Vec::with_capacity(dirs.len()),
            up: Vec::with_capacity(dirs.len()),
            ready: Vec::with_capacity(dirs.len()),
            failed: vec![false; dirs.len()],
        };
        for d in dirs {
            let dir = Path::new(d.as_ref());
            let event = dir.join("event");
            // Upstream ignores the result: subscribing reports any real problem.
            let _ = fifodir::make(&event, Some(egid), false);
            let sub = Subscription::new(&event, EVENTS).map_err(|e| {
                Fatal::sys(format_args!("subscribe to events for {}", dir.display()), &e.into_io())
            })?;
            let st = Status::read(dir)
                .map_err(|e| Fatal::sys(format_args!("read status for {}", dir.display()), &e))?;
            w.dirs.push(dir.to_path_buf());
            w.subs.push(sub);
            w.up.push(st.is_up());
            w.ready.push(st.ready);
        }
        Ok(w)
    }

    /// The subscriptions, to build a [`Pause`] over.
    pub(crate) fn subscriptions(&self) -> &[Subscription] {
        &self.subs
    }

    /// Why a wait that ended with failures failed, naming the services (as s6-svlisten1
    /// names its one service): `DIR failed permanently or its supervisor died`.
    pub(crate) fn failure(&self) -> String {
        let failed: Vec<String> = self
            .dirs
            .iter()
            .zip(&self.failed)
            .filter(|(_, &f)| f)
            .map(|(d, _)| d.display().to_string())
            .collect();
        match failed.len() {
            1 => format!("{} failed permanently or its supervisor died", failed[0]),
            _ => format!("{} failed permanently or their supervisors died", failed.join(", ")),
        }
    }

    /// Waits through `phases` until `deadline`.
    pub(crate) fn wait(
        &mut self,
        pause: &mut Pause,
        phases: &[Want],
        deadline: Deadline,
    ) -> io::Result<Outcome> {
        let Watcher { subs, up, ready, failed, .. } = self;
        let mut phase = 0;
        let mut failures = 0u32;
        // A phase whose condition already holds is passed at once, before any event.
        while phase < phases.len() && reached(up, ready, phases[phase]) {
            phase += 1;
        }
        if phase == phases.len() {
            return Ok(Outcome::Reached { failures: 0 });
        }
        loop {
            for (i, sub) in subs.iter_mut().enumerate() {
                while let Some(seq) = sub.next_match()? {
                    for &ev in seq {
                        if failed[i] {
                            break;
                        }
                        let want = phases[phase];
                        if apply(&mut up[i], &mut ready[i], ev, want) {
                            failed[i] = true;
                            failures += 1;
                        }
                        if !reached(up, ready, want) {
                            continue;
                        }
                        if failures > 0 {
                            return Ok(Outcome::Reached { failures });
                        }
                        phase += 1;
                        while phase < phases.len() && reached(up, ready, phases[phase]) {
                            phase += 1;
                        }
                        if phase == phases.len() {
                            return Ok(Outcome::Reached { failures: 0 });
                        }
                    }
                }
            }
            if !pause.wait(deadline, |_, _| {})? {
                return Ok(Outcome::TimedOut);
            }
        }
    }
}

/// Whether the services' states satisfy `want`.
fn reached(up: &[bool], ready: &[bool], want: Want) -> bool {
    let ok = |i: usize| up[i] == want.up && (!want.ready || ready[i]);
    if want.any {
        (0..up.len()).any(ok)
    } else {
        (0..up.len()).all(ok)
    }
}

/// Applies one event byte to a service's state; returns whether it counts as a failure.
fn apply(up: &mut bool, ready: &mut bool, ev: u8, want: Want) -> bool {
    let (failed, state) = match ev {
        b'x' => (*up != want.up || *ready != want.ready, (want.up, want.ready)),
        b'O' if want.up => (true, (want.up, want.ready)),
        b'd' => (false, (false, false)),
        b'D' => (false, (false, true)),
        b'u' => (false, (true, false)),
        b'U' => (false, (true, true)),
        _ => return false,
    };
    (*up, *ready) = state;
    failed
}

/// Parses a `-t` value: milliseconds, 0 meaning no limit.
pub(crate) fn timeout(arg: &str) -> Option<Deadline> {
    s6rs_sys::cli::parse_uint::<u64>(arg).map(Deadline::from_ms)
}

/// The options of s6-svwait and s6-svlisten, in their usage-line order:
/// `[ -U | -u | -d | -D | -r | -R ] [ -a | -o ] [ -t timeout ]`.
pub(crate) const FLAGS: [Flag; 9] = [
    Flag::new('U', Show::Own, "wait until up and ready"),
    Flag::new('u', Show::Or, "wait until up (the default)"),
    Flag::new('d', Show::Or, "wait until down"),
    Flag::new('D', Show::Or, "wait until down and finished (./finish done)"),
    Flag::new('r', Show::Or, "wait until restarted: down, then up"),
    Flag::new('R', Show::Or, "wait until restarted and ready"),
    Flag::new('a', Show::Own, "wait for every service (the default)"),
    Flag::new('o', Show::Or, "wait for one service"),
    Flag::arg('t', "timeout", Show::Own, "give up after this many milliseconds, exit 99 (0: never)"),
];

/// s6-svlisten1's options: [`FLAGS`] without `-a`/`-o`, since it watches one service.
pub(crate) const ONE_SERVICE_FLAGS: [Flag; 7] =
    [FLAGS[0], FLAGS[1], FLAGS[2], FLAGS[3], FLAGS[4], FLAGS[5], FLAGS[8]];

/// The options the waiting tools share:
/// `[ -U | -u | -D | -d | -r | -R ] [ -a | -o ] [ -t timeout ]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// The state flag given last (`-u` by default).
    pub goal: Goal,
    /// `-o`: one service is enough (`-a`, every service, by default).
    pub any: bool,
    /// `-t`: when to give up.
    pub deadline: Deadline,
}

impl Options {
    /// Parses the options of `args` against `spec` (whose table is [`FLAGS`] or
    /// [`ONE_SERVICE_FLAGS`]) and returns them with the operands. Any bad option is a usage
    /// error.
    pub(crate) fn parse<'a>(
        args: &'a [OsString],
        spec: &'a Spec,
    ) -> Result<(Options, &'a [OsString]), Fatal> {
        let mut o = Options { goal: Goal::Up, any: false, deadline: Deadline::Never };
        let mut g = spec.getopt(args);
        while let Some(opt) = g.next() {
            let opt = opt.map_err(|_| spec.usage_error())?;
            match opt.c {
                'a' => o.any = false,
                'o' => o.any = true,
                't' => o.deadline = timeout(opt.arg_str()).ok_or_else(|| spec.usage_error())?,
                c => o.goal = Goal::from_opt(c).ok_or_else(|| spec.usage_error())?,
            }
        }
        Ok((o, g.operands()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_UP: Want = Want { up: true, ready: false, any: false };
    const ANY_UP_READY: Want = Want { up: true, ready: true, any: true };

    #[test]
    fn reached_all_and_any() {
        assert!(reached(&[true, true], &[false, true], ALL_UP));
        assert!(!reached(&[true, false], &[false, false], ALL_UP));
        assert!(reached(&[false, true], &[false, true], ANY_UP_READY));
        assert!(!reached(&[true, true], &[false, false], ANY_UP_READY));
        let down_ready = Want { up: false, ready: true, any: false };
        assert!(reached(&[false], &[true], down_ready));
        assert!(!reached(&[false], &[false], down_ready));
    }

    #[test]
    fn events_update_state() {
        let (mut up, mut ready) = (false, false);
        for (ev, want) in
            [(b'u', (true, false)), (b'U', (true, true)), (b'd', (false, false)), (b'D', (false, true))]
        {
            assert!(!apply(&mut up, &mut ready, ev, ALL_UP));
            assert_eq!((up, ready), want);
        }
        // Bytes that are not events change nothing.
        assert!(!apply(&mut up, &mut ready, b's', ALL_UP));
        assert_eq!((up, ready), (false, true));
    }

    #[test]
    fn permanent_failure_only_counts_when_waiting_for_up() {
        let (mut up, mut ready) = (false, false);
        assert!(apply(&mut up, &mut ready, b'O', ALL_UP));
        assert_eq!((up, ready), (true, false));
        let down = Want { up: false, ready: false, any: false };
        let (mut up, mut ready) = (true, false);
        assert!(!apply(&mut up, &mut ready, b'O', down));
        assert_eq!((up, ready), (true, false));
    }

    #[test]
    fn supervisor_death_fails_unless_state_held() {
        let down = Want { up: false, ready: false, any: false };
        let (mut up, mut ready) = (false, false);
        assert!(!apply(&mut up, &mut ready, b'x', down));
        let (mut up, mut ready) = (true, true);
        assert!(apply(&mut up, &mut ready, b'x', down));
        assert_eq!((up, ready), (false, false));
    }

    #[test]
    fn goal_phases() {
        let first = Want { up: false, ready: true, any: false };
        assert_eq!(Goal::from_opt('R').unwrap().phases(true, first), vec![first, ANY_UP_READY]);
        assert_eq!(Goal::from_opt('u').unwrap().phases(false, first), vec![ALL_UP]);
        assert!(Goal::from_opt('x').is_none());
        assert!(Goal::Restart.is_restart() && !Goal::Down.is_restart());
    }
}
