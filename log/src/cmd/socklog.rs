//! s6-socklog: a minimal syslogd (upstream page: s6-socklog.html).
//!
//! `s6-socklog [ -d notif ] [ -r ] [ -U | -u uid -g gid -G gidlist ] [ -l linelen ]
//! [ -t lameducktimeout ] [ -x unixsocket | -i ipport ]`
//!
//! Binds a datagram socket (`/dev/log` by default, as skalibs does it: a `PATH.lock` file
//! locked for life, any old socket unlinked, mode 0777), drops privileges, and writes each
//! datagram as one line on stdout: trailing NULs and newlines dropped, embedded ones turned
//! into `~`, a leading `<N>` decoded (unless `-r`), `...` after a datagram longer than
//! `linelen`, and with `-i` a `clientip_clientport: ` prefix. SIGTERM: flush and exit 0, or
//! 99 if the `-t` grace period runs out first.
//!
//! As upstream, a datagram is received into `linelen + 1` bytes and all of them are written
//! before the `...` marker. Deviations: an empty datagram is ignored (upstream exits 111 on
//! it); the `-i` prefix is HEAD's `ip_port: ` (2.11 garbles the port).

use std::ffi::OsString;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;
use s6rs_sys::event::{EventLoop, Watch};
use s6rs_sys::sig::Trap;
use s6rs_sys::socket::{self, Kind};

/// The command line, as 2.15's.
pub const SPEC: Spec = Spec {
    name: "s6-socklog",
    operands: "",
    about: "A small syslogd: receives datagrams on /dev/log (or another socket) and writes each \
            as a readable line on stdout.",
    doc: "s6-socklog.html",
    flags: &[
        Flag::arg('d', "notif", Show::Own, "write a newline to this fd once the socket is bound"),
        Flag::new('r', Show::Own, "raw: leave <N> priority codes as they are"),
        Flag::new('U', Show::Own, "once bound, switch to the ids in UID, GID and GIDLIST"),
        Flag::arg('u', "uid", Show::Or, "once bound, switch to this user id"),
        Flag::arg('g', "gid", Show::Then, "once bound, switch to this group id"),
        Flag::arg('G', "gidlist", Show::Then, "once bound, set the supplementary groups to these gids"),
        Flag::arg('l', "linelen", Show::Own, "longest datagram kept whole, 76 to 1048576 (default 1024)"),
        Flag::arg(
            't',
            "lameducktimeout",
            Show::Own,
            "on SIGTERM, exit 99 if output is not flushed after this many milliseconds (0: wait)",
        ),
        Flag::arg('x', "socket", Show::Own, "bind to this Unix socket (default /dev/log)"),
        Flag::arg('i', "ip_port", Show::Or, "bind to this UDP address instead (port 514 if not given)"),
    ],
};

// The event-loop tokens, numbered from 0: the main loop reads them back in this order
// (`wait_tokens`).
const TOKEN_SIG: usize = 0;
const TOKEN_SOCK: usize = 1;
const TOKEN_OUT: usize = 2;

/// The options.
#[derive(Debug, PartialEq, Eq)]
struct Opts {
    raw: bool,
    notif: Option<i32>,
    linelen: usize,
    lameduck_ms: u64,
    uid: u32,
    gid: u32,
    gids: Option<Vec<u32>>,
    unix: Option<PathBuf>,
    udp: Option<SocketAddr>,
}

fn usage() -> Fatal {
    SPEC.usage_error()
}

/// skalibs `gid_scanlist`: comma-separated numbers.
fn gid_list(s: &str) -> Option<Vec<u32>> {
    s.split(',').map(cli::parse_uint::<u32>).collect()
}

