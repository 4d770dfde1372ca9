//! `s6-ipcclient [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] path prog...`: connect to
//! the Unix socket `path` and chain-load `prog...` with the socket as fds 6 (read) and 7
//! (write), `PROTO=IPC` and `IPCLOCALPATH` set (upstream doc/s6-ipcclient.html).

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::chainload;

use s6rs_sys::socket::{self, Kind, PATH_MAX};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-ipcclient",
    operands: "path prog...",
    about: "Connects to the Unix socket at path, then runs prog with the connection on fds 6 and 7.",
    doc: "s6-ipcclient.html",
    flags: &FLAGS,
};

/// s6-ipcclient's options, in usage-line order: `[ -q | -Q | -v ] [ -p bindpath ]
/// [ -l localname ]` (s6-sudo, which connects through [`connect`], takes them too).
pub const FLAGS: [Flag; 5] = [
    Flag::new('q', Show::Own, "quiet"),
    Flag::new('Q', Show::Or, "normal verbosity (the default)"),
    Flag::new('v', Show::Or, "verbose: say when connected"),
    Flag::arg('p', "bindpath", Show::Own, "bind the client socket to this path before connecting"),
    Flag::arg('l', "localname", Show::Own, "set IPCLOCALPATH to this value"),
];

/// [`FLAGS`] parsed: what [`connect`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// 0 quiet, 1 normal (the default), 2 and more verbose: `-q` lowers it, `-v` raises
    /// it, `-Q` resets it.
    pub verbosity: u32,
    /// `-p`.
    pub bindpath: Option<OsString>,
    /// `-l`.
    pub localname: Option<OsString>,
}

impl Default for Options {
    fn default() -> Self {
        Options { verbosity: 1, bindpath: None, localname: None }
    }
}

impl Options {
    /// Takes option `c` with `arg` when it is one of [`FLAGS`]; false for any other.
    pub fn option(&mut self, c: char, arg: Option<OsString>) -> bool {
        match c {
            'q' => self.verbosity = self.verbosity.saturating_sub(1),
            'Q' => self.verbosity = 1,
            'v' => self.verbosity += 1,
            'p' => self.bindpath = arg,
            'l' => self.localname = arg,
            _ => return false,
        }
        true
    }
}

/// Connects a stream socket to `path` (bound first to `bindpath` if given) as s6-ipcclient
/// does, with its messages, and prints its `connected` line at verbosity 2 and more. Returns
/// the (blocking, close-on-exec) socket and the `IPCLOCALPATH` value: `localname`, or the
/// name the socket is bound to, or `None` if it cannot say. s6-sudo's in-process client
/// connects through this too.
pub fn connect(
    path: &OsStr,
    bindpath: Option<&OsStr>,
    localname: Option<&OsStr>,
    verbosity: u32,
) -> Result<(OwnedFd, Option<OsString>), Fatal> {
    let s = socket::socket(Kind::Stream, false).map_err(|e| Fatal::sys("create socket", &e))?;
    if let Some(b) = bindpath {
        socket::bind(s.as_fd(), Path::new(b))
            .map_err(|e| Fatal::sys(format_args!("bind socket to {}", cli::show(b)), &e))?;
    }
    socket::connect(s.as_fd(), Path::new(path))
        .map_err(|e| Fatal::sys(format_args!("connect to {}", cli::show(path)), &e))?;
    if verbosity >= 2 {
        // Upstream names itself twice on this line.
        cli::info(format_args!("{}: connected to {}", cli::prog(), cli::show(path)));
    }
    let local = match localname {
        Some(l) => Some(OsString::from(OsStr::from_bytes(&l.as_bytes()[..l.len().min(PATH_MAX)]))),
        // Unset when the socket cannot say where it is bound.
        None => socket::local_path(s.as_fd()).ok().map(|p| p.as_os_str().to_owned()),
    };
    Ok((s, local))
}

/// Runs s6-ipcclient.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut o = Options::default();
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        if !o.option(opt.c, opt.arg) {
            return Err(SPEC.usage_error());
        }
    }
    let [path, prog @ ..] = g.operands() else { return Err(SPEC.usage_error()) };
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let (s, local) = connect(path, o.bindpath.as_deref(), o.localname.as_deref(), o.verbosity)?;
    let s = s6rs_sys::fd::move_to(s, 6).map_err(|e| Fatal::sys("set up fd 6", &e))?;
    s6rs_sys::fd::dup_to(s.as_fd(), 7).map_err(|e| Fatal::sys("set up fd 7", &e))?;
    // Both numbers belong to prog from here on, even if the exec fails.
    std::mem::forget(s);
    let env =
        [(OsString::from("PROTO"), Some(OsString::from("IPC"))), (OsString::from("IPCLOCALPATH"), local)];
    Err(chainload(prog, &env))
}
