//! `s6-fdholder-transferdump [ -t timeoutfrom:timeoutto ] pathfrom pathto`: copy every fd the
//! daemon at `pathfrom` holds, with ids and limits, into the daemon at `pathto`, which keeps
//! what it held (upstream doc/s6-fdholder-transferdump.html). Exits 1 when the source
//! refuses and 2 when the destination does, as the upstream page says (2.15's code exits 1
//! for both; the page is followed).

use std::ffi::OsString;
use std::os::fd::AsFd;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-transferdump",
    operands: "socketfrom socketto",
    about: "Copies every fd the fd-holder daemon at pathfrom holds into the one at pathto.",
    doc: "s6-fdholder-transferdump.html",
    flags: &[Flag::arg(
        't',
        "timeoutfrom:timeoutto",
        Show::Own,
        "give up on either daemon after this many ms (0 or empty = never)",
    )],
};

/// Parses `timeoutfrom:timeoutto`: either side may be empty (0, no timeout), and `:timeoutto`
/// may be left out.
pub fn parse_timeouts(arg: &str) -> Option<(u64, u64)> {
    let num = |s: &str| if s.is_empty() { Some(0) } else { cli::parse_uint::<u32>(s).map(u64::from) };
    match arg.split_once(':') {
        Some((from, to)) => Some((num(from)?, num(to)?)),
        None if arg.is_empty() => None,
        None => Some((num(arg)?, 0)),
    }
}

/// Runs s6-fdholder-transferdump.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (mut from_ms, mut to_ms) = (0u64, 0u64);
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            't' => (from_ms, to_ms) = parse_timeouts(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?,
            _ => return Err(SPEC.usage_error()),
        }
    }
    let [from, to, ..] = g.operands() else { return Err(SPEC.usage_error()) };
    let mut c = super::connect(from, "a source", Deadline::from_ms(from_ms))?;
    let dump = c.getdump().map_err(|e| super::failed(1, "get dump", &e))?;
    drop(c);
    let mut c = super::connect(to, "a destination", Deadline::from_ms(to_ms))?;
    let list: Vec<_> = dump.iter().map(|d| (&d.id[..], d.limit, d.fd.as_fd())).collect();
    c.setdump(&list).map_err(|e| super::failed(2, "set dump", &e))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_as_upstream_reads_them() {
        assert_eq!(parse_timeouts("5"), Some((5, 0)));
        assert_eq!(parse_timeouts("5:"), Some((5, 0)));
        assert_eq!(parse_timeouts(":7"), Some((0, 7)));
        assert_eq!(parse_timeouts("5:7"), Some((5, 7)));
        assert_eq!(parse_timeouts(":"), Some((0, 0)));
        for bad in ["", "x", "5x", "5:x", "5:7:9", "-1:2"] {
            assert_eq!(parse_timeouts(bad), None, "{bad}");
        }
    }
}
