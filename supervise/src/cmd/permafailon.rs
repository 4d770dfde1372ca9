//! `s6-permafailon secs count events prog...`: from a `./finish` script, exit 125 (permanent
//! failure) when the death tally shows at least `count` matching deaths in the last `secs`
//! seconds; otherwise chain-load `prog...` (upstream doc/s6-permafailon.html).
//!
//! `events` is a list, separated by `,` `;` or white space, of exit codes (`1`), code ranges
//! (`101-103`) and signals (`SIGSEGV`, `segv`, `sig11`). A death by signal N is recorded with
//! exit code 128+N, so ranges above 127 match signal deaths too. An unreadable tally is a
//! warning, never a reason to fail: the program then just chain-loads.

use std::ffi::OsString;
use std::path::Path;

use s6rs_sys::cli::{info, parse_uint, warn, warn_sys, Fatal, Spec};
use s6rs_sys::tai::Tain;

use crate::dtally::{self, Death};

/// The command line: no options, as upstream.
pub const SPEC: Spec = Spec {
    name: "s6-permafailon",
    operands: "seconds deathcount statuslist prog...",
    about: "From a finish script: exits 125 if the service died deathcount times with a listed \
            status in the last seconds, else runs prog.",
    doc: "s6-permafailon.html",
    flags: &[],
};

/// Where the tally is, relative to the service directory (the current directory).
const TALLY: &str = "supervise/death_tally";

/// The deaths that count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Events {
    codes: [bool; 256],
    sigs: [bool; 65],
}

const SEPARATORS: &[u8] = b",; \n\r\t";

/// Whether glibc's `sigaddset` accepts the number (it refuses 0, its two internal
/// real-time signals, and anything past 64).
fn valid_signal(sig: u32) -> bool {
    (1..=64).contains(&sig) && sig != 32 && sig != 33
}

/// Leading decimal digits of `s`: how many, and their value (saturated).
fn digits(s: &[u8]) -> (usize, u64) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let v = s[..n].iter().fold(0u64, |acc, &c| acc.saturating_mul(10).saturating_add(u64::from(c - b'0')));
    (n, v)
}

impl Events {
    /// Parses an events list.
    pub fn parse(spec: &str) -> Result<Events, Fatal> {
        let mut ev = Events { codes: [false; 256], sigs: [false; 65] };
        let s = spec.as_bytes();
        let mut pos = 0;
        while pos < s.len() {
            let (len, u) = digits(&s[pos..]);
            if len > 0 {
                if u > 255 {
                    return Err(Fatal::bad("invalid exit code"));
                }
                pos += len;
                if s.get(pos) == Some(&b'-') {
                    pos += 1;
                    let (len, v) = digits(&s[pos..]);
                    if len == 0 {
                        return Err(Fatal::bad("invalid interval specification"));
                    }
                    if v > 255 {
                        return Err(Fatal::bad("invalid exit code"));
                    }
                    if v < u {
                        return Err(Fatal::bad("invalid interval"));
                    }
                    pos += len;
                    ev.codes[u as usize..=v as usize].fill(true);
                } else {
                    ev.codes[u as usize] = true;
                }
            } else {
                let end = s[pos..].iter().position(|c| SEPARATORS.contains(c)).map_or(s.len(), |n| pos + n);
                let word = &spec[pos..end];
                let sig = s6rs_sys::sig::scan(word)
                    .ok_or_else(|| Fatal::bad("invalid status list specification"))?;
                if !valid_signal(sig) {
                    return Err(Fatal::bad("invalid signal"));
                }
                ev.sigs[sig as usize] = true;
                pos = end;
            }
            while s.get(pos).is_some_and(|c| SEPARATORS.contains(c)) {
                pos += 1;
            }
        }
        Ok(ev)
    }

    /// Whether a recorded death is one of these events.
    pub fn matches(&self, d: &Death) -> bool {
        (d.sig != 0 && self.sigs.get(usize::from(d.sig)).copied().unwrap_or(false))
            || self.codes[usize::from(d.exitcode)]
    }
}

/// The death that makes the `count`-th match among those at or after `since`, if any.
pub fn trigger<'a>(deaths: &'a [Death], events: &Events, since: Tain, count: usize) -> Option<&'a Death> {
    let mut matches = 0;
    deaths.iter().find(|d| {
        if d.stamp >= since && events.matches(d) {
            matches += 1;
        }
        matches >= count
    })
}

