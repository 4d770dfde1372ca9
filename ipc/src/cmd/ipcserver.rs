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
use s6rs_sys::user;

use super::ipcserver_socketbinder::parse_octal;
use super::ipcserverd;

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
    Flag::new('d', Show::Own, "allow rebinding the path at once, SO_REUSEADDR (the default)"),
    Flag::new('D', Show::Or, "do not set SO_REUSEADDR"),
    // -P/-p and -c/-C are s6-ipcserverd's, passed on.
    ipcserverd::FLAGS[2],
    ipcserverd::FLAGS[3],
    Flag::new('1', Show::Own, "write a newline to stdout and close it once listening"),
    ipcserverd::FLAGS[4],
    ipcserverd::FLAGS[5],
    Flag::arg('b', "backlog", Show::Own, "queue at most this many pending clients"),
    Flag::arg('a', "socketperms", Show::Own, "the socket's permissions, in octal (default 0777)"),
    Flag::arg('G', "gid,gid,...", Show::Own, "once bound, set the supplementary groups to these gids"),
    Flag::arg('g', "gid", Show::Own, "once bound, switch to this group id"),
    Flag::arg('u', "uid", Show::Own, "once bound, switch to this user id"),
    Flag::new('U', Show::Own, "once bound, switch to the ids in UID, GID and GIDLIST"),
];

/// The command line s6-ipcserver execs into, for `args` (upstream's command line, without
/// argv\[0\]). `daemon_args` go to s6-ipcserverd unchanged, first, before the options
/// translated from `args`: that is where a composing program puts options of its own.
pub fn command_line(args: &[OsString], daemon_args: &[OsString]) -> Result<Vec<OsString>, Fatal> {
    let usage = || SPEC.usage_error();
    let (mut verbosity, mut ready, mut flag_u, mut lookup, mut reuse) = (1, false, false, true, true);
    let (mut uid, mut gid, mut gids) = (0u32, 0u32, None::<Vec<u32>>);
    let (mut maxconn, mut localmaxconn, mut backlog, mut perms) = (0u32, 0u32, None::<u32>, 0o777);
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str();
        let num = || cli::parse_uint::<u32>(arg).ok_or_else(usage);
        match opt.c {
            'q' => verbosity = 0,
            'Q' => verbosity = 1,
            'v' => verbosity = 2,
            'D' => reuse = false,
            'd' => reuse = true,
            'P' => lookup = false,
            'p' => lookup = true,
            'c' => maxconn = num()?.max(1),
            'C' => localmaxconn = num()?.max(1),
            'b' => backlog = Some(num()?),
            'a' => perms = parse_octal(arg).ok_or_else(usage)?,
            'u' => uid = num()?,
            'g' => gid = num()?,
            'G' => {
                let (list, used) = user::scan_gidlist(arg);
                if used == 0 && !arg.is_empty() {
                    return Err(usage());
                }
                gids = Some(list);
            }
            '1' => ready = true,
            'U' => {
                flag_u = true;
                (uid, gid, gids) = (0, 0, None);
            }
            _ => return Err(usage()),
        }
    }
    let [path, prog @ ..] = g.operands() else { return Err(usage()) };
    if prog.is_empty() {
        return Err(usage());
    }
    let mut out: Vec<OsString> = Vec::with_capacity(26 + daemon_args.len() + prog.len());
    let mut push = |s: &str| out.push(OsString::from(s));
    push_path(&mut push, "s6-ipcserver-socketbinder");
    if !reuse {
        push("-D");
    }
    if let Some(b) = backlog {
        push("-b");
        push(&b.max(1).to_string());
    }
    if perms != 0o777 {
        push("-a");
        push(&format!("0{:o}", perms & 0o777));
    }
    push("--");
    out.push(path.clone());
    let mut push = |s: &str| out.push(OsString::from(s));
    if flag_u || uid != 0 || gid != 0 || gids.is_some() {
        push_path(&mut push, "s6-applyuidgid");
        if flag_u {
            push("-Uz");
        }
        if uid != 0 {
            push("-u");
            push(&uid.to_string());
        }
        if gid != 0 {
            push("-g");
            push(&gid.to_string());
        }
        if let Some(list) = &gids {
            push("-G");
            push(&user::fmt_gidlist(list));
        }
        push("--");
    }
    push_path(&mut push, "s6-ipcserverd");
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

fn push_path(push: &mut impl FnMut(&str), name: &str) {
    push(&sibling(name).to_string_lossy());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn line(v: &[&str]) -> Vec<String> {
        line_with(v, &[])
    }

    fn line_with(v: &[&str], daemon: &[&str]) -> Vec<String> {
        command_line(&os(v), &os(daemon))
            .unwrap()
            .into_iter()
            .map(|a| {
                let s = a.to_string_lossy().into_owned();
                // Sibling paths: keep the program name only.
                s.rsplit_once('/')
                    .filter(|(_, n)| n.starts_with("s6-"))
                    .map_or(s.clone(), |(_, n)| n.to_owned())
            })
            .collect()
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