/// `ip`, `ip_port`, or for IPv4 `ip:port` (port 514 by default). The address is the longest
/// prefix that is one: IPv6 is tried first, as skalibs' `ip46_scan` does.
fn parse_ipport(s: &str) -> Option<SocketAddr> {
    fn longest<T: std::str::FromStr>(s: &str, allowed: fn(char) -> bool) -> Option<(T, usize)> {
        let run = s.find(|c: char| !allowed(c)).unwrap_or(s.len());
        (1..=run).rev().find_map(|n| s[..n].parse().ok().map(|ip| (ip, n)))
    }
    let (ip, n) = match longest::<Ipv6Addr>(s, |c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
        Some((ip, n)) => (IpAddr::V6(ip), n),
        None => {
            let (ip, n) = longest::<Ipv4Addr>(s, |c| c.is_ascii_digit() || c == '.')?;
            (IpAddr::V4(ip), n)
        }
    };
    let rest = &s[n..];
    let mut port = 514;
    if rest.starts_with('_') || (ip.is_ipv4() && rest.starts_with(':')) {
        port = cli::parse_uint(&rest[1..])?;
    }
    Some(SocketAddr::new(ip, port))
}

fn parse_opts(args: &[OsString]) -> Result<Opts, Fatal> {
    let mut o = Opts {
        raw: false,
        notif: None,
        linelen: 1024,
        lameduck_ms: 0,
        uid: 0,
        gid: 0,
        gids: None,
        unix: Some(PathBuf::from("/dev/log")),
        udp: None,
    };
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str();
        match opt.c {
            'r' => o.raw = true,
            'd' => o.notif = Some(cli::parse_uint(arg).ok_or_else(usage)?),
            'l' => o.linelen = cli::parse_uint(arg).ok_or_else(usage)?,
            't' => o.lameduck_ms = cli::parse_uint(arg).ok_or_else(usage)?,
            'u' => o.uid = cli::parse_uint(arg).ok_or_else(usage)?,
            'g' => o.gid = cli::parse_uint(arg).ok_or_else(usage)?,
            'G' => {
                o.gids = Some(if arg.is_empty() { Vec::new() } else { gid_list(arg).ok_or_else(usage)? })
            }
            'U' => {
                let var = |name: &str| std::env::var(name).map_err(|_| Fatal::bad(format!("{name} not set")));
                let invalid = |name: &str| Fatal::bad(format!("invalid ${name}"));
                o.uid = cli::parse_uint(&var("UID")?).ok_or_else(|| invalid("UID"))?;
                o.gid = cli::parse_uint(&var("GID")?).ok_or_else(|| invalid("GID"))?;
                let list = var("GIDLIST")?;
                o.gids = Some(if list.is_empty() {
                    Vec::new()
                } else {
                    gid_list(&list).ok_or_else(|| invalid("GIDLIST"))?
                });
            }
            'x' => {
                o.unix = Some(PathBuf::from(opt.arg.clone().unwrap_or_default()));
                o.udp = None;
            }
            'i' => {
                o.udp = Some(parse_ipport(arg).ok_or_else(usage)?);
                o.unix = None;
            }
            _ => return Err(usage()),
        }
    }
    o.linelen = o.linelen.clamp(76, 1_048_576);
    Ok(o)
}

/// Binds a non-blocking Unix datagram socket as skalibs' `ipc_bind_reuse_perms(…, 0777)`
/// does; returns the socket and the lock on `PATH.lock`, which must stay open.
fn bind_unix(path: &Path) -> io::Result<(UnixDatagram, OwnedFd)> {
    let sock = socket::socket(Kind::Datagram, true)?;
    let lock = socket::bind_reuse_perms(sock.as_fd(), path, 0o777)?;
    Ok((UnixDatagram::from(sock), lock))
}

/// A non-blocking UDP socket with SO_REUSEADDR, bound to `addr`.
fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    socket::bind_inet(Kind::Datagram, addr, true).map(UdpSocket::from)
}

/// Drops privileges as upstream does: supplementary groups (with the gid first), then the
/// gid, then the uid; a zero id means "leave as is".
fn drop_privileges(o: &Opts) -> Result<(), Fatal> {
    s6rs_sys::user::drop_to(o.uid, o.gid, o.gids.as_deref()).map_err(|(step, e)| Fatal::sys(step.what(), &e))
}

/// The bound socket (a Unix one comes with its lock file, held until exit).
enum Sock {
    Unix(UnixDatagram, #[allow(dead_code)] OwnedFd),
    Udp(UdpSocket),
}

impl Sock {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Sock::Unix(s, _) => s.as_fd(),
            Sock::Udp(s) => s.as_fd(),
        }
    }
}

