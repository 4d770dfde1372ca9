//! `s6-fdholder-daemon [ -1 ] [ -v verbosity ] [ -d | -D ] [ -c maxconn ] [ -n maxfds ]
//! [ -b backlog ] [ -G gidlist ] [ -g gid ] [ -u uid ] [ -U ] [ -t clienttimeout ]
//! [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] path`: rewrite the command line into
//! `s6-ipcserver-socketbinder ... path [s6-applyuidgid ...] s6-fdholderd ...` and exec it
//! (upstream doc/s6-fdholder-daemon.html). The three programs are our siblings, never
//! looked up in PATH, as s6-ipcserver finds its own.

use std::ffi::OsString;

use s6rs_ipc::chain::{self, Front};
use s6rs_sys::cli::{self, Fatal, Spec};
use s6rs_sys::exec::{chainload, sibling};

use super::fdholderd;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-daemon",
    operands: "path",
    about: "Listens on a Unix socket at path and holds file descriptors for its clients.",
    doc: "s6-fdholder-daemon.html",
    flags: &[
        fdholderd::FLAGS[0],
        chain::FLAGS[0],
        chain::FLAGS[1],
        fdholderd::FLAGS[1],
        fdholderd::FLAGS[2],
        fdholderd::FLAGS[3],
        chain::FLAGS[2],
        chain::FLAGS[3],
        chain::FLAGS[4],
        chain::FLAGS[5],
        chain::FLAGS[6],
        fdholderd::FLAGS[4],
        fdholderd::FLAGS[5],
        fdholderd::FLAGS[6],
        fdholderd::FLAGS[7],
    ],
};

/// The command line s6-fdholder-daemon execs into, for `args` (without argv\[0\]).
pub fn command_line(args: &[OsString]) -> Result<Vec<OsString>, Fatal> {
    let usage = || SPEC.usage_error();
    let (mut verbosity, mut ready) = (1u32, false);
    let (mut maxconn, mut maxfds, mut t, mut lt) = (0u32, 0u32, 0u32, 0u32);
    let mut front = Front::default();
    let mut rules: Option<(&str, OsString)> = None;
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str();
        if front.option(opt.c, arg, usage)? {
            continue;
        }
        let num = || cli::parse_uint::<u32>(arg).ok_or_else(usage);
        match opt.c {
            '1' => ready = true,
            'v' => verbosity = num()?,
            'c' => maxconn = num()?.max(1),
            'n' => maxfds = num()?.max(1),
            't' => t = num()?,
            'T' => lt = num()?,
            'i' => rules = Some(("-i", opt.arg.clone().unwrap_or_default())),
            'x' => rules = Some(("-x", opt.arg.clone().unwrap_or_default())),
            _ => return Err(usage()),
        }
    }
    let [path, ..] = g.operands() else { return Err(usage()) };
    let (rflag, rpath) = rules.ok_or_else(|| Fatal::bad("no access rights specified!"))?;
    let mut out: Vec<OsString> = Vec::with_capacity(30);
    front.push(&mut out, path);
    out.push(sibling("s6-fdholderd").into_os_string());
    let push = |out: &mut Vec<OsString>, s: &str| out.push(OsString::from(s));
    if verbosity != 1 {
        push(&mut out, "-v");
        push(&mut out, &verbosity.to_string());
    }
    if ready {
        push(&mut out, "-1");
    }
    for (flag, v) in [("-c", maxconn), ("-n", maxfds), ("-t", t), ("-T", lt)] {
        if v != 0 {
            push(&mut out, flag);
            push(&mut out, &v.to_string());
        }
    }
    push(&mut out, rflag);
    out.push(rpath);
    Ok(out)
}

/// Runs s6-fdholder-daemon.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let argv = command_line(&args)?;
    Err(chainload(&argv, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::testing::{args, program_names};

    fn line(v: &[&str]) -> Vec<String> {
        program_names(command_line(&args(v)).unwrap())
    }

    #[test]
    fn plain() {
        assert_eq!(
            line(&["-i", "r", "/run/s"]),
            ["s6-ipcserver-socketbinder", "--", "/run/s", "s6-fdholderd", "-i", "r"]
        );
    }

    #[test]
    fn every_option() {
        let got = line(&[
            "-1", "-v2", "-D", "-c0", "-n", "5", "-b", "3", "-u", "7", "-g8", "-G", "9,10", "-t", "11",
            "-T12", "-i", "r", "-x", "c", "s",
        ]);
        let want = [
            "s6-ipcserver-socketbinder",
            "-D",
            "-b",
            "3",
            "--",
            "s",
            "s6-applyuidgid",
            "-u",
            "7",
            "-g",
            "8",
            "-G",
            "9,10",
            "--",
            "s6-fdholderd",
            "-v",
            "2",
            "-1",
            "-c",
            "1",
            "-n",
            "5",
            "-t",
            "11",
            "-T",
            "12",
            "-x",
            "c",
        ];
        assert_eq!(got, want);
        let got = line(&["-u", "5", "-U", "-x", "c", "s"]);
        assert_eq!(got[3..6], ["s6-applyuidgid", "-Uz", "--"]);
    }

    #[test]
    fn errors() {
        assert_eq!(command_line(&args(&["s"])).unwrap_err().msg, "no access rights specified!");
        for bad in
            [&["-i", "r"][..], &["-c", "x", "-i", "r", "s"], &["-k", "s"], &["-G", "x", "-i", "r", "s"]]
        {
            assert!(command_line(&args(bad)).unwrap_err().usage, "{bad:?}");
        }
    }
}
