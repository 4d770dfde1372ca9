//! Rules are read without ever waiting and at a cost that does not grow with the database:
//! a rule file that is not a regular file (a FIFO in `env/`, a FIFO or a device as the cdb)
//! is refused at once, a huge cdb is mapped rather than read, and the in-process check of
//! s6-ipcserverd, which runs inside the server's only loop, never stops the other clients
//! or the signals. A kept cdb mapping follows the file when it is replaced.

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
use crate::ipc::Server;
use crate::support::*;

const U: u32 = 4_000_001;
const G: u32 = 4_000_002;

/// How long refusing a bad rules file may take, even on a loaded machine: it is a handful
/// of syscalls; reading a 4 GiB file would take far longer (and that much memory).
const QUICK: Duration = Duration::from_secs(3);

fn mkfifo(path: &Path) {
    s6rs_sys::fd::mkfifo(path, 0o600).unwrap();
}

/// `s6-ipcserver --access-OPT -1 SOCK sh -c 'echo served $FOO'`, started.
fn inproc_server(t: &TempDir, access_opt: String) -> Server {
    let sock = t.join("sock");
    let argv: Vec<OsString> = vec![
        bin("s6-ipcserver").into(),
        access_opt.into(),
        "-1".into(),
        sock.clone().into(),
        "sh".into(),
        "-c".into(),
        "echo served $FOO".into(),
    ];
    Server::start(&sock, &argv)
}

#[test]
fn fifo_in_rules_env_denies_that_client_and_the_server_keeps_serving() {
    let t = TempDir::new("nowait-env");
    let dir = t.join("rules");
    rules(&dir, &[("uid/default/allow", b""), ("uid/default/env/FOO", b"ok\n")]);
    let stuck = dir.join("uid/default/env/STUCK");
    mkfifo(&stuck);
    let mut s = inproc_server(&t, format!("--access-rules={}", dir.display()));
    // Refused at once: the connection closes with nothing written. (A check that opened
    // the FIFO for reading would wait for a writer and keep the server from everything.)
    assert_eq!(s.request(), "");
    s.expect(&format!(
        "s6-ipcserverd: fatal: unable to check fs ruleset in {}: {} is not a regular file",
        dir.display(),
        stuck.display()
    ));
    // The server is still serving: once the rule is mended, the next client gets in.
    std::fs::remove_file(&stuck).unwrap();
    assert_eq!(s.request(), "served ok\n");

    // The chained program refuses the same rule the same way: 111 and one line (real s6
    // waits on the FIFO forever).
    mkfifo(&stuck);
    let sock = Sock::bind(t.join("chained.sock"));
    let o = access(&bin("s6-ipcserver-access"), &sock, U, G, &["-i", dir.to_str().unwrap(), "true"], &[]);
    let line = format!(
        "s6-ipcserver-access: fatal: unable to check fs ruleset in {}: {} is not a regular file\n",
        dir.display(),
        stuck.display()
    );
    assert_eq!(o, (Some(111), String::new(), line));
}

#[test]
fn fifo_exec_file_is_refused_at_once() {
    let (t, sock) = setup("nowait-exec");
    let dir = t.join("rules");
    rules(&dir, &[("uid/default/allow", b"")]);
    let exec = dir.join("uid/default/exec");
    mkfifo(&exec);
    let o = access(&bin("s6-ipcserver-access"), &sock, U, G, &["-i", dir.to_str().unwrap(), "true"], &[]);
    assert_eq!(o.0, Some(111), "{o:?}");
    assert!(o.2.ends_with(&format!("{} is not a regular file\n", exec.display())), "{o:?}");
}

#[test]
fn fifo_cdb_is_refused_at_once_and_sigterm_still_stops_the_server() {
    let t = TempDir::new("nowait-cdbfifo");
    let fifo = t.join("rules.cdb");
    mkfifo(&fifo);
    let mut s = inproc_server(&t, format!("--access-cdb={}", fifo.display()));
    assert_eq!(s.request(), "");
    s.expect(&format!("s6-ipcserverd: fatal: unable to cdb_init {}: Invalid argument", fifo.display()));
    // The loop is free: SIGTERM is read and obeyed at once.
    let start = Instant::now();
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(), Some(0));
    assert!(start.elapsed() < QUICK, "SIGTERM took {:?}", start.elapsed());
}

