//! `s6-instance-list service`: print the names of the instances of a running instanced
//! service, one per line, in directory order (upstream doc/s6-instance-list.html).
//!
//! The names are the entries of `SVC/instance` that do not start with `.`, up or down
//! alike. Exit codes: 0; 1 when the instanced service does not run; 100; 111.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use s6rs_sys::cli::{show, Fatal, Spec};

use crate::instance;

/// The command line: no options, as upstream.
pub const SPEC: Spec = Spec {
    name: "s6-instance-list",
    operands: "service",
    about: "Lists the instances of a running instanced service, one name per line.",
    doc: "s6-instance-list.html",
    flags: &[],
};

/// Runs s6-instance-list.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    if g.next().is_some() {
        return Err(SPEC.usage_error());
    }
    let Some(svc) = g.operands().first() else { return Err(SPEC.usage_error()) };
    instance::check_running(svc)?;
    let dir = instance::scandir(svc);
    let readdir = |e: &std::io::Error| Fatal::sys(format_args!("readdir {}", show(dir.as_os_str())), e);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| readdir(&e))? {
        let name = entry.map_err(|e| readdir(&e))?.file_name();
        if name.as_bytes().first() != Some(&b'.') {
            out.extend_from_slice(name.as_bytes());
            out.push(b'\n');
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out).and_then(|()| stdout.flush()).map_err(|e| Fatal::sys("write to stdout", &e))?;
    Ok(0)
}
