//! `s6-fdholder-retrieve [ -D ] [ -t timeout ] path id prog...`: get a copy of the fd the
//! daemon at `path` holds under `id` and chain-load `prog...` with it as fd 0; `-D` also
//! deletes it from the daemon (upstream doc/s6-fdholder-retrieve.html). Exits 1 when the
//! daemon refuses.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::exec::chainload;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-retrieve",
    operands: "socket id prog...",
    about: "Gets the fd the fd-holder daemon at path holds under id, then runs prog with it as stdin.",
    doc: "s6-fdholder-retrieve.html",
    flags: &[Flag::new('D', Show::Own, "also delete the fd from the daemon"), super::TIMEOUT_FLAG],
};

/// Runs s6-fdholder-retrieve.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (mut t, mut delete) = (0u64, false);
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            'D' => delete = true,
            't' => t = super::timeout(&SPEC, opt.arg_str())?,
            _ => return Err(SPEC.usage_error()),
        }
    }
    let [path, id, prog @ ..] = g.operands() else { return Err(SPEC.usage_error()) };
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let mut c = super::connect(path, "a", Deadline::from_ms(t))?;
    let fd = c
        .retrieve(id.as_bytes(), delete)
        .map_err(|e| super::failed(1, format_args!("retrieve fd for id {}", cli::show(id)), &e))?;
    drop(c);
    let fd = s6rs_sys::fd::move_to(fd, 0).map_err(|e| Fatal::sys("move fd", &e))?;
    // fd 0 is prog's from here on.
    std::mem::forget(fd);
    Err(chainload(prog, &[]))
}
