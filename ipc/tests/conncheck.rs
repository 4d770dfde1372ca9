//! s6-ipcserverd's in-process [`ConnCheck`] hook, end to end: a server runs `serve` with a
//! check in a forked child (this test has no harness, so it is single-threaded and may
//! fork), and clients see the verdicts: an allowed client's handler gets the check's
//! variables, a denied client is closed without a handler, and an `argv` replaces the
//! handler.

use std::ffi::OsString;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use s6rs_ipc::check::{ConnCheck, Peer, Verdict};
use s6rs_ipc::cmd::ipcserverd;
use s6rs_sys::exec::{self, EnvMod, Fork};
use s6rs_sys::socket::{self, Kind};

struct Check {
    seen: u32,
}

impl ConnCheck for Check {
    fn check(&mut self, peer: &Peer<'_>, env: &mut Vec<EnvMod>) -> Verdict {
        self.seen += 1;
        match self.seen {
            2 => Verdict::Deny,
            3 => Verdict::Allow { argv: Some(vec!["echo".into(), "replaced".into()]) },
            _ => {
                let c = peer.creds.expect("credentials");
                let local = socket::local_path(peer.conn).expect("getsockname");
                let v = format!("{}:{}:{}:{}", c.uid, c.gid, peer.connnum, local.as_os_str().len());
                env.push(("FROM_CHECK".into(), Some(v.into())));
                // A later change wins over the server's own variables.
                env.push(("PROTO".into(), Some("CHECKED".into())));
                Verdict::Allow { argv: None }
            }
        }
    }
}

fn request(path: &std::path::Path) -> String {
    let mut s = UnixStream::connect(path).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

fn main() {
    let dir = std::env::temp_dir().join(format!("s6rs-conncheck-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join("sock");
    let l = socket::socket(Kind::Stream, true).expect("socket");
    socket::bind(l.as_fd(), &path).expect("bind");
    socket::listen(l.as_fd(), 16).expect("listen");
    let prog: Vec<OsString> =
        ["-v0", "sh", "-c", "echo $PROTO $IPCCONNNUM $FROM_CHECK"].iter().map(OsString::from).collect();
    let opts = ipcserverd::parse(&prog).expect("options");
    let pid = match exec::fork().expect("fork") {
        Fork::Child => {
            let code = match s6rs_sys::fd::move_to(l, 0) {
                Ok(fd0) => {
                    std::mem::forget(fd0);
                    ipcserverd::serve(&opts, Some(&mut Check { seen: 0 })).unwrap_or_else(|f| f.code)
                }
                Err(_) => 111,
            };
            std::process::exit(i32::from(code))
        }
        Fork::Parent(pid) => pid,
    };
    drop(l);
    let results = [request(&path), request(&path), request(&path), request(&path)];
    let _ = s6rs_sys::sig::kill(pid, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = exec::try_wait(pid).expect("waitpid") {
            break Some(st);
        }
        if Instant::now() >= deadline {
            let _ = s6rs_sys::sig::kill(pid, libc::SIGKILL);
            let _ = exec::wait(pid);
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = std::fs::remove_dir_all(&dir);
    let (uid, gid) = (s6rs_sys::proc::euid(), s6rs_sys::proc::egid());
    let plen = path.as_os_str().len();
    assert_eq!(
        results[0],
        format!("CHECKED 0 {uid}:{gid}:0:{plen}\n"),
        "allowed, with the check's variables"
    );
    assert_eq!(results[1], "", "denied: closed without a handler");
    assert_eq!(results[2], "replaced\n", "the check's argv replaces the handler");
    assert!(results[3].starts_with("CHECKED "), "still serving: {:?}", results[3]);
    assert_eq!(status.and_then(|s| s.exit_code()), Some(0), "the server exits 0 on SIGTERM");
    println!("conncheck: ok");
}