/// Reads the tally of the current directory's service; `None` (after a warning) when it
/// cannot be used.
fn read_tally() -> Option<Vec<Death>> {
    let md = match std::fs::metadata(TALLY) {
        Ok(md) => md,
        Err(e) => {
            warn_sys(format_args!("stat {TALLY}"), &e);
            return None;
        }
    };
    let size = md.len();
    if size % dtally::SIZE as u64 != 0 || size > (dtally::SIZE * dtally::MAX) as u64 {
        warn(format_args!("invalid {TALLY}"));
        return None;
    }
    match dtally::read(Path::new("."), (size / dtally::SIZE as u64) as usize) {
        Ok(v) => Some(v),
        Err(e) => {
            warn_sys(format_args!("read {TALLY}"), &e);
            None
        }
    }
}

/// Runs s6-permafailon.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    if args.len() < 3 {
        return Err(SPEC.usage_error());
    }
    let num = |a: &OsString| a.to_str().and_then(parse_uint::<u32>).ok_or_else(|| SPEC.usage_error());
    let secs = num(&args[0])?;
    let count = num(&args[1])?;
    if count == 0 {
        return Err(SPEC.usage_error());
    }
    let count = (count as usize).min(dtally::MAX);
    let events = Events::parse(&args[2].to_string_lossy())?;
    if let Some(deaths) = read_tally().filter(|v| v.len() >= count) {
        let now = Tain::now();
        let since = Tain { sec: now.sec.saturating_sub(u64::from(secs)), nano: now.nano };
        if let Some(d) = trigger(&deaths, &events, since, count) {
            let (what, n) = if d.sig != 0 { ("signal ", d.sig) } else { ("exit code ", d.exitcode) };
            info(format_args!(
                "PERMANENT FAILURE triggered after {count} events involving {what}{n} in the last {secs} seconds"
            ));
            return Ok(125);
        }
    }
    let prog = &args[3..];
    if prog.is_empty() {
        return Ok(0);
    }
    Err(s6rs_sys::exec::chainload(prog, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn death(sec: u64, exitcode: u8, sig: u8) -> Death {
        Death { stamp: Tain { sec, nano: 0 }, exitcode, sig }
    }

    #[test]
    fn event_lists() {
        let ev = Events::parse("1,101-103;SIGSEGV sigbus\tsig2,kill").unwrap();
        for c in [1, 101, 102, 103] {
            assert!(ev.codes[c]);
        }
        assert!(!ev.codes[100] && !ev.codes[104] && !ev.codes[0]);
        for s in [libc::SIGSEGV, libc::SIGBUS, 2, libc::SIGKILL] {
            assert!(ev.sigs[s as usize]);
        }
        assert!(!ev.sigs[libc::SIGTERM as usize]);
    }

    #[test]
    fn bad_event_lists() {
        let msg = |s: &str| Events::parse(s).unwrap_err().msg;
        assert_eq!(msg("256"), "invalid exit code");
        assert_eq!(msg("3-"), "invalid interval specification");
        assert_eq!(msg("3-300"), "invalid exit code");
        assert_eq!(msg("5-3"), "invalid interval");
        assert_eq!(msg("SIGNOPE"), "invalid status list specification");
        assert_eq!(msg(",1"), "invalid status list specification");
        assert_eq!(msg("1x"), "invalid status list specification");
        assert_eq!(msg("sig0"), "invalid signal");
        assert_eq!(msg("sig99"), "invalid signal");
        assert_eq!(msg("SIGSIGTERM"), "invalid status list specification");
        assert!(Events::parse("").is_ok());
        assert!(Events::parse("1,").is_ok());
    }

    #[test]
    fn counting_within_the_window() {
        let ev = Events::parse("1,SIGTERM").unwrap();
        let deaths = [death(10, 1, 0), death(20, 143, 15), death(21, 2, 0), death(22, 1, 0)];
        assert_eq!(trigger(&deaths, &ev, Tain { sec: 0, nano: 0 }, 3), Some(&deaths[3]));
        assert_eq!(trigger(&deaths, &ev, Tain { sec: 11, nano: 0 }, 3), None);
        assert_eq!(trigger(&deaths, &ev, Tain { sec: 11, nano: 0 }, 2), Some(&deaths[3]));
        // Signal deaths carry 128+n, so a code range above 127 matches them.
        let ev = Events::parse("128-255").unwrap();
        assert_eq!(trigger(&deaths, &ev, Tain { sec: 0, nano: 0 }, 1), Some(&deaths[1]));
    }
}
