//! `s6-rs events`: every transition of every service, as it happens.
//!
//! Each service's `event/` fifodir gets a subscription through supervise's fifodir code
//! (`fifodir::Listener`, the fifo s6-svwait and s6-svlisten listen on), all watched by one
//! event loop (`sys::event`). The supervisor's bytes become words: `s` start, `u` up,
//! `U` ready, `d` down, `D` finished (down and `./finish` done), `x` supervisor exiting;
//! another byte is shown as itself. The timestamp is when the event was read. Scan
//! directories are looked at again every [`RESCAN`], so new services are followed from then.
//!
//! A subscription lives in the kernel's fifo buffer, so a busy tree loses nothing while the
//! loop prints: the supervisor's write waits in the fifo until it is read.

use std::collections::HashSet;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use s6rs_log::stamp::{Clock, MAX_LEN};
use s6rs_supervise::fifodir::Listener;
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{EventLoop, Watch};
use s6rs_sys::sig::Trap;
use s6rs_sys::tai::Tain;

use crate::scan::{self, Service};

/// How often scan directories are read again for new services.
pub const RESCAN: Duration = Duration::from_millis(250);

/// `s6-rs events`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scan directories (services added later are picked up) or service directories.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// One JSON object per line: time, tai64n, service, event, byte.
    #[arg(long)]
    pub json: bool,
}

/// The word for an event byte.
pub fn event_name(b: u8) -> Option<&'static str> {
    Some(match b {
        b's' => "start",
        b'u' => "up",
        b'U' => "ready",
        b'd' => "down",
        b'D' => "finished",
        b'x' => "exit",
        _ => return None,
    })
}

/// One event as `--json` writes it.
#[derive(Debug, Serialize)]
pub struct Event<'a> {
    /// Local date and time it was read.
    pub time: &'a str,
    /// The same instant as a TAI64N label.
    pub tai64n: String,
    /// The service (a logger is `NAME/log`).
    pub service: &'a str,
    /// The event's word.
    pub event: &'a str,
    /// The supervisor's byte.
    pub byte: String,
}

#[derive(Debug)]
struct Watched {
    svc: Service,
    listener: Listener,
}

/// Subscribes to every service not yet followed; a service without a fifodir yet (not
/// supervised yet) is tried again at the next rescan.
fn subscribe(dirs: &[PathBuf], watched: &mut Vec<Watched>, known: &mut HashSet<PathBuf>, ev: &EventLoop) {
    let Ok(services) = scan::expand(dirs) else { return };
    for svc in services {
        if known.contains(&svc.dir) {
            continue;
        }
        let Ok(listener) = Listener::subscribe(&svc.dir.join("event")) else { continue };
        if ev.add(listener.as_fd(), watched.len(), Watch::Read).is_err() {
            continue;
        }
        known.insert(svc.dir.clone());
        watched.push(Watched { svc, listener });
    }
}

/// The signal trap's token: after every listener's.
const TRAP: usize = usize::MAX;

/// Runs `s6-rs events` until SIGTERM, SIGINT or SIGHUP, which end it cleanly: the
/// subscriptions' fifos are removed from the fifodirs.
pub fn run(a: &Args) -> io::Result<u8> {
    // An operand that is neither kind is an error at once; later failures are retried.
    scan::expand(&a.dirs)?;
    let mut ev = EventLoop::new(64)?;
    let trap = Trap::new(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP])?;
    ev.add(trap.as_fd(), TRAP, Watch::Read)?;
    let mut watched = Vec::new();
    let mut known = HashSet::new();
    let mut clock = Clock::new(true);
    let mut stamp = [0u8; MAX_LEN];
    let mut out = anstream::stdout().lock();
    subscribe(&a.dirs, &mut watched, &mut known, &ev);
    let mut rescan = Deadline::after(RESCAN);
    loop {
        let mut ready = Vec::new();
        ev.wait(rescan, |r| ready.push(r.token))?;
        let mut buf = [0u8; 512];
        for t in ready {
            if t == TRAP {
                if trap.next()?.is_some() {
                    out.flush()?;
                    return Ok(0);
                }
                continue;
            }
            let Some(w) = watched.get(t) else { continue };
            loop {
                let n = w.listener.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                let now = Tain::now();
                let len = clock.format(now, &mut stamp).unwrap_or(0);
                let time = String::from_utf8_lossy(&stamp[..len]).into_owned();
                for &b in &buf[..n] {
                    let byte = String::from_utf8_lossy(&[b]).into_owned();
                    let word = event_name(b).unwrap_or(&byte);
                    if a.json {
                        let e = Event {
                            time: &time,
                            tai64n: now.label(),
                            service: &w.svc.name,
                            event: word,
                            byte: byte.clone(),
                        };
                        serde_json::to_writer(&mut out, &e)?;
                        out.write_all(b"\n")?;
                    } else {
                        writeln!(out, "{time}  {}  {word}", w.svc.name)?;
                    }
                }
            }
        }
        out.flush()?;
        if rescan.passed() {
            subscribe(&a.dirs, &mut watched, &mut known, &ev);
            rescan = Deadline::after(RESCAN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let words: Vec<_> = b"suUdDx?".iter().map(|&b| event_name(b)).collect();
        assert_eq!(
            words,
            [Some("start"), Some("up"), Some("ready"), Some("down"), Some("finished"), Some("exit"), None]
        );
    }
}