/// Turns one datagram into a line appended to `out` (FORMATS: as the upstream page says).
fn format_datagram(line: &mut [u8], linelen: usize, raw: bool, from: Option<SocketAddr>, out: &mut Vec<u8>) {
    if let Some(addr) = from {
        let ip = match addr.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => s6rs_sys::ip6::fmt(ip),
        };
        out.extend_from_slice(ip.as_bytes());
        out.push(b'_');
        out.extend_from_slice(addr.port().to_string().as_bytes());
        out.extend_from_slice(b": ");
    }
    let len = line.len();
    let mut r = len;
    while r > 0 && (line[r - 1] == 0 || line[r - 1] == b'\n') {
        r -= 1;
    }
    for c in &mut line[..r] {
        if *c == 0 || *c == b'\n' {
            *c = b'~';
        }
    }
    let mut pos = 0;
    if !raw {
        if let Some(code) = crate::syslog::decode(&line[..r]) {
            code.write_to(out);
            pos = code.len;
        }
    }
    out.extend_from_slice(&line[pos..r]);
    if len == linelen + 1 {
        out.extend_from_slice(b"...");
    }
    out.push(b'\n');
}

/// Runs s6-socklog.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let o = parse_opts(&args)?;
    if let Some(fd) = o.notif {
        cli::given_fd(fd.into(), "notification fd", "invalid notification fd")?;
    }
    // stdin is not used: release it, keeping fd 0 valid.
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = s6rs_sys::fd::dup_to(null.as_fd(), 0);
    }
    for (fd, name) in [(1, "stdout"), (2, "stderr")] {
        if !s6rs_sys::fd::is_open(fd) {
            let e = io::Error::from_raw_os_error(libc::EBADF);
            return Err(Fatal::new(100, format!("invalid {name}: {}", cli::errtext(&e))));
        }
    }
    let sock = match (&o.unix, o.udp) {
        (_, Some(addr)) => Sock::Udp(bind_udp(addr).map_err(|e| {
            let ip = match addr.ip() {
                IpAddr::V4(ip) => ip.to_string(),
                IpAddr::V6(ip) => s6rs_sys::ip6::fmt(ip),
            };
            Fatal::sys(format_args!("bind socket to ip {ip} port {}", addr.port()), &e)
        })?),
        (Some(path), None) => {
            let (s, lock) = bind_unix(path)
                .map_err(|e| Fatal::sys(format_args!("bind socket to {}", path.display()), &e))?;
            Sock::Unix(s, lock)
        }
        (None, None) => return Err(usage()),
    };
    drop_privileges(&o)?;
    let trap = Trap::new(&[libc::SIGTERM]).map_err(|e| Fatal::sys("trap signals", &e))?;
    // fd 1 was checked open above and stays open.
    let fd1 = s6rs_sys::fd::stdout();
    s6rs_sys::fd::set_nonblock(fd1, true).map_err(|e| Fatal::sys("set stdout non-blocking", &e))?;
    let ev = EventLoop::new(4).map_err(|e| Fatal::sys("create the event loop", &e))?;
    ev.add(trap.as_fd(), TOKEN_SIG, Watch::Read).map_err(|e| Fatal::sys("register signalfd", &e))?;
    ev.add(sock.fd(), TOKEN_SOCK, Watch::Read).map_err(|e| Fatal::sys("register socket", &e))?;
    let out_polled = match ev.add(fd1, TOKEN_OUT, Watch::Write) {
        Ok(()) => true,
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => false,
        Err(e) => return Err(Fatal::sys("register stdout", &e)),
    };
    if let Some(fd) = o.notif {
        if let Ok(f) = s6rs_sys::fd::adopt(fd) {
            let _ = s6rs_sys::fd::write_all(f.as_fd(), b"\n");
        }
    }
    serve(&o, &sock, ev, &trap, out_polled)
}

