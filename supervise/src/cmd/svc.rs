//! `s6-svc [ -wu|-wU|-wd|-wD|-wr|-wR ] [ -T ms ] [ -s sig | -abqhkti12pcyrlPCK ] [ -oduDUxOQ ]
//! servicedir...`: send command letters to the supervisors of one or more services
//! (upstream doc/s6-svc.html, 2.15 behaviour).
//!
//! The letters go, in command-line order, in one write per directory. A failing directory is
//! reported and the others are still processed; the exit code is the one of the last
//! failure: 102 nobody listening, 1 broken `supervise/`, 111 anything else. With `-w` the
//! program becomes our sibling `s6-svlisten` (or `s6-svwait` when there is nothing to send),
//! which runs a plain `s6-svc` once it has subscribed, so that no event is missed. The
//! waiter runs with `s6-svc` as its `argv[0]` and then names itself s6-svc in its messages
//! (a timeout, the services that failed permanently): upstream's name the helper instead.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use s6rs_sys::cli::{errtext, parse_uint, warn, warn_sys, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::{self, exec_fatal};

use crate::control::{self, Command, SendError};

/// The command line, as 2.15's. The letters are sent in command-line order; every letter
/// but `s`, `T` and `w` is a [`Command`]'s byte.
pub const SPEC: Spec = Spec {
    name: "s6-svc",
    operands: "servicedirs...",
    about: "Sends commands to the supervisors of one or more services.",
    doc: "s6-svc.html",
    flags: &FLAGS,
};

/// s6-svc's options, in usage-line order (s6-instance-control takes most of them).
pub(crate) const FLAGS: [Flag; 28] = [
    Flag::arg(
        'w',
        "u|U|d|D|r|R",
        Show::Text("-wu | -wU | -wd | -wD | -wr | -wR"),
        "then wait until up, up and ready, down, down and finished, restarted, restarted and ready",
    ),
    Flag::arg('T', "timeout", Show::Own, "with -w, give up after this many milliseconds (0: never)"),
    Flag::arg('s', "signal", Show::Own, "send this signal (name or number) to the service"),
    Flag::new('a', Show::Or, "send SIGALRM"),
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
    Flag::new('r', Show::Cluster, "restart: send the down signal (./down-signal, default SIGTERM)"),
    Flag::new('l', Show::Cluster, "reload: send the reload signal (./reload-signal, default SIGHUP)"),
    Flag::new('P', Show::Cluster, "pause the whole process group: SIGSTOP to it"),
    Flag::new('C', Show::Cluster, "continue the whole process group: SIGCONT to it"),
    Flag::new('K', Show::Cluster, "kill the whole process group: SIGKILL to it"),
    Flag::new('o', Show::Own, "once: bring up if down, and do not restart"),
    Flag::new('d', Show::Cluster, "down: stop the service and keep it down"),
    Flag::new('u', Show::Cluster, "up: start the service and restart it when it dies"),
    Flag::new('D', Show::Cluster, "down, and create ./down"),
    Flag::new('U', Show::Cluster, "up, and remove ./down"),
    Flag::new('x', Show::Cluster, "make the supervisor exit once the service is down"),
    Flag::new('O', Show::Cluster, "do not restart the service when it dies"),
    Flag::new('Q', Show::Cluster, "do not restart the service when it dies, and create ./down"),
];

/// Upstream keeps the letters in a 63-byte buffer that starts with `-`.
pub(crate) const MAX_CMDS: usize = 62;

/// The command for `-s SIG`: a name (any case, `SIG` optional) or a number. The signals a
/// user may send are those a command sends to the service's pid (`control`'s table).
fn signal_command(arg: &OsStr) -> Result<Command, Fatal> {
    let text = arg.to_string_lossy();
    let Some(sig) = s6rs_sys::sig::scan(&text) else {
        return Err(Fatal::bad(format!("invalid signal: {text}")));
    };
    i32::try_from(sig)
        .ok()
        .and_then(Command::for_signal)
        .ok_or_else(|| Fatal::bad(format!("{text} is not in the list of user-available signals")))
}

