//! s6-connlimit: ${PROTO}CONNNUM against ${PROTO}CONNMAX, alone and behind
//! s6-ipcserver-access setting the limit from a rule.

use super::*;
use crate::support::*;

fn connlimit(env: &[(&str, &str)], prog: &[&str]) -> Outcome {
    outcome(cmd(&bin("s6-connlimit"), prog, env))
}

#[test]
fn limits_by_count() {
    let ok = |env: &[(&str, &str)]| connlimit(env, &["echo", "served"]);
    let limited = |max: &str| {
        (
            Some(1),
            String::new(),
            format!("s6-connlimit: fatal: number of connections from this client limited to {max}\n"),
        )
    };
    // 2.15 counts the connections before this one: with a limit of 2, counts 0 and 1 pass.
    for num in ["0", "1"] {
        assert_eq!(ok(&[("PROTO", "IPC"), ("IPCCONNNUM", num), ("IPCCONNMAX", "2")]).1, "served\n");
    }
    for num in ["2", "3", "40"] {
        assert_eq!(ok(&[("PROTO", "IPC"), ("IPCCONNNUM", num), ("IPCCONNMAX", "2")]), limited("2"), "{num}");
    }
    assert_eq!(ok(&[("PROTO", "IPC"), ("IPCCONNNUM", "0"), ("IPCCONNMAX", "0")]), limited("0"));
    // Any PROTO.
    assert_eq!(ok(&[("PROTO", "TCP"), ("TCPCONNNUM", "5"), ("TCPCONNMAX", "5")]), limited("5"));
    assert_eq!(
        ok(&[("PROTO", "TCP"), ("TCPCONNNUM", "4"), ("TCPCONNMAX", "5"), ("IPCCONNMAX", "0")]).1,
        "served\n"
    );
    // No limit: exec at once, whatever the count says (s6-ipcserverd -P leaves it empty).
    assert_eq!(ok(&[("PROTO", "IPC")]).1, "served\n");
    assert_eq!(ok(&[("PROTO", "IPC"), ("IPCCONNNUM", "")]).1, "served\n");
}

#[test]
fn bad_environment() {
    let o = connlimit(&[], &["true"]);
    assert_eq!((o.0, o.2.as_str()), (Some(100), "s6-connlimit: fatal: PROTO not set\n"));
    let o = connlimit(&[("PROTO", "")], &["true"]);
    assert_eq!((o.0, o.2.as_str()), (Some(100), "s6-connlimit: fatal: empty PROTO\n"));
    let o = connlimit(&[("PROTO", "IPC"), ("IPCCONNMAX", "3")], &["true"]);
    assert_eq!((o.0, o.2.as_str()), (Some(100), "s6-connlimit: fatal: IPCCONNNUM not set\n"));
    let o = connlimit(&[("PROTO", "IPC"), ("IPCCONNMAX", "3"), ("IPCCONNNUM", "x")], &["true"]);
    assert_eq!((o.0, o.2.as_str()), (Some(100), "s6-connlimit: fatal: invalid IPCCONNNUM\n"));
    let o = connlimit(&[("PROTO", "IPC"), ("IPCCONNMAX", "-1"), ("IPCCONNNUM", "0")], &["true"]);
    assert_eq!((o.0, o.2.as_str()), (Some(100), "s6-connlimit: fatal: invalid IPCCONNMAX\n"));
    let o = connlimit(&[("PROTO", "IPC")], &["/nonexistent"]);
    assert_eq!(o.0, Some(127));
}

/// The documented use: an access rule sets ${PROTO}CONNMAX for some clients.
#[test]
fn limit_from_an_access_rule() {
    let (t, sock) = setup("connlimit-rule");
    let dir = t.join("rules");
    rules(
        &dir,
        &[("uid/4000001/allow", b""), ("uid/4000001/env/IPCCONNMAX", b"2\n"), ("uid/default/allow", b"")],
    );
    let cl = bin("s6-connlimit");
    let chain = |uid: u32, num: &str| {
        let args = ["-v0", "-i", dir.to_str().unwrap(), cl.to_str().unwrap(), "echo", "served"];
        access(&bin("s6-ipcserver-access"), &sock, uid, 7, &args, &[("IPCCONNNUM", num)])
    };
    assert_eq!(chain(4_000_001, "1").1, "served\n");
    let o = chain(4_000_001, "2");
    assert_eq!(
        (o.0, o.2.as_str()),
        (Some(1), "s6-connlimit: fatal: number of connections from this client limited to 2\n")
    );
    // Other clients have no limit.
    assert_eq!(chain(4_000_002, "1000").1, "served\n");
}
