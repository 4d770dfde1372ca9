//! Interop with Debian's s6 2.11 fd holder, both ways: real clients against our daemon and
//! ours against the real one, dumps across, and fds that stay usable after a trip through
//! the other side. The messages compared are those 2.11 and 2.15 print alike (2.11's
//! s6-fdholder-delete names the socket instead of the id, FORMATS.md §10).

use super::*;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every operation with `clients` against a daemon of `daemon_impl`.
fn exercise(daemon_impl: Impl, clients: Impl) {
    let t = TempDir::new(&format!("fdh-interop-{daemon_impl:?}-{clients:?}"));
    let s = daemon(
        daemon_impl,
        &t,
        "s",
        &[
            ("S6_FDHOLDER_STORE_REGEX", "^[a-m]"),
            ("S6_FDHOLDER_RETRIEVE_REGEX", "."),
            ("S6_FDHOLDER_LIST", "1"),
            ("S6_FDHOLDER_GETDUMP", "1"),
            ("S6_FDHOLDER_SETDUMP", "1"),
        ],
        &[],
    );
    let ctx = format!("daemon {daemon_impl:?}, clients {clients:?}");
    let (r, w) = store_pipe(clients, &s.path, "alpha", &[]);
    assert_eq!(r.code, Some(0), "{ctx}: {}", r.err);
    let (r, w2) = store_pipe(clients, &s.path, "beta", &["-T", "60000"]);
    assert_eq!(r.code, Some(0), "{ctx}: {}", r.err);
    let r = store_pipe(clients, &s.path, "alpha", &[]).0;
    assert_eq!(
        (r.code, r.err),
        (Some(1), refused("s6-fdholder-store", "store fd", "Device or resource busy")),
        "{ctx}"
    );
    let r = store_pipe(clients, &s.path, "zeta", &[]).0;
    assert_eq!(
        (r.code, r.err),
        (Some(1), refused("s6-fdholder-store", "store fd", "Operation not permitted")),
        "{ctx}"
    );
    assert_eq!(list(clients, &s.path), ["alpha", "beta"], "{ctx}");
    let got = retrieve_reads(clients, &s.path, "alpha", &w, "via-retrieve");
    assert_eq!((got.code, got.out.as_str()), (Some(0), "via-retrieve"), "{ctx}: {}", got.err);
    let r = tool(clients, "s6-fdholder-retrieve", &[p(&s.path), "nope", "true"]);
    assert_eq!(
        (r.code, r.err),
        (Some(1), refused("s6-fdholder-retrieve", "retrieve fd for id nope", "No such file or directory")),
        "{ctx}"
    );
    // The dump environment, as the real getdump and ours write it.
    let r = tool(clients, "s6-fdholder-getdump", &[p(&s.path), "env"]);
    assert_eq!(r.code, Some(0), "{ctx}: {}", r.err);
    let vars: Vec<&str> = r.out.lines().collect();
    assert!(vars.contains(&"S6_FD#=2"), "{ctx}: {vars:?}");
    assert_eq!(vars.iter().filter(|v| v.starts_with("S6_FDLIMIT_")).count(), 1, "{ctx}: {vars:?}");
    // getdump into setdump, into a second daemon of the same kind.
    let s2 = daemon(daemon_impl, &t, "s2", ALL, &[]);
    let setdump = clients.path("s6-fdholder-setdump");
    let r = tool(clients, "s6-fdholder-getdump", &[p(&s.path), setdump.to_str().unwrap(), p(&s2.path)]);
    assert_eq!((r.code, r.err.as_str()), (Some(0), ""), "{ctx}");
    assert_eq!(list(clients, &s2.path), ["alpha", "beta"], "{ctx}");
    let got = retrieve_reads(clients, &s2.path, "beta", &w2, "after-setdump");
    assert_eq!(got.out, "after-setdump", "{ctx}: {}", got.err);
    // Delete and retrieve-with-delete.
    let r = tool(clients, "s6-fdholder-delete", &[p(&s.path), "alpha"]);
    assert_eq!(r.code, Some(0), "{ctx}: {}", r.err);
    let r = tool(clients, "s6-fdholder-retrieve", &["-D", p(&s.path), "beta", "true"]);
    assert_eq!(r.code, Some(0), "{ctx}: {}", r.err);
    assert!(list(clients, &s.path).is_empty(), "{ctx}");
}

#[test]
fn real_clients_against_our_daemon() {
    exercise(Impl::Ours, Impl::Real);
}

#[test]
fn our_clients_against_the_real_daemon() {
    exercise(Impl::Real, Impl::Ours);
}

#[test]
fn transferdump_across_implementations_keeps_fds_usable() {
    let t = TempDir::new("fdh-xdump");
    let ours = daemon(Impl::Ours, &t, "ours", ALL, &[]);
    let real = daemon(Impl::Real, &t, "real", ALL, &[]);
    // Stored in the real daemon by the real client; carried into ours by our transferdump.
    let (r, w_real) = store_pipe(Impl::Real, &real.path, "from-real", &["-T", "600000"]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    // Stored in ours by ours; carried into the real one by the real transferdump.
    let (r, w_ours) = store_pipe(Impl::Ours, &ours.path, "from-ours", &[]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    let r = tool(Impl::Ours, "s6-fdholder-transferdump", &[p(&real.path), p(&ours.path)]);
    assert_eq!((r.code, r.err.as_str()), (Some(0), ""));
    let r = tool(Impl::Real, "s6-fdholder-transferdump", &["-t", "5000:5000", p(&ours.path), p(&real.path)]);
    assert_eq!((r.code, r.err.as_str()), (Some(0), ""));
    assert_eq!(list(Impl::Ours, &ours.path), ["from-ours", "from-real"]);
    assert_eq!(list(Impl::Real, &real.path), ["from-ours", "from-real"]);
    // Each fd works after the trip through the other side, read by the other's client.
    let got = retrieve_reads(Impl::Real, &ours.path, "from-real", &w_real, "one");
    assert_eq!(got.out, "one", "{}", got.err);
    let got = retrieve_reads(Impl::Ours, &real.path, "from-ours", &w_ours, "two");
    assert_eq!(got.out, "two", "{}", got.err);
    // The limit survived: the fd from the real daemon still expires, the other does not.
    let r = tool(Impl::Ours, "s6-fdholder-getdump", &[p(&ours.path), "env"]);
    assert_eq!(r.out.lines().filter(|l| l.starts_with("S6_FDLIMIT_")).count(), 1, "{}", r.out);
}
