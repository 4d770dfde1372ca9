//! `s6-instance-status [ -uwNrpest | -o fields ] [ -n ] service name`: print the state of
//! one instance of an instanced service (upstream doc/s6-instance-status.html).
//!
//! It checks its command line and execs our `s6-svstat` with the same options on
//! `SVC/instance/NAME`, so output, exit codes and messages are s6-svstat's. As upstream,
//! `-g` is not accepted; the `-o` list is only checked for empty fields and for more than
//! 16 fields in all (upstream's own check of field names never refuses one), and s6-svstat
//! checks the names.

use std::ffi::{OsStr, OsString};

use s6rs_sys::cli::{Fatal, Flag, Spec};

use super::svstat::{FLAGS, MAX_FIELDS};
use crate::instance;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-instance-status",
    operands: "service name",
    about: "Prints the state of one instance of an instanced service (as s6-svstat).",
    doc: "s6-instance-status.html",
    flags: &[
        FLAGS[0],
        FLAGS[1],
        FLAGS[2],
        FLAGS[3],
        FLAGS[4],
        FLAGS[6],
        FLAGS[7],
        FLAGS[8],
        // Upstream's usage line lists the fields without pgid.
        Flag {
            arg: Some(
                "up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor",
            ),
            ..FLAGS[9]
        },
        FLAGS[10],
    ],
};

/// Checks the command line; returns the options (as given) and the service and name.
fn parse(args: &[OsString]) -> Result<(&[OsString], &OsStr, &OsStr), Fatal> {
    let mut g = SPEC.getopt(args);
    let mut fields = 0;
    let mut count = |n: usize| {
        fields += n;
        if fields > MAX_FIELDS {
            return Err(Fatal::bad("too many option fields"));
        }
        Ok(())
    };
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            'n' => {}
            'o' => {
                let list = opt.arg_str();
                if list.is_empty() {
                    continue;
                }
                let list = list.strip_suffix(',').unwrap_or(list);
                for f in list.split(',') {
                    if f.is_empty() {
                        return Err(Fatal::bad("invalid null option field"));
                    }
                    count(1)?;
                }
            }
            _ => count(1)?,
        }
    }
    let ops = g.operands();
    instance::split_operands(args, ops, SPEC.usage_error())
}

/// Runs s6-instance-status: execs s6-svstat.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (options, svc, name) = parse(&args)?;
    Err(instance::exec_on("s6-svstat", options, svc, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::testing::args as os;

    #[test]
    fn command_lines() {
        let a = os(&["-upn", "-o", "up,pid,", "svc", "x"]);
        let (opts, svc, name) = parse(&a).unwrap();
        assert_eq!(opts, &a[..3]);
        assert_eq!((svc.to_str(), name.to_str()), (Some("svc"), Some("x")));
        // Names are left to s6-svstat; empty fields are not.
        assert!(parse(&os(&["-o", "nosuchfield", "svc", "x"])).is_ok());
        assert_eq!(parse(&os(&["-o", ",up", "svc", "x"])).unwrap_err().msg, "invalid null option field");
        assert_eq!(parse(&os(&["-o", "up,,pid", "svc", "x"])).unwrap_err().msg, "invalid null option field");
        let sixteen = vec!["up"; 16].join(",");
        assert!(parse(&os(&["-o", &sixteen, "svc", "x"])).is_ok());
        assert_eq!(
            parse(&os(&["-u", "-o", &sixteen, "svc", "x"])).unwrap_err().msg,
            "too many option fields"
        );
        assert!(parse(&os(&["-g", "svc", "x"])).unwrap_err().usage);
        assert!(parse(&os(&["svc"])).unwrap_err().usage);
        assert_eq!(parse(&os(&["svc", ".x"])).unwrap_err().msg, "invalid instance name");
    }
}
