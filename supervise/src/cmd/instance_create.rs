//! `s6-instance-create [ -d | -D ] [ -f ] [ -P ] [ -t timeout ] service instancename`: add
//! an instance to a running instanced service and wait until its supervisor (and its
//! logger's, when the template has a `log/`) runs (upstream doc/s6-instance-create.html).
//!
//! The template is copied to `SVC/instances/NAME`, then linked as `SVC/instance/NAME` (a
//! relative link to `../instances/NAME`) with s6-svlink's mechanism and options; the copy
//! is removed again if that fails. Exit codes: 0; 1 when the instanced service does not
//! run; 99 on timeout; 100 for bad usage, a bad name or an instance that exists; 111.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use s6rs_sys::cli::{show, Fatal, Spec};
use s6rs_sys::deadline::Deadline;

use crate::instance;
use crate::link::{self, LinkOptions, Service, LINK_FLAGS};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-instance-create",
    operands: "service instancename",
    about: "Creates an instance of a running instanced service and waits until its supervisor \
            has started.",
    doc: "s6-instance-create.html",
    flags: &LINK_FLAGS,
};

/// Runs s6-instance-create.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (opts, timeout, operands) = LinkOptions::parse(&SPEC, &args)?;
    let [svc, name, ..] = operands else { return Err(SPEC.usage_error()) };
    instance::check_name(name)?;
    if svc.is_empty() {
        return Err(Fatal::bad("invalid service path"));
    }
    for sub in ["instances", "instance"] {
        let dir = Path::new(svc).join(sub);
        instance::make_dir(&dir, 0o755, true)
            .map_err(|e| Fatal::sys(format_args!("mkdir {}", show(dir.as_os_str())), &e))?;
    }
    instance::check_running(svc)?;
    let deadline = Deadline::from_ms(timeout);
    let copy = instance::copy_dir(svc, name);
    let shown = show(copy.as_os_str()).into_owned();
    match std::fs::metadata(&copy) {
        Ok(md) if md.is_dir() => {
            return Err(Fatal::bad(format!("instance appears to already exist at {shown}")))
        }
        Ok(_) => return Err(Fatal::bad(format!("unexpected file preventing instance creation at {shown}"))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Fatal::sys(format_args!("stat {shown}"), &e)),
    }
    let template = Path::new(svc).join("template");
    if let Err(e) = instance::copy_tree(&template, &copy) {
        instance::remove_tree(&copy);
        return Err(Fatal::sys(format_args!("copy {} to {shown}", show(template.as_os_str())), &e));
    }
    let target: PathBuf = Path::new("../instances").join(name);
    let service = Service { dir: &copy, name, target: Some(&target) };
    if let Err(e) = link::link(&instance::scandir(svc), &[service], opts, deadline) {
        instance::remove_tree(&copy);
        return Err(Fatal::sys_code(
            link::failure_code(&e),
            format_args!("create instance of {} named {}", show(svc), show(name)),
            &e,
        ));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::testing::args as os;

    #[test]
    fn usage_and_names() {
        assert!(run(os(&["svc"])).unwrap_err().usage);
        assert!(run(os(&["-t", "x", "svc", "a"])).unwrap_err().usage);
        assert!(run(os(&["-X", "svc", "a"])).unwrap_err().usage);
        assert_eq!(run(os(&["svc", ".a"])).unwrap_err().msg, "invalid instance name");
        assert_eq!(run(os(&["svc", "a/b"])).unwrap_err().msg, "invalid instance name");
        assert_eq!(run(os(&["", "a"])).unwrap_err().msg, "invalid service path");
    }
}
