//! `s6-fdholder-daemon [ -1 ] [ -v verbosity ] [ -d | -D ] [ -c maxconn ] [ -n maxfds ]
//! [ -b backlog ] [ -G gidlist ] [ -g gid ] [ -u uid ] [ -U ] [ -t clienttimeout ]
//! [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] path`: rewrite the command line into
//! `s6-ipcserver-socketbinder ... path [s6-applyuidgid ...] s6-fdholderd ...` and exec it
//! (upstream doc/s6-fdholder-daemon.html). The three programs are our siblings, never
//! looked up in PATH, as s6-ipcserver finds its own.

use std::ffi::OsString;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::{chainload, sibling};
use s6rs_sys::user;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-daemon",
    operands: "path",
    about: "Listens on a Unix socket at path and holds file descriptors for its clients.",
    doc: "s6-fdholder-daemon.html",
    flags: &[
        Flag::arg('v', "verbosity", Show::Own, "0 quiet, 1 warnings (the default), 2 more"),
        Flag::new('d', Show::Own, "allow rebinding the path at once, SO_REUSEADDR (the default)"),
        Flag::new('D', Show::Or, "do not set SO_REUSEADDR"),
        Flag::new('1', Show::Own, "write a newline to stdout and close it once accepting clients"),
        Flag::arg('c', "maxconn", Show::Own, "serve at most this many clients at once (default 16, max 256)"),
        Flag::arg('n', "maxfds", Show::Own, "hold at most this many fds (default 1000)"),
        Flag::arg('b', "backlog", Show::Own, "queue at most this many pending clients"),
        Flag::arg('G', "gid,gid,...", Show::Own, "once bound, set the supplementary groups to these gids"),
        Flag::arg('g', "gid", Show::Own, "once bound, switch to this group id"),
        Flag::arg('u', "uid", Show::Own, "once bound, switch to this user id"),
        Flag::new('U', Show::Own, "once bound, switch to the ids in UID, GID and GIDLIST"),
        Flag::arg('t', "timeout", Show::Own, "drop a client whose reply takes longer (ms; 0 = never)"),
        Flag::arg(
            'T',
            "lameducktimeout",
            Show::Own,
            "after SIGTERM, wait at most this long for clients (ms)",
        ),
        Flag::arg('i', "rulesdir", Show::Own, "read the access rules from this directory"),
        Flag::arg('x', "rulesfile", Show::Or, "read the access rules from this cdb file"),
    ],
};

/// The command line s6-fdholder-daemon execs into, for `args` (without argv\[0\]).
pub fn command_line(args: &[OsString]) -> Result<Vec<OsString>, Fatal> {
    let usage = || SPEC.usage_error();
    let (mut verbosity, mut ready, mut flag_u, mut reuse) = (1u32, false, false, true);
    let (mut uid, mut gid, mut gids) = (0u32, 0u32, None::<Vec<u32>>);
    let (mut maxconn, mut maxfds, mut backlog, mut t, mut lt) = (0u32, 0u32, None::<u32>, 0u32, 0u32);
    let mut rules: Option<(&str, OsString)> = None;
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str();
        let num = || cli::parse_uint::<u32>(arg).ok_or_else(usage);
        match opt.c {
            'D' => reuse = false,
            'd' => reuse = true,
            '1' => ready = true,
            'v' => verbosity = num()?,
            'c' => maxconn = num()?.max(1),
            'n' => maxfds = num()?.max(1),
            'b' => backlog = Some(num()?),
            'u' => uid = num()?,
            'g' => gid = num()?,
            'G' => {
                let (list, used) = user::scan_gidlist(arg);
                if used == 0 && !arg.is_empty() {
                    return Err(usage());
                }
                gids = Some(list);
            }
            'U' => {
                flag_u = true;
                (uid, gid, gids) = (0, 0, None);
            }
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
    let push = |out: &mut Vec<OsString>, s: &str| out.push(OsString::from(s));
    out.push(sibling("s6-ipcserver-socketbinder").into_os_string());
    if !reuse {
        push(&mut out, "-D");
    }
    if let Some(b) = backlog {
        push(&mut out, "-b");
        push(&mut out, &b.to_string());
    }
    push(&mut out, "--");
    out.push(path.clone());
    if flag_u || uid != 0 || gid != 0 || gids.is_some() {
        out.push(sibling("s6-applyuidgid").into_os_string());
        if flag_u {
            push(&mut out, "-Uz");
        }
        if uid != 0 {
            push(&mut out, "-u");
            push(&mut out, &uid.to_string());
        }
        if gid != 0 {
            push(&mut out, "-g");
            push(&mut out, &gid.to_string());
        }
        if let Some(list) = &gids {
            push(&mut out, "-G");
            push(&mut out, &user::fmt_gidlist(list));
        }
        push(&mut out, "--");
    }
    out.push(sibling("s6-fdholderd").into_os_string());
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
    use s6rs_sys::testing::args;

    fn line(v: &[&str]) -> Vec<String> {
        command_line(&args(v))
            .unwrap()
            .into_iter()
            .map(|a| {
                let s = a.to_string_lossy().into_owned();
                s.rsplit_once('/')
                    .filter(|(_, n)| n.starts_with("s6-"))
                    .map_or(s.clone(), |(_, n)| n.to_owned())
            })
            .collect()
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
