//! `s6-ftrig-wait [ -t timeout ] fifodir regexp`: subscribe to fifodir and wait until the
//! events received match the POSIX ERE regexp, then print them (2.15: the whole sequence
//! read, plus `\n`). Timeout: exit 99. Upstream doc/s6-ftrig-wait.html; INVENTORY §1.4.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use s6rs_sys::cli::{self, Fatal, Spec};

use crate::ftrig::{self, Pause, Subscription};

/// The command line, with upstream's long option.
pub const SPEC: Spec = Spec {
    name: "s6-ftrig-wait",
    operands: "fifodir regexp",
    about: "Waits until the events sent to fifodir match regexp, then prints them.",
    doc: "s6-ftrig-wait.html",
    flags: &[ftrig::TIMEOUT],
};

/// Subscribes to `dir` with `re`, reporting failure as upstream does.
pub(crate) fn subscribe(dir: &OsString, re: &OsString) -> Result<Subscription, Fatal> {
    Subscription::new(Path::new(dir), re.as_bytes()).map_err(|e| {
        Fatal::sys(
            format_args!("subscribe to {} with regexp {}", cli::show(dir), cli::show(re)),
            &e.into_io(),
        )
    })
}

/// Prints a matched event sequence and its newline in one write.
pub(crate) fn print_events(seq: &[u8]) -> Result<(), Fatal> {
    let mut line = Vec::with_capacity(seq.len() + 1);
    line.extend_from_slice(seq);
    line.push(b'\n');
    let mut out = std::io::stdout().lock();
    out.write_all(&line).and_then(|()| out.flush()).map_err(|e| Fatal::sys("write to stdout", &e))
}

fn timed_out() -> std::io::Error {
    std::io::Error::from_raw_os_error(libc::ETIMEDOUT)
}

/// Runs s6-ftrig-wait.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (deadline, operands) = ftrig::timeout_options(&args, &SPEC)?;
    let [dir, re, ..] = operands else { return Err(SPEC.usage_error()) };
    let mut subs = [subscribe(dir, re)?];
    let mut pause = Pause::new(&subs, false).map_err(|e| Fatal::sys("set up the event loop", &e))?;
    match ftrig::wait_for(&mut subs, &mut pause, true, deadline) {
        Ok(Some(seq)) => print_events(&seq).map(|()| 0),
        Ok(None) => Err(Fatal::sys_code(99, format_args!("match regexp on {}", cli::show(re)), &timed_out())),
        Err(e) => Err(Fatal::sys("read events", &e)),
    }
}

/// The error of a listener that gave up waiting (s6-ftrig-listen1, s6-ftrig-listen): exit 1.
pub(crate) fn listen_timeout() -> Fatal {
    Fatal::sys_code(1, "get expected event", &timed_out())
}
