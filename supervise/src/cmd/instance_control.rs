//! `s6-instance-control [ -wu | -wU | -wd | -wD | -wr | -wR ] [ -T timeout ]
//! [ -abqhkti12pcyroduDUxO ] service instancename`: send commands to one instance of an
//! instanced service (upstream doc/s6-instance-control.html).
//!
//! It checks its command line and execs our `s6-svc` with the same options on
//! `SVC/instance/NAME`, so exit codes and messages are s6-svc's. As upstream, only the
//! letters above are accepted (not s6-svc's `-s`, `-l`, `-P`, `-C`, `-K`, `-Q`), and
//! operands after the name are ignored.

use std::ffi::{OsStr, OsString};

use s6rs_sys::cli::{parse_uint, Fatal, Flag, Show, Spec};

use super::svc::{wait_state, FLAGS, MAX_CMDS};
use crate::instance;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-instance-control",
    operands: "service instancename",
    about: "Sends commands to the supervisor of one instance of an instanced service (as s6-svc).",
    doc: "s6-instance-control.html",
    flags: &[
        FLAGS[0],
        FLAGS[1],
        // In s6-svc, -a follows -s; here it opens the letters.
        Flag { show: Show::Own, ..FLAGS[3] },
        FLAGS[4],
        FLAGS[5],
        FLAGS[6],
        FLAGS[7],
        FLAGS[8],
        FLAGS[9],
        FLAGS[10],
        FLAGS[11],
        FLAGS[12],
        FLAGS[13],
        FLAGS[14],
        FLAGS[15],
        // Upstream's usage line runs the letters on in one cluster.
        Flag { show: Show::Cluster, ..FLAGS[20] },
        FLAGS[21],
        FLAGS[22],
        FLAGS[23],
        FLAGS[24],
        FLAGS[25],
        FLAGS[26],
    ],
};

/// Checks the command line; returns the options (as given) and the service and name.
fn parse(args: &[OsString]) -> Result<(&[OsString], &OsStr, &OsStr), Fatal> {
    let mut g = SPEC.getopt(args);
    let mut cmds = 0;
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            'T' => {
                parse_uint::<u32>(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?;
            }
            'w' => {
                wait_state(opt.arg_str().as_bytes()).ok_or_else(|| SPEC.usage_error())?;
            }
            _ => {
                cmds += 1;
                if cmds > MAX_CMDS {
                    return Err(Fatal::bad("too many commands"));
                }
            }
        }
    }
    let ops = g.operands();
    instance::split_operands(args, ops, SPEC.usage_error())
}

/// Runs s6-instance-control: execs s6-svc.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (options, svc, name) = parse(&args)?;
    Err(instance::exec_on("s6-svc", options, svc, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::testing::args as os;

    #[test]
    fn command_lines() {
        let a = os(&["-wU", "-T", "500", "-du", "--", "svc", "x", "extra"]);
        let (opts, svc, name) = parse(&a).unwrap();
        assert_eq!(opts, &a[..5]);
        assert_eq!((svc.to_str(), name.to_str()), (Some("svc"), Some("x")));
        assert!(parse(&os(&["-wz", "svc", "x"])).unwrap_err().usage);
        assert!(parse(&os(&["-T", "x", "svc", "x"])).unwrap_err().usage);
        assert!(parse(&os(&["-s", "HUP", "svc", "x"])).unwrap_err().usage);
        assert!(parse(&os(&["-Q", "svc", "x"])).unwrap_err().usage);
        assert!(parse(&os(&["svc"])).unwrap_err().usage);
        assert_eq!(parse(&os(&["", "x"])).unwrap_err().msg, "invalid service name");
        assert_eq!(parse(&os(&["svc", "a b"])).unwrap_err().msg, "invalid instance name");
        let many = format!("-{}", "u".repeat(MAX_CMDS));
        assert!(parse(&os(&[&many, "svc", "x"])).is_ok());
        let too_many = format!("-{}", "u".repeat(MAX_CMDS + 1));
        assert_eq!(parse(&os(&[&too_many, "svc", "x"])).unwrap_err().msg, "too many commands");
    }
}
