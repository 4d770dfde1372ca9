//! `s6-fdholder-listenfds [ -D ] [ -t timeout ] [ -n names ] socket id... -- prog...`: an
//! s6-rs extension, not in upstream s6. It retrieves the fds held under `id...` from the
//! fd-holder daemon at `socket`, in one connection, puts them at fds 3, 4, and so on, in
//! the order of the ids, sets the variables of systemd's socket activation
//! (sd_listen_fds(3)) and chain-loads `prog...`:
//!
//! * `LISTEN_FDS` = the number of ids;
//! * `LISTEN_PID` = this process's pid, which `prog` keeps across the exec;
//! * `LISTEN_FDNAMES` = the names, joined by `:`.
//!
//! So a daemon written for socket activation runs unmodified under s6, its listening
//! sockets held across its restarts by an s6-fdholder-daemon. Why each option:
//!
//! * `-D`: also delete each fd from the daemon, as `s6-fdholder-retrieve -D` (needs the
//!   store right too), for a one-time hand-over;
//! * `-t timeout`: give up after this many ms (0, the default: never), as the other clients;
//! * `-n names`: the `LISTEN_FDNAMES` value, colon-separated, one name per id. Without it
//!   the names are the ids; since a name cannot hold a `:`, an id that does (such as the
//!   conventional `unix:/path`) then needs `-n`, and is refused with a usage error without
//!   it rather than silently renamed.
//!
//! The `--` ends the ids (ids can be anything but an empty word). Exit codes follow the
//! other clients: 100 for a bad command line, 111 when the daemon cannot be reached or the
//! fds cannot be placed, 1 when the daemon refuses an id (`unable to retrieve fd for id ID:
//! ...`, the reason as doc/s6-fdholder-errorcodes.html lists it), 126/127 when `prog`
//! cannot be run. Nothing is exec'd unless every id was retrieved.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::exec::{chainload, EnvMod};

/// The first fd of socket activation (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: i32 = 3;

