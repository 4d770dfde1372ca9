//! Interop with Debian's s6 2.11 both ways: a real client against our server, our clients
//! against a real server, and our s6-sudod behind real s6-ipcserver. Each exchange checks
//! fds, arguments, the environment filter and the exit code.

use super::*;

/// The program every server runs: what it got, then exit 7 (FORMATS.md §6's capture).
const PROG: &[&str] =
    &["sh", "-c", "read l; echo \"$l|$*|A=${A-unset} B=${B-unset} C=${C-unset}\"; echo e >&2; exit 7", "x"];
const SERVER_ENV: &[(&str, &str)] = &[("A", ""), ("B", "server")];
const CLIENT_ENV: &[(&str, &str)] = &[("A", "client"), ("B", "client"), ("C", "client")];

fn exchange(s: &Server, argv: &[OsString]) {
    let o = client(argv, CLIENT_ENV, b"in\n");
    assert_eq!(
        parts(&o),
        (Some(7), "in|arg1 arg 2|A=client B=server C=unset\n".into(), "e\n".into()),
        "{argv:?}"
    );
    assert!(alive(s.pid as i32), "the server died");
}

fn serve(t: &TempDir, ipc: Impl, sudod: Impl) -> Server {
    server(t, ipc, sudod, &[], PROG, SERVER_ENV)
}

#[test]
fn real_s6_sudo_against_our_server() {
    let t = TempDir::new("sudo-int-rc");
    let mut s = serve(&t, Impl::Ours, Impl::Ours);
    exchange(&s, &sudo(Impl::Real, &[], &s.path, &["arg1", "arg 2"]));
    expect_end(&mut s, "exitcode 0");
    // Real s6-sudoc through our s6-ipcclient, and -e.
    exchange(&s, &sudoc(Impl::Ours, Impl::Real, &[], &s.path, &["arg1", "arg 2"]));
    let o = client(&sudo(Impl::Real, &["-e"], &s.path, &[]), CLIENT_ENV, b"\n");
    assert_eq!(parts(&o).1, "||A= B=server C=unset\n");
}

#[test]
fn our_clients_against_a_real_server() {
    let t = TempDir::new("sudo-int-rs");
    let mut s = serve(&t, Impl::Real, Impl::Real);
    exchange(&s, &sudo(Impl::Ours, &[], &s.path, &["arg1", "arg 2"]));
    expect_end(&mut s, "exitcode 0");
    exchange(&s, &sudoc(Impl::Real, Impl::Ours, &[], &s.path, &["arg1", "arg 2"]));
    let o = client(&sudo(Impl::Ours, &["-e"], &s.path, &[]), CLIENT_ENV, b"\n");
    assert_eq!(parts(&o).1, "||A= B=server C=unset\n");
    // Exit statuses through the real server: signals and large codes.
    let t = TempDir::new("sudo-int-rs2");
    let s = server(
        &t,
        Impl::Real,
        Impl::Real,
        &[],
        &["sh", "-c", "case $1 in TERM) kill -TERM $$;; *) exit $1;; esac", "x"],
        &[],
    );
    for (arg, want) in [("0", 0), ("3", 3), ("200", 128), ("TERM", 143)] {
        let o = client(&sudo(Impl::Ours, &[], &s.path, &[arg]), &[], b"");
        assert_eq!(o.status.code(), Some(want), "{arg}");
    }
}

#[test]
fn our_s6_sudod_behind_real_s6_ipcserver() {
    let t = TempDir::new("sudo-int-rd");
    let mut s = serve(&t, Impl::Real, Impl::Ours);
    exchange(&s, &sudo(Impl::Real, &[], &s.path, &["arg1", "arg 2"]));
    expect_end(&mut s, "exitcode 0");
    exchange(&s, &sudo(Impl::Ours, &[], &s.path, &["arg1", "arg 2"]));
    expect_end(&mut s, "exitcode 0");
}

#[test]
fn the_environment_our_s6_sudo_sends_is_the_chains() {
    // s6-ipcclient sets PROTO and IPCLOCALPATH before s6-sudoc reads its environment; our
    // one-process s6-sudo sends the same, which a server declaring them empty shows.
    // The super-server sets PROTO itself: s6-sudod runs under `env` emptying the names.
    let t = TempDir::new("sudo-int-env");
    let path = t.join("sock");
    let sudod = bin("s6-sudod").display().to_string();
    let show = "echo \"$PROTO|$IPCLOCALPATH|$X\"";
    let wrapped = ["env", "PROTO=", "IPCLOCALPATH=", "X=", &sudod, "sh", "-c", show];
    let s = server_argv(&path, &chain(Impl::Ours, &path, &[], &wrapped), &[]);
    let ours = client(&sudo(Impl::Ours, &["-l", "here"], &s.path, &[]), &[("X", "x")], b"");
    let real = client(&sudo(Impl::Real, &["-l", "here"], &s.path, &[]), &[("X", "x")], b"");
    assert_eq!(parts(&ours), (Some(0), "IPC|here|x\n".into(), String::new()));
    assert_eq!(parts(&ours), parts(&real));
}

#[test]
fn messages_match_real_s6_sudoc() {
    let t = TempDir::new("sudo-int-msg");
    // A request the server drops (empty command): the same words and code, but for the
    // errno, which 2.11's skalibs leaves at 0 ("Success") at end of file.
    let s = server(&t, Impl::Ours, Impl::Ours, &[], &[], &[]);
    let ours = client(&sudo(Impl::Ours, &[], &s.path, &[]), &[], b"");
    let real = client(&sudo(Impl::Real, &[], &s.path, &[]), &[], b"");
    let (c1, _, e1) = parts(&ours);
    let (c2, _, e2) = parts(&real);
    let prefix = "s6-sudoc: fatal: unable to get confirmation from server: ";
    assert_eq!((c1, c2), (Some(111), Some(111)));
    assert_eq!((e1, e2), (format!("{prefix}Broken pipe\n"), format!("{prefix}Success\n")));
    // A missing socket: the same message.
    let none = t.join("none");
    let ours = client(&sudo(Impl::Ours, &[], &none, &[]), &[], b"");
    let real = client(&sudo(Impl::Real, &[], &none, &[]), &[], b"");
    assert_eq!(parts(&ours), parts(&real));
    // An EINVAL answer (env entry without '=' is impossible from a real client, so a
    // program that cannot start: 2.11 answers its errno too).
    let t = TempDir::new("sudo-int-msg2");
    let s = server(&t, Impl::Real, Impl::Ours, &[], &["/nonexistent"], &[]);
    let ours = client(&sudo(Impl::Real, &[], &s.path, &[]), &[], b"");
    let t2 = TempDir::new("sudo-int-msg3");
    let r = server(&t2, Impl::Real, Impl::Real, &[], &["/nonexistent"], &[]);
    let real = client(&sudo(Impl::Real, &[], &r.path, &[]), &[], b"");
    // (2.11's s6-sudod also has its forked child say why on the client's stderr.)
    assert_eq!((ours.status.code(), real.status.code()), (Some(111), Some(111)));
    // The two messages race on the same pipe, in either order.
    let ours = text(&ours.stderr);
    assert_eq!(ours.lines().count(), 1, "{ours}");
    assert!(text(&real.stderr).lines().any(|l| l == ours.trim_end()), "{ours}");
}