fn serve(o: &Opts, sock: &Sock, mut ev: EventLoop, trap: &Trap, out_polled: bool) -> Result<u8, Fatal> {
    let fd1 = s6rs_sys::fd::stdout();
    let cap = o.linelen * 4;
    let mut out: Vec<u8> = Vec::with_capacity(cap);
    let mut line = vec![0u8; o.linelen + 1];
    let (mut cont, mut deadline) = (true, Deadline::Never);
    let (mut sock_ready, mut out_ready) = (true, true);
    while cont || !out.is_empty() {
        if !out.is_empty() && out_ready {
            let done = s6rs_sys::fd::write_nb(fd1, &out).map_err(|e| Fatal::sys("write to stdout", &e))?;
            if done < out.len() {
                out_ready = !out_polled;
            }
            out.drain(..done);
        }
        while cont && sock_ready && cap - out.len() >= o.linelen + 80 {
            let res = match sock {
                Sock::Unix(s, _) => s.recv(&mut line).map(|n| (n, None)),
                Sock::Udp(s) => s.recv_from(&mut line).map(|(n, a)| (n, Some(a))),
            };
            match res {
                // An empty datagram: upstream dies on it (read 0 taken as end of file), which
                // lets any local user stop syslogging. We ignore it.
                Ok((0, _)) => {}
                Ok((n, from)) => format_datagram(&mut line[..n], o.linelen, o.raw, from, &mut out),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => sock_ready = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Fatal::sys("recv", &e)),
            }
        }
        if !cont && out.is_empty() {
            break;
        }
        let busy =
            (!out.is_empty() && out_ready) || (cont && sock_ready && cap - out.len() >= o.linelen + 80);
        let wait = if busy { Deadline::At(std::time::Instant::now()) } else { deadline };
        let [sig, rd, wr] = ev.wait_tokens(wait).map_err(|e| Fatal::sys("wait for events", &e))?;
        if sig {
            while let Some(s) = trap.next().map_err(|e| Fatal::sys("read signalfd", &e))? {
                if s == libc::SIGTERM && cont {
                    cont = false;
                    deadline = Deadline::from_ms(o.lameduck_ms);
                }
            }
        }
        sock_ready |= rd;
        out_ready |= wr;
        if !cont && !out.is_empty() && deadline.passed() {
            return Ok(99);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    use s6rs_sys::testing::args;

    #[test]
    fn ip_and_port() {
        assert_eq!(parse_ipport("127.0.0.1"), Some("127.0.0.1:514".parse().unwrap()));
        assert_eq!(parse_ipport("127.0.0.1_5140"), Some("127.0.0.1:5140".parse().unwrap()));
        assert_eq!(parse_ipport("127.0.0.1:5140"), Some("127.0.0.1:5140".parse().unwrap()));
        assert_eq!(parse_ipport("::1_5140"), Some("[::1]:5140".parse().unwrap()));
        assert_eq!(parse_ipport("::1"), Some("[::1]:514".parse().unwrap()));
        assert_eq!(parse_ipport("x"), None);
        assert_eq!(parse_ipport("127.0.0.1_x"), None);
    }

    #[test]
    fn options() {
        let o = parse_opts(&args(&["-r", "-l", "10", "-t", "50", "-x", "/tmp/s", "-G", "1,2"])).unwrap();
        assert!(o.raw);
        assert_eq!((o.linelen, o.lameduck_ms), (76, 50));
        assert_eq!(o.unix, Some(PathBuf::from("/tmp/s")));
        assert_eq!(o.gids, Some(vec![1, 2]));
        let o = parse_opts(&args(&["-l", "9999999", "-i", "127.0.0.1_9"])).unwrap();
        assert_eq!((o.linelen, o.unix.is_none()), (1_048_576, true));
        assert!(parse_opts(&args(&["-G", "1,x"])).unwrap_err().usage);
        assert!(parse_opts(&args(&["-q"])).unwrap_err().usage);
    }

    #[test]
    fn datagrams_become_lines() {
        let mut out = Vec::new();
        let mut d = *b"<13>hello\0world\n\0";
        format_datagram(&mut d, 76, false, None, &mut out);
        assert_eq!(out, b"user.notice: hello~world\n");
        out.clear();
        let mut d = *b"<13>raw";
        format_datagram(&mut d, 76, true, Some("10.0.0.1:600".parse().unwrap()), &mut out);
        assert_eq!(out, b"10.0.0.1_600: <13>raw\n");
        out.clear();
        let mut d = [b'a'; 77];
        format_datagram(&mut d, 76, false, None, &mut out);
        assert_eq!(out.len(), 77 + 4);
        assert!(out.ends_with(b"a...\n"));
    }
}
