//! `s6-svlink [ -d | -D ] [ -P ] [ -f ] [ -t ms ] scandir servicedir [ name ]`: link a
//! service directory into the scan directory of a running s6-svscan and wait until its
//! supervisor (and its logger's) runs (upstream doc/s6-svlink.html).
//!
//! Exit codes: 0, 1 when no s6-svscan runs on scandir (undocumented upstream), 99 on
//! timeout, 100 for bad usage or a service dir without an executable `run`, 111.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use s6rs_sys::cli::{warn, Fatal, Spec};
use s6rs_sys::deadline::Deadline;

use crate::cmd::svok::is_supervised;
use crate::link::{self, LinkOptions, Service, LINK_FLAGS};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-svlink",
    operands: "scandir servicedir [ name ]",
    about: "Links servicedir into the scan directory of a running s6-svscan and waits until \
            its supervisor has started.",
    doc: "s6-svlink.html",
    flags: &LINK_FLAGS,
};

/// POSIX `basename`: the last component, trailing slashes ignored (`/` for only slashes).
pub fn basename(path: &OsStr) -> &OsStr {
    let b = path.as_bytes();
    if b.is_empty() {
        return OsStr::new(".");
    }
    let end = b.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);
    if end == 0 {
        return OsStr::new("/");
    }
    let start = b[..end].iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    OsStr::from_bytes(&b[start..end])
}

/// s6-svscan holds `.s6-svscan/lock` for its lifetime.
fn check_scandir(scandir: &str) -> Result<(), Fatal> {
    let lock = format!("{scandir}/.s6-svscan/lock");
    let f = s6rs_sys::fd::open_read_nb(Path::new(&lock))
        .map_err(|e| Fatal::sys(format_args!("open {lock}"), &e))?;
    let locked = s6rs_sys::lock::is_locked(f.as_fd())
        .map_err(|e| Fatal::sys(format_args!("check lock on {lock}"), &e))?;
    if !locked {
        return Err(Fatal::new(1, format!("s6-svscan not running on {scandir}")));
    }
    Ok(())
}

fn check_run(dir: &str) -> Result<(), Fatal> {
    let run = format!("{dir}/run");
    let md = std::fs::metadata(&run).map_err(|e| Fatal::sys(format_args!("stat {run}"), &e))?;
    if md.permissions().mode() & 0o100 == 0 {
        return Err(Fatal::bad(format!("{run} is not executable")));
    }
    match is_supervised(Path::new(dir)) {
        Ok(true) => warn(format_args!("supervisor already running on {dir}")),
        Ok(false) => {}
        Err(e) => return Err(Fatal::sys(format_args!("check supervision status of {dir}"), &e)),
    }
    Ok(())
}

/// The service dir needs an executable `run`, and so does `log/` if there is one.
fn check_servicedir(dir: &str) -> Result<(), Fatal> {
    check_run(dir)?;
    let log = format!("{dir}/log");
    match std::fs::metadata(&log) {
        Ok(md) if !md.is_dir() => Err(Fatal::bad(format!("{log} is not a directory"))),
        Ok(_) => check_run(&log),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Fatal::sys(format_args!("stat {log}"), &e)),
    }
}

/// Runs s6-svlink.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (opts, timeout, ops) = LinkOptions::parse(&SPEC, &args)?;
    if ops.len() < 2 {
        return Err(SPEC.usage_error());
    }
    let (scandir, servicedir) = (&ops[0], &ops[1]);
    let name = ops.get(2).map_or_else(|| basename(servicedir), |n| n.as_os_str());
    if scandir.is_empty() {
        return Err(Fatal::bad("invalid scandir"));
    }
    if servicedir.is_empty() {
        return Err(Fatal::bad("invalid servicedir"));
    }
    if name.is_empty() || name.as_bytes()[0] == b'.' || name.as_bytes()[0] == b'/' {
        return Err(Fatal::bad("invalid name"));
    }
    let (scan_s, svc_s) = (scandir.to_string_lossy(), servicedir.to_string_lossy());
    check_scandir(&scan_s)?;
    check_servicedir(&svc_s)?;
    let deadline = Deadline::from_ms(timeout);
    let svc = Service { dir: Path::new(servicedir), name, target: None };
    link::link(Path::new(scandir), &[svc], opts, deadline).map_err(|e| {
        Fatal::sys_code(
            link::failure_code(&e),
            format_args!(
                "link servicedir {svc_s} into scandir {scan_s} with name {}",
                name.to_string_lossy()
            ),
            &e,
        )
    })?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::testing::args as os;

    #[test]
    fn basenames() {
        let b = |s: &str| basename(OsStr::new(s)).to_str().unwrap().to_owned();
        assert_eq!(b("/a/b/svc"), "svc");
        assert_eq!(b("svc/"), "svc");
        assert_eq!(b("a//svc//"), "svc");
        assert_eq!(b("/"), "/");
        assert_eq!(b(""), ".");
        assert_eq!(b("."), ".");
    }

    #[test]
    fn names_and_usage() {
        assert!(run(os(&["scan"])).unwrap_err().usage);
        assert!(run(os(&["-t", "x", "scan", "svc"])).unwrap_err().usage);
        assert_eq!(run(os(&["", "svc"])).unwrap_err().msg, "invalid scandir");
        assert_eq!(run(os(&["scan", ""])).unwrap_err().msg, "invalid servicedir");
        assert_eq!(run(os(&["scan", "svc", ".x"])).unwrap_err().msg, "invalid name");
        assert_eq!(run(os(&["scan", "/"])).unwrap_err().msg, "invalid name");
    }
}
