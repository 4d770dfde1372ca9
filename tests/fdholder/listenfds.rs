//! s6-fdholder-listenfds, the socket-activation extension: held fds land at 3, 4, ... with
//! LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES set, in one connection; a refusal runs nothing.

use super::*;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn held_fds_land_at_3_and_up_with_the_systemd_variables() {
    let t = TempDir::new("fdh-listen");
    let s = daemon(Impl::Ours, &t, "s", ALL, &[]);
    let (r, w1) = store_pipe(Impl::Ours, &s.path, "web", &[]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    let (r, w2) = store_pipe(Impl::Ours, &s.path, "unix:/run/adm", &[]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    s6rs_sys::fd::write_all(w1.as_fd(), b"one").unwrap();
    s6rs_sys::fd::write_all(w2.as_fd(), b"two").unwrap();
    let script = "echo \"$LISTEN_FDS $LISTEN_FDNAMES\"; [ \"$LISTEN_PID\" = $$ ] && echo pid-ok; \
                  head -c 3 <&3; echo; head -c 3 <&4; echo";
    let r = tool(
        Impl::Ours,
        "s6-fdholder-listenfds",
        &["-n", "web:adm", "-t", "5000", p(&s.path), "web", "unix:/run/adm", "--", "sh", "-c", script],
    );
    assert_eq!((r.code, r.err.as_str()), (Some(0), ""));
    assert_eq!(r.out, "2 web:adm\npid-ok\none\ntwo\n");
    // Names default to the ids; -D hands the fds over for good.
    let r = tool(
        Impl::Ours,
        "s6-fdholder-listenfds",
        &["-D", p(&s.path), "web", "--", "sh", "-c", "echo $LISTEN_FDNAMES"],
    );
    assert_eq!((r.code, r.out.as_str()), (Some(0), "web\n"), "{}", r.err);
    assert_eq!(list(Impl::Ours, &s.path), ["unix:/run/adm"]);
    // An id the daemon does not hold: exit 1, nothing run.
    let r = tool(Impl::Ours, "s6-fdholder-listenfds", &[p(&s.path), "web", "--", "echo", "ran"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(r.out, "");
    assert_eq!(
        r.err,
        refused("s6-fdholder-listenfds", "retrieve fd for id web", "No such file or directory")
    );
}
