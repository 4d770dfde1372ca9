//! Bad input: each malformed message closes that client's connection, with no reply, and
//! the daemon keeps serving everyone else.

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};

use s6rs_ipc::fdpass;
use s6rs_sys::tai::Tain;

use super::*;

/// Sends one framed message with `fds` on a fresh connection and checks that the daemon
/// closes it, then that another client is still served.
fn closes(s: &Server, what: &str, payload: &[u8], fds: &[BorrowedFd<'_>]) {
    let mut c = raw(&s.path);
    fdpass::send(c.as_fd(), payload, fds, Deadline::from_ms(5000)).expect("send");
    assert!(closed_by_daemon(&mut c), "{what}: the daemon answered instead of closing");
    let mut other = client(&s.path);
    assert!(other.list().is_ok(), "{what}: the daemon stopped serving");
}

fn store_payload(id: &[u8]) -> Vec<u8> {
    let mut p = vec![b'S'];
    p.extend_from_slice(&Tain::now().pack());
    p.push(id.len() as u8);
    p.extend_from_slice(id);
    p.push(0);
    p
}

#[test]
fn each_malformed_message_closes_only_its_connection() {
    let t = TempDir::new("fdh-bad");
    let s = daemon(Impl::Ours, &t, "s", ALL, &[]);
    let (r, _w) = s6rs_sys::fd::pipe().unwrap();
    let fd = r.as_fd();
    closes(&s, "empty payload", b"", &[]);
    closes(&s, "unknown op", b"Z", &[]);
    closes(&s, "garbage", b"\xff\x00garbage", &[]);
    closes(&s, "list with bytes after", b"Lx", &[]);
    closes(&s, "list with an fd", b"L", &[fd]);
    closes(&s, "store without its fd", &store_payload(b"a"), &[]);
    closes(&s, "store with two fds", &store_payload(b"a"), &[fd, fd]);
    closes(&s, "delete of an id of 0 bytes", b"D\x00\x00", &[]);
    closes(&s, "retrieve with a bad flag", b"R\x07\x01a\x00", &[]);
    closes(&s, "id not NUL-terminated", b"D\x01ab", &[]);
    closes(&s, "id length past the payload", b"D\xffabc\x00", &[]);
    // An id of 256 bytes cannot be announced in one byte: 0 plus 256 bytes is a length error.
    let mut p = b"D\x00".to_vec();
    p.extend_from_slice(&[b'a'; 256]);
    p.push(0);
    closes(&s, "id of 256 bytes", &p, &[]);
    closes(&s, "setdump chunk with no setdump", b".", &[fd]);
    // A header announcing more than any request can be: refused before any byte of it.
    let mut c = raw(&s.path);
    c.write_all(&fdpass::pack_header(1 << 20, 0)).unwrap();
    assert!(closed_by_daemon(&mut c));
    // Setdump: chunks beyond what was announced.
    let mut c = client(&s.path);
    drop(c.list());
    let mut c = raw(&s.path);
    fdpass::send(c.as_fd(), b"!\x00\x00\x00\x01", &[], Deadline::from_ms(5000)).unwrap();
    let mut rx = fdpass::Receiver::new(true);
    let m = rx.receive_wait(c.as_fd(), Deadline::from_ms(5000)).unwrap().unwrap();
    assert_eq!(m.data, [0, 0, 0, 0, 1]);
    let mut chunk = b".".to_vec();
    for id in [&b"x"[..], b"y"] {
        chunk.extend_from_slice(&Tain::now().pack());
        chunk.push(1);
        chunk.extend_from_slice(id);
        chunk.push(0);
    }
    fdpass::send(c.as_fd(), &chunk, &[fd, fd], Deadline::from_ms(5000)).unwrap();
    assert!(closed_by_daemon(&mut c), "two entries after announcing one");
    // During a setdump, any other request is out of place.
    let mut c = raw(&s.path);
    fdpass::send(c.as_fd(), b"!\x00\x00\x00\x02", &[], Deadline::from_ms(5000)).unwrap();
    rx.receive_wait(c.as_fd(), Deadline::from_ms(5000)).unwrap().unwrap();
    fdpass::send(c.as_fd(), b"L", &[], Deadline::from_ms(5000)).unwrap();
    assert!(closed_by_daemon(&mut c), "list in the middle of a setdump");
    // A client that stops mid-message and hangs up.
    let mut c = raw(&s.path);
    c.write_all(&[0, 0, 0, 9, 0, 0, b'D', 1]).unwrap();
    drop(c);
    // Nothing was stored by any of it.
    assert!(list(Impl::Ours, &s.path).is_empty());
}
