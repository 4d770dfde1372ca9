//! `s6-instance-delete [ -X ] [ -t timeout ] service instancename`: remove an instance of a
//! running instanced service (upstream doc/s6-instance-delete.html).
//!
//! The link `SVC/instance/NAME` goes with s6-svunlink's mechanism (its supervisor, and its
//! logger's, are told to exit and waited for unless `-X`; a timeout is not an error), then
//! `SVC/instances/NAME` is removed. Exit codes: 0; 1 when the instanced service does not
//! run; 100 for bad usage or a bad name; 111.

use std::ffi::OsString;

use s6rs_sys::cli::{show, Fatal, Spec};
use s6rs_sys::deadline::Deadline;

use crate::instance;
use crate::link::{self, UNLINK_FLAGS};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-instance-delete",
    operands: "service instancename",
    about: "Deletes an instance of a running instanced service, after its supervisor has exited.",
    doc: "s6-instance-delete.html",
    flags: &UNLINK_FLAGS,
};

/// Runs s6-instance-delete.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (wait, timeout, operands) = link::parse_unlink(&SPEC, &args)?;
    let [svc, name, ..] = operands else { return Err(SPEC.usage_error()) };
    instance::check_name(name)?;
    instance::check_running(svc)?;
    link::unlink(&instance::scandir(svc), &[name.as_os_str()], wait, Deadline::from_ms(timeout)).map_err(
        |e| {
            Fatal::sys(
                format_args!("prepare deletion of instance {} of service {}", show(name), show(svc)),
                &e,
            )
        },
    )?;
    instance::remove_tree(&instance::copy_dir(svc, name));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::testing::args as os;

    #[test]
    fn usage_and_names() {
        assert!(run(os(&["svc"])).unwrap_err().usage);
        assert!(run(os(&["-d", "svc", "a"])).unwrap_err().usage);
        assert_eq!(run(os(&["svc", ""])).unwrap_err().msg, "invalid instance name");
        assert_eq!(run(os(&["", "a"])).unwrap_err().msg, "invalid service path");
    }
}
