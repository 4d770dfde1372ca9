//! The s6-rs argument policy (`S6RS_SUDO_ARGS_ERE`, `S6RS_SUDO_ARGS_MAX`) set by the
//! access rule that admits the client, and the `--audit` trail, with a real s6-sudo as
//! the client: behind our s6-ipcserver's in-process access check and behind real
//! s6-ipcserver + s6-ipcserver-access.

use super::*;

/// Rules admitting uid 0 with `env` in the rule's env/ directory.
fn rules(t: &TempDir, env: &[(&str, &str)]) -> PathBuf {
    let dir = t.join("rules");
    let d = dir.join("uid/0");
    std::fs::create_dir_all(d.join("env")).unwrap();
    std::fs::write(d.join("allow"), "").unwrap();
    for (name, body) in env {
        std::fs::write(d.join("env").join(name), body).unwrap();
    }
    dir
}

/// Our s6-ipcserver with `--access-rules=rules`, running our `s6-sudod --audit` on
/// `sargv` (which leaves `marker` when it runs).
fn inprocess(t: &TempDir, rules: &Path, sargv: &[&str]) -> Server {
    let path = t.join("sock");
    let mut v: Vec<OsString> = vec![
        bin("s6-ipcserver").into(),
        format!("--access-rules={}", rules.display()).into(),
        "-1".into(),
        "-v".into(),
        path.clone().into(),
        bin("s6-sudod").into(),
        "--audit".into(),
    ];
    v.extend(sargv.iter().map(OsString::from));
    server_argv(&path, &v, &[])
}

/// Real s6-ipcserver chained through real s6-ipcserver-access, running our
/// `s6-sudod --audit`.
fn chained(t: &TempDir, rules: &Path, sargv: &[&str]) -> Server {
    let path = t.join("sock");
    let mut v: Vec<OsString> = vec![
        real("s6-ipcserver").into(),
        "-1".into(),
        "-v".into(),
        path.clone().into(),
        real("s6-ipcserver-access").into(),
        "-i".into(),
        rules.into(),
        bin("s6-sudod").into(),
        "--audit".into(),
    ];
    v.extend(sargv.iter().map(OsString::from));
    server_argv(&path, &v, &[])
}

const EPERM: &str =
    "s6-sudoc: fatal: unable to start privileged program: server answered: : Operation not permitted\n";

fn check_policy(mut s: Server, mark: &Path) {
    // Allowed: one argument matching in full.
    let o = client(&sudo(Impl::Real, &[], &s.path, &["ticker"]), &[], b"");
    assert_eq!(parts(&o), (Some(0), "restart ticker\n".into(), String::new()));
    let spawned = s.expect_line("spawned", |l| l.contains(": spawned: "));
    let pid = spawned.split(" pid ").nth(1).unwrap().split(':').next().unwrap().to_owned();
    assert!(spawned.starts_with("s6-sudod: info: uid 0 gid 0 pid "), "{spawned}");
    assert!(
        spawned
            .ends_with(&format!(": spawned: sh -c 'touch {}; echo restart \"$@\"' x ticker", mark.display())),
        "{spawned}"
    );
    s.expect(&format!("s6-sudod: info: uid 0 gid 0 pid {pid}: exited 0"));
    std::fs::remove_file(mark).unwrap();

    // An argument outside the regex.
    let o = client(&sudo(Impl::Real, &[], &s.path, &["-x"]), &[], b"");
    assert_eq!(parts(&o), (Some(111), String::new(), EPERM.into()));
    s.expect_line("refusal", |l| {
        l.starts_with("s6-sudod: info: uid 0 gid 0: refused: request refused: client argument 1 does not match S6RS_SUDO_ARGS_ERE: sh -c ")
            && l.ends_with(" x -x")
    });
    s.expect("s6-sudod: fatal: request refused: client argument 1 does not match S6RS_SUDO_ARGS_ERE");
    expect_end(&mut s, "exitcode 1");
    // A partial match is not a match.
    let o = client(&sudo(Impl::Real, &[], &s.path, &["ticker;rm"]), &[], b"");
    assert_eq!(parts(&o), (Some(111), String::new(), EPERM.into()));
    s.expect_line("refusal", |l| l.contains(": refused: ") && l.ends_with(" x 'ticker;rm'"));

    // One argument too many.
    let o = client(&sudo(Impl::Real, &[], &s.path, &["ticker", "ticker"]), &[], b"");
    assert_eq!(parts(&o), (Some(111), String::new(), EPERM.into()));
    s.expect_line("refusal", |l| {
        l.contains(": refused: request refused: 2 client arguments, S6RS_SUDO_ARGS_MAX allows 1: ")
    });
    expect_end(&mut s, "exitcode 1");
    assert!(!mark.exists(), "a refused request ran");
}

