//! `s6-ipcserver [ -1 ] [ -q | -Q | -v ] [ -d | -D ] [ -P | -p ] [ -a perms ] [ -c maxconn ]
//! [ -C localmaxconn ] [ -b backlog ] [ -G gidlist ] [ -g gid ] [ -u uid ] [ -U ] path prog...`:
//! rewrite the command line into `s6-ipcserver-socketbinder ... [s6-applyuidgid ...]
//! s6-ipcserverd ... prog...` and exec it (upstream doc/s6-ipcserver.html). The three
//! programs are our siblings, never looked up in PATH.
//!
//! This module has no `run`: the s6-ipcserver binary is a composition in the root package
//! that takes its own options off the front and gives them to [`command_line`] as
//! arguments for s6-ipcserverd. Nothing here knows what they are.

use std::ffi::OsString;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::sibling;

use super::ipcserver_socketbinder::parse_octal;
use super::ipcserverd;
use crate::chain::{self, Front};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-ipcserver",
    operands: "path prog...",
    about: "Listens on a Unix socket at path and runs prog for each client, with the connection \
            on its stdin and stdout.",
    doc: "s6-ipcserver.html",
    flags: &FLAGS,
};

/// The options, in usage-line order (a composing program lists them in its own table).
pub const FLAGS: [Flag; 16] = [
    Flag::new('q', Show::Own, "quiet"),
    Flag::new('Q', Show::Or, "normal verbosity (the default)"),
    Flag::new('v', Show::Or, "verbose"),
    chain::FLAGS[0],
    chain::FLAGS[1],
    // -P/-p and -c/-C are s6-ipcserverd's, passed on.
    ipcserverd::FLAGS[2],
    ipcserverd::FLAGS[3],
    Flag::new('1', Show::Own, "write a newline to stdout and close it once listening"),
    ipcserverd::FLAGS[4],
    ipcserverd::FLAGS[5],
    chain::FLAGS[2],
    Flag::arg('a', "socketperms", Show::Own, "the socket's permissions, in octal (default 0777)"),
    chain::FLAGS[3],
    chain::FLAGS[4],
    chain::FLAGS[5],
    chain::FLAGS[6],
];

/// The command line s6-ipcserver execs into, for `args` (upstream's command line, without
/// argv\[0\]). `daemon_args` go to s6-ipcserverd unchanged, first, before the options
/// translated from `args`: that is where a composing program puts options of its own.
pub fn command_line(args: &[OsString], daemon_args: &[OsString]) -> Result<Vec<OsString>, Fatal> {
    let usage = || SPEC.usage_error();
    let (mut verbosity, mut ready, mut lookup) = (1, false, true);
    let (mut maxconn, mut localmaxconn) = (0u32, 0u32);
    let mut front = Front::default();
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str();
        if front.option(opt.c, arg, usage)? {
            continue;
        }
        let num = || cli::parse_uint::<u32>(arg).ok_or_else(usage);
        match opt.c {
            'q' => verbosity = 0,
            'Q' => verbosity = 1,
            'v' => verbosity = 2,
            'P' => lookup = false,
            'p' => lookup = true,
            'c' => maxconn = num()?.max(1),
            'C' => localmaxconn = num()?.max(1),
            'a' => front.perms = parse_octal(arg).ok_or_else(usage)?,
            '1' => ready = true,
            _ => return Err(usage()),
        }
    }
    let [path, prog @ ..] = g.operands() else { return Err(usage()) };
    if prog.is_empty() {
        return Err(usage());
    }
    // A backlog of 0 would make the binder not listen at all: the server needs clients.
    front.backlog = front.backlog.map(|b| b.max(1));
    let mut out: Vec<OsString> = Vec::with_capacity(26 + daemon_args.len() + prog.len());
    front.push(&mut out, path);
    out.push(sibling("s6-ipcserverd").into_os_string());
    out.extend_from_slice(daemon_args);
    let mut push = |s: &str| out.push(OsString::from(s));
    match verbosity {
        0 => push("-v0"),
        2 => push("-v2"),
        _ => {}
    }
    if ready {
        push("-1");
    }
    if !lookup {
        push("-P");
    }
    if maxconn > 0 {
        push("-c");
        push(&maxconn.to_string());
    }
    if localmaxconn > 0 {
        push("-C");
        push(&localmaxconn.to_string());
    }
    push("--");
    out.extend_from_slice(prog);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::testing::{args as os, program_names};

    fn line(v: &[&str]) -> Vec<String> {
        line_with(v, &[])
    }

    fn line_with(v: &[&str], daemon: &[&str]) -> Vec<String> {
        program_names(command_line(&os(v), &os(daemon)).unwrap())
    }

    #[test]
    fn plain() {
        assert_eq!(
            line(&["/run/sock", "prog", "-x"]),
            ["s6-ipcserver-socketbinder", "--", "/run/sock", "s6-ipcserverd", "--", "prog", "-x"]
        );
    }

    #[test]
    fn daemon_args_come_first_and_unchanged() {
        assert_eq!(
            line_with(&["-v", "s", "p"], &["--extra=1", "-v0"]),
            ["s6-ipcserver-socketbinder", "--", "s", "s6-ipcserverd", "--extra=1", "-v0", "-v2", "--", "p"]
        );
        // They are not s6-ipcserver's options: one in front of them is a usage error.
        assert!(command_line(&os(&["--extra=1", "s", "p"]), &[]).unwrap_err().usage);
    }

    #[test]
    fn every_option() {
        let got = line(&[
            "-1", "-v", "-D", "-P", "-c0", "-C", "3", "-b0", "-a", "0700", "-u", "5", "-g6", "-G", "7,8",
            "s", "p",
        ]);
        let want = [
            "s6-ipcserver-socketbinder",
            "-D",
            "-b",
            "1",
            "-a",
            "0700",
            "--",
            "s",
            "s6-applyuidgid",
            "-u",
            "5",
            "-g",
            "6",
            "-G",
            "7,8",
            "--",
            "s6-ipcserverd",
            "-v2",
            "-1",
            "-P",
            "-c",
            "1",
            "-C",
            "3",
            "--",
            "p",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn u_flag_resets_earlier_ids_and_later_ones_win() {
        let got = line(&["-u", "5", "-G", "", "-U", "-g", "9", "-q", "s", "p"]);
        let want = [
            "s6-ipcserver-socketbinder",
            "--",
            "s",
            "s6-applyuidgid",
            "-Uz",
            "-g",
            "9",
            "--",
            "s6-ipcserverd",
            "-v0",
            "--",
            "p",
        ];
        assert_eq!(got, want);
        // An empty -G still asks for a (primary-group-only) list.
        let got = line(&["-G", "", "s", "p"]);
        assert_eq!(got[3..7], ["s6-applyuidgid", "-G", "", "--"]);
        assert_eq!(line(&["-a", "1777", "s", "p"])[1..3], ["-a", "0777"]);
    }

    #[test]
    fn usage() {
        for bad in [
            &["s"][..],
            &["-c", "x", "s", "p"],
            &["-a", "9", "s", "p"],
            &["-G", "x", "s", "p"],
            &["-k", "s", "p"],
        ] {
            assert!(command_line(&os(bad), &[]).unwrap_err().usage, "{bad:?}");
        }
    }
}
