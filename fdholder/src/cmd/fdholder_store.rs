//! `s6-fdholder-store [ -d fd ] [ -T fdtimeout ] [ -t timeout ] path id`: give the daemon at
//! `path` a copy of fd 0 (or `fd`) to hold under `id`, until `fdtimeout` ms from now or
//! without limit (upstream doc/s6-fdholder-store.html). Exits 1 when the daemon refuses.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::tai::Tain;

use crate::protocol;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-store",
    operands: "socket id",
    about: "Gives a copy of stdin (or of fd) to the fd-holder daemon at path, to hold under id.",
    doc: "s6-fdholder-store.html",
    flags: &[
        Flag::arg('d', "fd", Show::Own, "store this fd instead of 0"),
        super::TIMEOUT_FLAG,
        Flag::arg('T', "fdtimeout", Show::Own, "the daemon drops the fd after this many ms (0 = never)"),
    ],
};

/// Runs s6-fdholder-store.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (mut fd, mut t, mut fdt) = (0u32, 0u64, 0u64);
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            'd' => fd = cli::parse_uint(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?,
            't' => t = super::timeout(&SPEC, opt.arg_str())?,
            'T' => fdt = super::timeout(&SPEC, opt.arg_str())?,
            _ => return Err(SPEC.usage_error()),
        }
    }
    let [path, id, ..] = g.operands() else { return Err(SPEC.usage_error()) };
    let deadline = Deadline::from_ms(t);
    let now = Tain::now();
    let limit = if fdt == 0 { protocol::no_limit(now) } else { now.add(Duration::from_millis(fdt)) };
    let mut c = super::connect(path, "a", deadline)?;
    // A number that is not open fails as sending it would: EBADF.
    let fd = s6rs_sys::fd::adopt(fd as i32).map_err(|e| super::failed(1, "store fd", &e))?;
    let res = c.store(fd.as_fd(), id.as_bytes(), limit);
    // The fd is the caller's: never close it here.
    std::mem::forget(fd);
    res.map_err(|e| super::failed(1, "store fd", &e))?;
    Ok(0)
}