#[test]
fn chained_access_on_a_fifo_cdb_exits_111_like_real() {
    let (t, sock) = setup("nowait-chained");
    let fifo = t.join("rules.cdb");
    mkfifo(&fifo);
    let line =
        format!("s6-ipcserver-access: fatal: unable to cdb_init {}: Invalid argument\n", fifo.display());
    for prog in [bin("s6-ipcserver-access"), real("s6-ipcserver-access")] {
        let o = access(&prog, &sock, U, G, &["-x", fifo.to_str().unwrap(), "echo", "served"], &[]);
        assert_eq!(o, (Some(111), String::new(), line.clone()), "{}", prog.display());
    }
}

#[test]
fn cdb_that_is_a_device_or_huge_fails_at_once() {
    let (t, sock) = setup("nowait-huge");
    let run = |prog: &Path, file: &Path| {
        let start = Instant::now();
        let o = access(prog, &sock, U, G, &["-x", file.to_str().unwrap(), "echo", "served"], &[]);
        (o, start.elapsed())
    };
    // A device (which read(2) would never finish), and a file past what a cdb can address:
    // refused before anything is read, as real s6 refuses them.
    let sparse5g = t.join("5g.cdb");
    std::fs::File::create(&sparse5g).unwrap().set_len(5 << 30).unwrap();
    for (file, err) in
        [(Path::new("/dev/zero"), "Invalid argument"), (&sparse5g, "Value too large for defined data type")]
    {
        let line = format!("s6-ipcserver-access: fatal: unable to cdb_init {}: {err}\n", file.display());
        let (o, took) = run(&bin("s6-ipcserver-access"), file);
        assert_eq!(o, (Some(111), String::new(), line.clone()), "{}", file.display());
        assert!(took < QUICK, "{}: {took:?}", file.display());
        assert_eq!(run(&real("s6-ipcserver-access"), file).0, (Some(111), String::new(), line));
    }
    // The largest file a cdb can be, all holes: mapped, its header found empty, refused
    // (real s6 reads the zeros as "no rule" and exits 1). Reading it would take 4 GiB.
    let sparse4g = t.join("4g.cdb");
    std::fs::File::create(&sparse4g).unwrap().set_len(u64::from(u32::MAX)).unwrap();
    let (o, took) = run(&bin("s6-ipcserver-access"), &sparse4g);
    let line = format!(
        "s6-ipcserver-access: fatal: unable to check cdb ruleset in {}: Invalid argument\n",
        sparse4g.display()
    );
    assert_eq!(o, (Some(111), String::new(), line));
    assert!(took < QUICK, "{took:?}");
}

#[test]
fn inprocess_cdb_follows_a_recompiled_file() {
    let t = TempDir::new("nowait-recompile");
    let dir = t.join("rules");
    rules(&dir, &[("uid/default/allow", b""), ("uid/default/env/FOO", b"one\n")]);
    let file = t.join("rules.cdb");
    compile(&bin("s6-accessrules-cdb-from-fs"), &file, &dir);
    let s = inproc_server(&t, format!("--access-cdb={}", file.display()));
    assert_eq!(s.request(), "served one\n");
    assert_eq!(s.request(), "served one\n");
    // Recompiled (a new file renamed over the old one): the next client sees the new rules.
    std::fs::write(dir.join("uid/default/env/FOO"), b"two\n").unwrap();
    compile(&bin("s6-accessrules-cdb-from-fs"), &file, &dir);
    assert_eq!(s.request(), "served two\n");
    // Rewritten in place (cp truncates and writes): seen as well.
    let other = t.join("other.cdb");
    std::fs::write(dir.join("uid/default/env/FOO"), b"six\n").unwrap();
    compile(&bin("s6-accessrules-cdb-from-fs"), &other, &dir);
    std::fs::write(&file, std::fs::read(&other).unwrap()).unwrap();
    assert_eq!(s.request(), "served six\n");
}
