//! `s6-ipcserver-socketbinder [ -d | -D ] [ -b backlog ] [ -M | -m ] [ -a perms ] [ -B ] path prog...`:
//! bind a Unix socket to `path`, listen, and chain-load `prog...` with the socket as fd 0
//! (upstream doc/s6-ipcserver-socketbinder.html; FORMATS.md §9).

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::path::Path;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::chainload;

use s6rs_sys::socket::{self, Kind};

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-ipcserver-socketbinder",
    operands: "path prog...",
    about: "Binds a Unix socket to path and listens on it, then runs prog with the socket as its stdin.",
    doc: "s6-ipcserver-socketbinder.html",
    flags: &[
        Flag::new('d', Show::Own, "allow rebinding the path at once, SO_REUSEADDR (the default)"),
        Flag::new('D', Show::Or, "do not set SO_REUSEADDR"),
        Flag::arg('b', "backlog", Show::Own, "queue at most this many pending clients (0: do not listen)"),
        Flag::new('M', Show::Own, "a stream socket (the default)"),
        Flag::new('m', Show::Or, "a datagram socket"),
        Flag::arg('a', "perms", Show::Own, "the socket's permissions, in octal (default 0777)"),
        Flag::new('B', Show::Own, "leave the socket blocking"),
    ],
};

/// Parses a whole octal number, as skalibs' `uint0_oscan` does.
pub(crate) fn parse_octal(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    u32::from_str_radix(s, 8).ok()
}

/// Runs s6-ipcserver-socketbinder.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut reuse = true;
    let mut kind = Kind::Stream;
    let mut nonblock = true;
    let mut backlog = socket::BACKLOG_MAX;
    let mut perms = 0o777;
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            'D' => reuse = false,
            'd' => reuse = true,
            'M' => kind = Kind::Stream,
            'm' => kind = Kind::Datagram,
            'B' => nonblock = false,
            'b' => backlog = cli::parse_uint(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?,
            'a' => perms = parse_octal(opt.arg_str()).ok_or_else(|| SPEC.usage_error())?,
            _ => return Err(SPEC.usage_error()),
        }
    }
    let [path, prog @ ..] = g.operands() else { return Err(SPEC.usage_error()) };
    if prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let path = Path::new(path);
    // The socket must become fd 0: free the number first.
    drop(s6rs_sys::fd::adopt(0));
    let sock = socket::socket(kind, nonblock)
        .and_then(|s| s6rs_sys::fd::move_to(s, 0))
        .map_err(|e| Fatal::sys("create socket", &e))?;
    // The mode comes from the umask at bind time (the lock file is made under it too).
    let old = s6rs_sys::fd::umask(!perms & 0o777);
    let bound = if reuse {
        socket::bind_reuse(sock.as_fd(), path).map(Some)
    } else {
        socket::bind(sock.as_fd(), path).map(|()| None)
    };
    s6rs_sys::fd::umask(old);
    // The lock stays held until the exec below closes it.
    let _lock = bound.map_err(|e| Fatal::sys(format_args!("bind to {}", path.display()), &e))?;
    if backlog > 0 {
        socket::listen(sock.as_fd(), backlog)
            .map_err(|e| Fatal::sys(format_args!("listen to {}", path.display()), &e))?;
    }
    // fd 0 is the program's now; the OwnedFd must not close it if the exec fails either.
    std::mem::forget(sock);
    Err(chainload(prog, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_is_whole_and_strict() {
        assert_eq!(parse_octal("0777"), Some(0o777));
        assert_eq!(parse_octal("700"), Some(0o700));
        assert_eq!(parse_octal("0"), Some(0));
        assert_eq!(parse_octal(""), None);
        assert_eq!(parse_octal("08"), None);
        assert_eq!(parse_octal("7x"), None);
    }
}