/// The command line.
pub const SPEC: Spec = Spec {
    name: "s6-fdholder-listenfds",
    operands: "socket id... -- prog...",
    about: "Gets the fds held under the ids from the fd-holder daemon at socket, puts them at \
            fds 3, 4 and so on, and runs prog with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES set \
            (systemd-style socket activation).",
    doc: "",
    flags: &[
        Flag::new('D', Show::Own, "also delete the fds from the daemon"),
        Flag::arg('t', "timeout", Show::Own, "give up after this many ms (0 = never)"),
        Flag::arg(
            'n',
            "names",
            Show::Own,
            "LISTEN_FDNAMES: one name per id, colon-separated (default: the ids)",
        ),
    ],
};

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-D`.
    pub delete: bool,
    /// `-t`, ms.
    pub timeout: u64,
    /// The socket.
    pub socket: OsString,
    /// The ids, in fd order.
    pub ids: Vec<OsString>,
    /// One name per id.
    pub names: Vec<Vec<u8>>,
    /// The program.
    pub prog: Vec<OsString>,
}

/// Parses the command line (without argv\[0\]).
pub fn parse(args: &[OsString]) -> Result<Options, Fatal> {
    let usage = || SPEC.usage_error();
    let (mut delete, mut timeout, mut names) = (false, 0u64, None::<Vec<u8>>);
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        match opt.c {
            'D' => delete = true,
            't' => timeout = super::timeout(&SPEC, opt.arg_str())?,
            'n' => names = Some(opt.arg.clone().unwrap_or_default().into_vec()),
            _ => return Err(usage()),
        }
    }
    let [socket, rest @ ..] = g.operands() else { return Err(usage()) };
    let sep = rest.iter().position(|a| a == "--").ok_or_else(usage)?;
    let (ids, prog) = (&rest[..sep], &rest[sep + 1..]);
    if ids.is_empty() || prog.is_empty() || ids.iter().any(|i| i.is_empty()) {
        return Err(usage());
    }
    let names: Vec<Vec<u8>> = match names {
        Some(n) => n.split(|&b| b == b':').map(<[u8]>::to_vec).collect(),
        None => {
            if let Some(bad) = ids.iter().find(|i| i.as_bytes().contains(&b':')) {
                return Err(Fatal::bad(format!(
                    "id {} contains a colon, which LISTEN_FDNAMES cannot hold: give the names with -n",
                    cli::show(bad)
                )));
            }
            ids.iter().map(|i| i.as_bytes().to_vec()).collect()
        }
    };
    if names.len() != ids.len() {
        return Err(Fatal::bad(format!("{} names for {} ids", names.len(), ids.len())));
    }
    Ok(Options { delete, timeout, socket: socket.clone(), ids: ids.to_vec(), names, prog: prog.to_vec() })
}

/// The socket-activation variables for `n` fds named `names`, for process `pid`.
pub fn listen_env(n: usize, pid: u32, names: &[Vec<u8>]) -> Vec<EnvMod> {
    vec![
        ("LISTEN_FDS".into(), Some(n.to_string().into())),
        ("LISTEN_PID".into(), Some(pid.to_string().into())),
        ("LISTEN_FDNAMES".into(), Some(OsString::from_vec(names.join(&b':')))),
    ]
}

/// Runs s6-fdholder-listenfds.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let o = parse(&args)?;
    let mut c = super::connect(&o.socket, "a", Deadline::from_ms(o.timeout))?;
    let mut got: Vec<OwnedFd> = Vec::with_capacity(o.ids.len());
    for id in &o.ids {
        let fd = c
            .retrieve(id.as_bytes(), o.delete)
            .map_err(|e| super::failed(1, format_args!("retrieve fd for id {}", cli::show(id)), &e))?;
        got.push(fd);
    }
    drop(c);
    // Out of the way of 3..3+n first, so placing one cannot close another.
    let top = LISTEN_FDS_START + got.len() as i32;
    let high: Vec<OwnedFd> = got
        .iter()
        .map(|fd| s6rs_sys::fd::dup_min(std::os::fd::AsFd::as_fd(fd), top))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Fatal::sys("move fds", &e))?;
    drop(got);
    for (i, fd) in high.into_iter().enumerate() {
        let placed =
            s6rs_sys::fd::move_to(fd, LISTEN_FDS_START + i as i32).map_err(|e| Fatal::sys("move fds", &e))?;
        // The number is prog's from here on.
        std::mem::forget(placed);
    }
    let env = listen_env(o.ids.len(), std::process::id(), &o.names);
    Err(chainload(&o.prog, &env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use s6rs_sys::testing::args;

    #[test]
    fn ids_end_at_the_separator_and_names_default_to_them() {
        let o = parse(&args(&["-D", "-t", "50", "/s", "web", "admin", "--", "prog", "--", "x"])).unwrap();
        assert_eq!((o.delete, o.timeout), (true, 50));
        assert_eq!(o.ids, args(&["web", "admin"]));
        assert_eq!(o.names, [b"web".to_vec(), b"admin".to_vec()]);
        assert_eq!(o.prog, args(&["prog", "--", "x"]));
        let env = listen_env(2, 42, &o.names);
        assert_eq!(env[0], ("LISTEN_FDS".into(), Some("2".into())));
        assert_eq!(env[1], ("LISTEN_PID".into(), Some("42".into())));
        assert_eq!(env[2], ("LISTEN_FDNAMES".into(), Some("web:admin".into())));
    }

    #[test]
    fn names_must_match_the_ids_and_hold_no_colon() {
        let o = parse(&args(&["-n", "http", "/s", "unix:/run/web", "--", "p"])).unwrap();
        assert_eq!(o.names, [b"http".to_vec()]);
        let e = parse(&args(&["/s", "unix:/run/web", "--", "p"])).unwrap_err();
        assert_eq!(e.code, 100);
        assert!(e.msg.contains("give the names with -n"), "{}", e.msg);
        assert_eq!(parse(&args(&["-n", "a:b", "/s", "x", "--", "p"])).unwrap_err().msg, "2 names for 1 ids");
        for bad in [&["/s", "x", "p"][..], &["/s", "--", "p"], &["/s", "x", "--"], &["/s", "", "--", "p"]] {
            assert!(parse(&args(bad)).unwrap_err().usage, "{bad:?}");
        }
    }
}