const ENV: &[(&str, &str)] = &[("S6RS_SUDO_ARGS_ERE", "[a-z]+\n"), ("S6RS_SUDO_ARGS_MAX", "1\n")];

fn sargv(mark: &Path) -> Vec<String> {
    vec!["sh".into(), "-c".into(), format!("touch {}; echo restart \"$@\"", mark.display()), "x".into()]
}

#[test]
fn policy_behind_our_in_process_access_check() {
    let t = TempDir::new("pol-inproc");
    let mark = marker(&t);
    let sargv = sargv(&mark);
    let s = inprocess(&t, &rules(&t, ENV), &sargv.iter().map(String::as_str).collect::<Vec<_>>());
    check_policy(s, &mark);
}

#[test]
fn policy_behind_real_s6_ipcserver_access() {
    let t = TempDir::new("pol-chained");
    let mark = marker(&t);
    let sargv = sargv(&mark);
    let s = chained(&t, &rules(&t, ENV), &sargv.iter().map(String::as_str).collect::<Vec<_>>());
    check_policy(s, &mark);
}

#[test]
fn the_policy_fails_closed_and_is_not_passed_on() {
    let t = TempDir::new("pol-bad");
    let mark = marker(&t);
    let sargv = sargv(&mark);
    let sargv: Vec<&str> = sargv.iter().map(String::as_str).collect();
    let mut s = inprocess(&t, &rules(&t, &[("S6RS_SUDO_ARGS_ERE", "(a\n")]), &sargv);
    let o = client(&sudo(Impl::Ours, &[], &s.path, &["a"]), &[], b"");
    assert_eq!(parts(&o), (Some(111), String::new(), EPERM.into()));
    s.expect_line("bad ere", |l| {
        l.starts_with("s6-sudod: fatal: refusing every request: invalid S6RS_SUDO_ARGS_ERE: ")
    });
    drop(s);
    let t = TempDir::new("pol-badmax");
    let mut s = inprocess(&t, &rules(&t, &[("S6RS_SUDO_ARGS_MAX", "one\n")]), &sargv);
    let o = client(&sudo(Impl::Ours, &[], &s.path, &[]), &[], b"");
    assert_eq!(parts(&o), (Some(111), String::new(), EPERM.into()));
    s.expect("s6-sudod: fatal: refusing every request: invalid S6RS_SUDO_ARGS_MAX: not a number: \"one\"");
    assert!(!mark.exists());
    // Allowed requests: the program does not see the policy, even where the client offers it.
    let t = TempDir::new("pol-hidden");
    let env = [("S6RS_SUDO_ARGS_MAX", "3\n"), ("SHOWN", "\n")];
    let s = inprocess(&t, &rules(&t, &env), &["sh", "-c", "echo \"${S6RS_SUDO_ARGS_MAX-unset} $SHOWN\""]);
    let o =
        client(&sudo(Impl::Ours, &[], &s.path, &[]), &[("SHOWN", "yes"), ("S6RS_SUDO_ARGS_MAX", "9")], b"");
    assert_eq!(parts(&o), (Some(0), "unset yes\n".into(), String::new()));
}
