//! s6-connlimit: refuse a client when its origin already has too many connections.
//! Upstream page: `s6-connlimit.html`.
//!
//! `${PROTO}CONNNUM` is the number of connections the server already has from this client's
//! origin (uid for s6-ipcserver, IP address for s6-tcpserver), not counting this one (2.15);
//! `${PROTO}CONNMAX`, usually set by an access rule's `env/`, is the limit. NUM ≥ MAX: exit
//! 1. MAX unset: exec at once, without looking at NUM.
//!
//! Upstream's code compares `NUM > MAX`, which with 2.15's count (the connections before
//! this one) lets MAX + 1 connections in; we follow the page, which says "superior or
//! equal", so that at most MAX connections are served.

use std::ffi::OsString;

use s6rs_sys::cli::{parse_uint, Fatal, Spec};

/// The command line: no options, as upstream; the limits come from the environment.
pub const SPEC: Spec = Spec {
    name: "s6-connlimit",
    operands: "prog...",
    about: "Under a UCSPI server: exits 1 if the client's origin already has ${PROTO}CONNMAX \
            connections, else runs prog.",
    doc: "s6-connlimit.html",
    flags: &[],
};

/// Runs s6-connlimit.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let proto = std::env::var_os("PROTO").ok_or_else(|| Fatal::bad("PROTO not set"))?;
    if proto.is_empty() {
        return Err(Fatal::bad("empty PROTO"));
    }
    let with = |suffix: &str| {
        let mut v = proto.clone();
        v.push(suffix);
        v
    };
    let (numvar, maxvar) = (with("CONNNUM"), with("CONNMAX"));
    if let Some(max) = std::env::var_os(&maxvar) {
        let invalid = |v: &OsString| Fatal::bad(format!("invalid {}", v.to_string_lossy()));
        let max_n: u32 = max.to_str().and_then(parse_uint).ok_or_else(|| invalid(&maxvar))?;
        let num = std::env::var_os(&numvar)
            .ok_or_else(|| Fatal::bad(format!("{} not set", numvar.to_string_lossy())))?;
        let num: u32 = num.to_str().and_then(parse_uint).ok_or_else(|| invalid(&numvar))?;
        if num >= max_n {
            return Err(Fatal::new(
                1,
                format!("number of connections from this client limited to {}", max.to_string_lossy()),
            ));
        }
    }
    if args.is_empty() {
        return Err(SPEC.usage_error());
    }
    Err(s6rs_sys::exec::chainload(&args, &[]))
}
