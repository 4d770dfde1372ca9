//! `s6-softlimit [ -H | -h ] [ -a allmem ] [ -c core ] [ -d data ] [ -f fsize ] [ -l lock ]
//! [ -m mem ] [ -o ofiles ] [ -P prio ] [ -p proc ] [ -r res ] [ -s stack ] [ -t cpusecs ]
//! prog...`: change resource limits, then chain-load `prog` (upstream doc/s6-softlimit.html).
//!
//! Options apply in command-line order, so `-h`/`-H` affect the limits named after them. As
//! upstream's code does, unknown options are skipped rather than refused.

use std::ffi::OsString;

use s6rs_sys::cli::{parse_uint, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::chainload;
use s6rs_sys::rlimit::{self, Limit, Resource};

/// The command line, as 2.15's. A value of `=` means "as high as the hard limit allows".
pub const SPEC: Spec = Spec {
    name: "s6-softlimit",
    operands: "prog...",
    about: "Sets resource limits, then runs prog.",
    doc: "s6-softlimit.html",
    flags: &[
        Flag::new('H', Show::Own, "the limits named after this set both the hard and the soft limit"),
        Flag::new('h', Show::Or, "the limits named after this set the hard limit only"),
        Flag::arg('a', "allmem", Show::Own, "total memory, in bytes"),
        Flag::arg('c', "core", Show::Own, "core file size, in bytes"),
        Flag::arg('d', "data", Show::Own, "heap memory, in bytes"),
        Flag::arg('f', "fsize", Show::Own, "file size, in bytes"),
        Flag::arg('l', "lock", Show::Own, "locked memory, in bytes"),
        Flag::arg('m', "mem", Show::Own, "every kind of memory, in bytes"),
        Flag::arg('o', "ofiles", Show::Own, "open file descriptors"),
        Flag::arg('P', "prio", Show::Own, "real-time priority"),
        Flag::arg('p', "proc", Show::Own, "processes of the user"),
        Flag::arg('r', "res", Show::Own, "resident memory, in bytes"),
        Flag::arg('s', "stack", Show::Own, "stack memory, in bytes"),
        Flag::arg('t', "cpusecs", Show::Own, "CPU time, in seconds"),
    ],
};

/// Which limits an option sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    /// The soft limit, clamped to the hard one (the default).
    Soft,
    /// The hard limit only (`-h`).
    Hard,
    /// Both (`-H`).
    Both,
}

/// The resources behind each option letter (`-m` is every kind of memory).
fn resources(c: char) -> &'static [Resource] {
    match c {
        'a' => &[rlimit::AS],
        'c' => &[rlimit::CORE],
        'd' => &[rlimit::DATA],
        'f' => &[rlimit::FSIZE],
        'l' => &[rlimit::MEMLOCK],
        'm' => &[rlimit::DATA, rlimit::STACK, rlimit::MEMLOCK, rlimit::AS],
        'o' => &[rlimit::NOFILE],
        'P' => &[rlimit::RTPRIO],
        'p' => &[rlimit::NPROC],
        'r' => &[rlimit::RSS],
        's' => &[rlimit::STACK],
        't' => &[rlimit::CPU],
        _ => &[],
    }
}

/// The limits after applying `arg` (a number, or `=`) to `old`.
fn apply(old: Limit, which: Which, arg: &str) -> Option<Limit> {
    let mut new = old;
    if arg == "=" {
        // "As high as allowed": the hard limit lifts to infinity, the soft one to the hard.
        if which != Which::Soft {
            new.hard = rlimit::INFINITY;
        }
        if which != Which::Hard {
            new.soft = new.hard;
        }
        return Some(new);
    }
    let n: u64 = parse_uint(arg)?;
    if which != Which::Soft {
        new.hard = n;
    }
    if which == Which::Hard {
        // The documented behaviour: lowering the hard limit under the soft one lowers the
        // soft one too (upstream's code lets setrlimit fail with EINVAL instead).
        new.soft = new.soft.min(n);
    } else {
        new.soft = n.min(new.hard);
    }
    Some(new)
}

/// Runs s6-softlimit.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    let mut which = Which::Soft;
    while let Some(o) = g.next() {
        let Ok(o) = o else { continue };
        match o.c {
            'h' => which = Which::Hard,
            'H' => which = Which::Both,
            c => {
                for &res in resources(c) {
                    let old = rlimit::get(res).map_err(|e| Fatal::sys("getrlimit", &e))?;
                    let new = apply(old, which, o.arg_str()).ok_or_else(|| SPEC.usage_error())?;
                    rlimit::set(res, new).map_err(|e| Fatal::sys("setrlimit", &e))?;
                }
            }
        }
    }
    let prog = g.operands();
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    Err(chainload(prog, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: Limit = Limit { soft: 100, hard: 1000 };
    const INF: u64 = rlimit::INFINITY;

    #[test]
    fn soft_is_clamped_to_hard() {
        assert_eq!(apply(OLD, Which::Soft, "50"), Some(Limit { soft: 50, hard: 1000 }));
        assert_eq!(apply(OLD, Which::Soft, "5000"), Some(Limit { soft: 1000, hard: 1000 }));
        assert_eq!(apply(OLD, Which::Soft, "="), Some(Limit { soft: 1000, hard: 1000 }));
    }

    #[test]
    fn hard_and_both() {
        assert_eq!(apply(OLD, Which::Hard, "500"), Some(Limit { soft: 100, hard: 500 }));
        assert_eq!(apply(OLD, Which::Hard, "50"), Some(Limit { soft: 50, hard: 50 }));
        assert_eq!(apply(OLD, Which::Hard, "="), Some(Limit { soft: 100, hard: INF }));
        assert_eq!(apply(OLD, Which::Both, "500"), Some(Limit { soft: 500, hard: 500 }));
        assert_eq!(apply(OLD, Which::Both, "="), Some(Limit { soft: INF, hard: INF }));
    }

    #[test]
    fn bad_values() {
        for bad in ["", "-1", "1k", "==", " 1", "18446744073709551616"] {
            assert_eq!(apply(OLD, Which::Soft, bad), None, "{bad:?}");
        }
        assert_eq!(apply(OLD, Which::Both, "18446744073709551615"), Some(Limit { soft: INF, hard: INF }));
    }

    #[test]
    fn memory_option_covers_every_kind() {
        assert_eq!(resources('m').len(), 4);
        assert!(resources('x').is_empty());
    }
}