/// The command line `s6-svc -w` execs into: `s6-svlisten -X [-t T] -- dirs "" s6-svc -cmds
/// -- dirs`, or `s6-svwait -X [-t T] -- dirs` when there are no commands. `sibling` maps a
/// program name to the path of our own copy of it.
pub fn wait_argv(
    sibling: impl Fn(&str) -> PathBuf,
    state: u8,
    timeout: u32,
    cmds: &[u8],
    dirs: &[OsString],
) -> Vec<OsString> {
    let waiter = if cmds.is_empty() { "s6-svwait" } else { "s6-svlisten" };
    let mut argv: Vec<OsString> = vec![sibling(waiter).into(), OsStr::from_bytes(&[b'-', state]).to_owned()];
    if timeout != 0 {
        argv.push("-t".into());
        argv.push(timeout.to_string().into());
    }
    argv.push("--".into());
    argv.extend(dirs.iter().cloned());
    if !cmds.is_empty() {
        argv.push(OsString::new());
        argv.push(sibling("s6-svc").into());
        let mut letters = vec![b'-'];
        letters.extend_from_slice(cmds);
        argv.push(OsStr::from_bytes(&letters).to_owned());
        argv.push("--".into());
        argv.extend(dirs.iter().cloned());
    }
    argv
}

/// Execs the waiter `argv` (with EXECLINE_STRICT unset, so that its block parsing is the
/// default) under the name `s6-svc`: its messages, a timeout or a failed service, then name
/// the program the user ran.
fn become_waiter(argv: &[OsString]) -> Fatal {
    let prog = argv.first().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let cmd = exec::Command::new(argv).and_then(|mut c| {
        c.arg0(OsStr::new("s6-svc"))?.env(&[(OsString::from("EXECLINE_STRICT"), None)])?;
        Ok(c)
    });
    match cmd {
        Ok(c) => c.exec_or_fatal(),
        Err(e) => exec_fatal(&prog, &e),
    }
}

/// For `-wU`/`-wR`: without `notification-fd` in the first directory readiness never
/// comes, so wait for plain up/restart instead, with a warning.
fn check_readiness(first: &OsStr, state: u8) -> Result<u8, Fatal> {
    if state != b'U' && state != b'R' {
        return Ok(state);
    }
    let mut fname = first.to_owned();
    fname.push("/notification-fd");
    match std::fs::metadata(&fname) {
        Ok(_) => Ok(state),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            warn(format_args!(
                "{} not present - ignoring request for readiness notification",
                fname.to_string_lossy()
            ));
            Ok(if state == b'U' { b'u' } else { b'r' })
        }
        Err(e) => Err(Fatal::sys(format_args!("access {}", fname.to_string_lossy()), &e)),
    }
}

/// Sends `cmds` to every directory, reporting failures; returns the last failure's code.
fn send_all(cmds: &[u8], dirs: &[OsString]) -> u8 {
    let mut code = 0;
    for dir in dirs {
        let name = dir.to_string_lossy();
        match control::send(Path::new(dir), "supervise", cmds) {
            Ok(()) => {}
            Err(SendError::Io(e)) => {
                warn_sys(format_args!("control {name}"), &e);
                code = 111;
            }
            Err(SendError::Broken(e)) => {
                warn(format_args!("something is wrong with the {name}/supervise directory: {}", errtext(&e)));
                code = 1;
            }
            Err(SendError::NotListening) => {
                warn(format_args!("unable to control {name}: supervisor not listening"));
                code = 102;
            }
        }
    }
    code
}

/// The state `-w` waits for: the first letter of its argument, one of `dDuUrR`.
pub(crate) fn wait_state(arg: &[u8]) -> Option<u8> {
    arg.first().copied().filter(|c| b"dDuUrR".contains(c))
}

