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

use crate::instance;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-instance-control",
    operands: "service instancename",
    about: "Sends commands to the supervisor of one instance of an instanced service (as s6-svc).",
    doc: "s6-instance-control.html",
    flags: &[
        Flag::arg(
            'w',
            "u|U|d|D|r|R",
            Show::Text("-wu | -wU | -wd | -wD | -wr | -wR"),
            "then wait until up, up and ready, down, down and finished, restarted, restarted and ready",
        ),
        Flag::arg('T', "timeout", Show::Own, "with -w, give up after this many milliseconds (0: never)"),
        Flag::new('a', Show::Own, "send SIGALRM"),
        Flag::new('b', Show::Cluster, "send SIGABRT"),
        Flag::new('q', Show::Cluster, "send SIGQUIT"),
        Flag::new('h', Show::Cluster, "send SIGHUP"),
        Flag::new('k', Show::Cluster, "send SIGKILL"),
        Flag::new('t', Show::Cluster, "send SIGTERM"),
        Flag::new('i', Show::Cluster, "send SIGINT"),
        Flag::new('1', Show::Cluster, "send SIGUSR1"),
        Flag::new('2', Show::Cluster, "send SIGUSR2"),
        Flag::new('p', Show::Cluster, "pause: send SIGSTOP"),
        Flag::new('c', Show::Cluster, "continue: send SIGCONT"),
        Flag::new('y', Show::Cluster, "send SIGWINCH"),
        Flag::new('r', Show::Cluster, "restart: send the down signal"),
        Flag::new('o', Show::Cluster, "once: bring up if down, and do not restart"),
        Flag::new('d', Show::Cluster, "down: stop the instance and keep it down"),
        Flag::new('u', Show::Cluster, "up: start the instance and restart it when it dies"),
        Flag::new('D', Show::Cluster, "down, and create ./down"),
        Flag::new('U', Show::Cluster, "up, and remove ./down"),
        Flag::new('x', Show::Cluster, "make the supervisor exit once the instance is down"),
        Flag::new('O', Show::Cluster, "do not restart the instance when it dies"),
    ],
};

/// Upstream counts the letters in a 63-byte buffer whose first byte is taken.
const MAX_CMDS: usize = 62;

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
                if !opt.arg_str().chars().next().is_some_and(|c| "dDuUrR".contains(c)) {
                    return Err(SPEC.usage_error());
                }
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

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

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