/// Runs s6-svc.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    let mut cmds: Vec<u8> = Vec::new();
    let mut timeout = 0u32;
    let mut state: Option<u8> = None;
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        let cmd = match opt.c {
            's' => signal_command(opt.arg.as_deref().unwrap_or_default())?,
            'T' => {
                timeout = parse_uint(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?;
                continue;
            }
            'w' => {
                let arg = opt.arg.as_deref().unwrap_or_default().as_bytes();
                state = Some(wait_state(arg).ok_or_else(|| SPEC.usage_error())?);
                continue;
            }
            c => Command::from_letter(c).ok_or_else(|| SPEC.usage_error())?,
        };
        if cmds.len() >= MAX_CMDS {
            return Err(Fatal::bad("too many commands"));
        }
        cmds.push(cmd.byte());
    }
    let dirs = g.operands();
    let Some(first) = dirs.first() else { return Err(SPEC.usage_error()) };
    if first.is_empty() {
        return Err(Fatal::bad("invalid service path"));
    }
    match state {
        Some(state) => {
            let state = check_readiness(first, state)?;
            let argv = wait_argv(s6rs_sys::exec::sibling, state, timeout, &cmds, dirs);
            Err(become_waiter(&argv))
        }
        None => Ok(send_all(&cmds, dirs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::testing::args as os;

    fn bindir(name: &str) -> PathBuf {
        Path::new("/b").join(name)
    }

    #[test]
    fn wait_with_commands_goes_through_svlisten() {
        let argv = wait_argv(bindir, b'U', 5000, b"du", &os(&["a", "b"]));
        assert_eq!(
            argv,
            os(&[
                "/b/s6-svlisten",
                "-U",
                "-t",
                "5000",
                "--",
                "a",
                "b",
                "",
                "/b/s6-svc",
                "-du",
                "--",
                "a",
                "b"
            ])
        );
    }

    #[test]
    fn wait_without_commands_or_timeout_is_svwait() {
        let argv = wait_argv(bindir, b'D', 0, b"", &os(&["a"]));
        assert_eq!(argv, os(&["/b/s6-svwait", "-D", "--", "a"]));
    }

    #[test]
    fn signals_map_to_letters() {
        let letter = |s: &str| signal_command(OsStr::new(s)).map(Command::byte);
        assert_eq!(letter("term").unwrap(), b't');
        assert_eq!(letter("SIGWINCH").unwrap(), b'y');
        assert_eq!(letter("9").unwrap(), b'k');
        assert_eq!(letter("Sig1").unwrap(), b'h');
        assert_eq!(letter("stop").unwrap(), b'p');
        assert_eq!(letter("CONT").unwrap(), b'c');
        assert_eq!(letter("SEGV").unwrap_err().msg, "SEGV is not in the list of user-available signals");
        assert_eq!(letter("0").unwrap_err().msg, "0 is not in the list of user-available signals");
        assert_eq!(letter("bogus").unwrap_err().msg, "invalid signal: bogus");
    }

    #[test]
    fn every_command_letter_is_an_option_and_back() {
        let letters: Vec<char> = SPEC.flags.iter().map(|f| f.short).filter(|c| !"sTw".contains(*c)).collect();
        for &c in &letters {
            assert_eq!(Command::from_letter(c).map(|k| k.byte() as char), Some(c), "{c}");
        }
        let all: Vec<char> = (0..=255u8).filter_map(Command::from_byte).map(|k| k.byte() as char).collect();
        let mut sorted = letters.clone();
        sorted.sort_unstable();
        let mut all_sorted = all;
        all_sorted.sort_unstable();
        assert_eq!(sorted, all_sorted);
    }

    #[test]
    fn options_in_order_and_limits() {
        let r = run(os(&["-s"]));
        assert_eq!(r.unwrap_err().code, 100);
        assert!(run(os(&["-wx", "d"])).unwrap_err().usage);
        assert!(run(os(&["-w", "", "d"])).unwrap_err().usage);
        assert!(run(os(&["-T", "x", "d"])).unwrap_err().usage);
        assert!(run(os(&["-u"])).unwrap_err().usage);
        assert_eq!(run(os(&["-u", ""])).unwrap_err().msg, "invalid service path");
        let many = format!("-{}", "u".repeat(63));
        assert_eq!(run(os(&[&many, "d"])).unwrap_err().msg, "too many commands");
    }
}
