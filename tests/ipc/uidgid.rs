//! s6-applyuidgid, s6-envuidgid and s6-setuidgid, side by side with Debian's (run as root:
//! the target account is nobody, 65534). The final program reports the ids it runs with
//! and its whole environment; ours and real must agree byte for byte, exit codes and
//! messages included.

use std::process::Command;

use super::*;

/// The final program: the ids from /proc, then the environment.
const PROBE: &[&str] = &["sh", "-c", "grep -E '^(Uid|Gid|Groups):' /proc/$$/status; exec env"];

fn side(name: &str, args: &[&str], env: &[(&str, &str)]) -> [(Option<i32>, String, String); 2] {
    [Impl::Ours, Impl::Real].map(|imp| {
        let mut c = Command::new(imp.path(name));
        c.args(args).env_clear().envs(BASE_ENV.iter().copied()).envs(env.iter().copied());
        let o = run(c, T);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    })
}

/// Asserts ours and real agree for `args` + PROBE; returns the outcome.
fn same(name: &str, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut a = args.to_vec();
    a.extend_from_slice(PROBE);
    let [ours, real] = side(name, &a, env);
    assert_eq!(ours, real, "{name} {args:?} {env:?}: ours vs real");
    ours
}

fn ids(out: &str) -> Vec<&str> {
    out.lines().take(3).collect()
}

#[test]
fn applyuidgid_sets_groups_then_gid_then_uid() {
    let (code, out, _) = same("s6-applyuidgid", &["-u", "65534", "-g", "65534", "-G", "", "--"], &[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        ids(&out),
        ["Uid:\t65534\t65534\t65534\t65534", "Gid:\t65534\t65534\t65534\t65534", "Groups:\t65534 "]
    );
    let (_, out, _) = same("s6-applyuidgid", &["-u65534", "-g65534", "-G", "3,1,65534,2"], &[]);
    assert_eq!(ids(&out)[2], "Groups:\t1 2 3 65534 ");
    // 0 leaves an id alone; -G alone puts the current gid first.
    same("s6-applyuidgid", &["-g", "65534"], &[]);
    same("s6-applyuidgid", &["-u", "65534"], &[]);
    let (_, out, _) = same("s6-applyuidgid", &["-G", "5,6"], &[]);
    assert_eq!(ids(&out)[2], "Groups:\t0 5 6 ");
    same("s6-applyuidgid", &["-u", "0", "-g", "0"], &[]);
    // A readable prefix of a list is enough.
    same("s6-applyuidgid", &["-G", "7,x"], &[]);
}

#[test]
fn applyuidgid_from_the_environment() {
    let env = [("UID", "65534"), ("GID", "65534"), ("GIDLIST", "7,8")];
    let (_, out, _) = same("s6-applyuidgid", &["-U"], &env);
    assert!(out.contains("UID=65534\n") && out.contains("Groups:\t7 8 65534 "), "{out}");
    let (_, out, _) = same("s6-applyuidgid", &["-Uz"], &env);
    assert!(!out.contains("UID=") && !out.contains("GIDLIST="), "{out}");
    // Later options override the environment.
    let (_, out, _) = same("s6-applyuidgid", &["-U", "-u", "0", "-G", ""], &env);
    assert!(out.starts_with("Uid:\t0\t"), "{out}");
    same("s6-applyuidgid", &["-U"], &[("UID", "65534"), ("GID", "65534"), ("GIDLIST", "")]);
    for env in [
        &[("GID", "1"), ("GIDLIST", "")][..],
        &[("UID", "1"), ("GIDLIST", "")],
        &[("UID", "1"), ("GID", "1")],
        &[("UID", "x"), ("GID", "1"), ("GIDLIST", "")],
        &[("UID", "1"), ("GID", "-1"), ("GIDLIST", "")],
        &[("UID", "1"), ("GID", "1"), ("GIDLIST", "a")],
    ] {
        let (code, _, err) = same("s6-applyuidgid", &["-U"], env);
        assert_eq!(code, Some(100), "{env:?}: {err}");
    }
}

#[test]
fn applyuidgid_usage_and_exec_errors() {
    for args in [&["-u", "x", "true"][..], &["-g"], &[], &["-k", "true"], &["-G", "x", "true"]] {
        let [ours, real] = side("s6-applyuidgid", args, &[]);
        assert_eq!(ours.0, Some(100), "{args:?}");
        assert_eq!(ours, real, "{args:?}");
    }
    let [ours, real] = side("s6-applyuidgid", &["-u", "1", "/nonexistent"], &[]);
    assert_eq!(
        (ours.0, &ours.2),
        (
            Some(127),
            &"s6-applyuidgid: fatal: unable to exec /nonexistent: No such file or directory\n".to_owned()
        )
    );
    assert_eq!(ours, real);
}

#[test]
fn envuidgid_sets_the_accounts_variables() {
    for args in [
        &["nobody"][..],
        &["root"],
        &["postgres"],
        &["-u", "postgres"],
        &["-g", "ssl-cert"],
        &["-B", "postgres:nogroup"],
        &["-B", ":nogroup"],
        &["-B", "postgres:"],
        &["-B", "postgres"],
        &["-nB", "42:43"],
        &["-n", "root"],
        &["-n", "12ab"],
        &["-nu", "77"],
        &["-ng", "88"],
        &["-D", "1:2:3,4", "no-such-user"],
        &["-D", "5", "no-such-user"],
        &["-D", "::9", "-u", "no-such-user"],
        &["-D", "1:2:3", "nobody"],
    ] {
        let (code, out, err) = same("s6-envuidgid", args, &[]);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(out.contains("S6RS_TEST=ipc"), "{args:?}");
    }
    // Without a shell in between, the environment keeps its order: byte for byte.
    let [ours, real] = side("s6-envuidgid", &["postgres", "env"], &[("GID", "old"), ("Z", "z")]);
    assert_eq!(ours, real);
    // GID=old's slot takes the last variable (UID), and the new GID is appended: skalibs'
    // env_merge order.
    assert_eq!(ours.1, "UID=101\nPATH=/usr/bin:/bin\nS6RS_TEST=ipc\nZ=z\nGID=104\nGIDLIST=103\n");
}

#[test]
fn envuidgid_unknown_accounts_exit_1() {
    for args in [
        &["no-such-user"][..],
        &["-u", "no-such-user"],
        &["-g", "no-such-group"],
        &["-B", "root:42"],
        &["-B", "nobody:no-such-group"],
        &["-D", "1:2:3", "-i", "no-such-user"],
        &["-n", "x:1"],
    ] {
        let (code, _, err) = same("s6-envuidgid", args, &[]);
        assert_eq!(code, Some(1), "{args:?}: {err}");
    }
    let (_, _, err) = same("s6-envuidgid", &["no-such-user"], &[]);
    assert_eq!(err, "s6-envuidgid: fatal: unknown user: no-such-user\n");
    for args in [
        &["nobody"][..],
        &[],
        &["-D", "x", "nobody", "true"],
        &["-D", "1:2:y", "a", "true"],
        &["-z", "a", "true"],
    ] {
        let [ours, real] = side("s6-envuidgid", args, &[]);
        assert_eq!(ours.0, Some(100), "{args:?}");
        assert_eq!(ours, real, "{args:?}");
    }
}

#[test]
fn setuidgid_by_name_by_numbers_and_empty() {
    let (code, out, _) = same("s6-setuidgid", &["nobody"], &[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        ids(&out),
        ["Uid:\t65534\t65534\t65534\t65534", "Gid:\t65534\t65534\t65534\t65534", "Groups:\t65534 "]
    );
    assert!(!out.contains("UID=") && !out.contains("GIDLIST="), "-Uz unexports: {out}");
    let (_, out, _) = same("s6-setuidgid", &["postgres"], &[]);
    assert_eq!(ids(&out)[2], "Groups:\t103 104 ");
    let (_, out, _) = same("s6-setuidgid", &["65534:65534"], &[]);
    assert_eq!(ids(&out)[2], "Groups:\t65534 ");
    let (_, out, _) = same("s6-setuidgid", &[""], &[]);
    assert!(out.starts_with("Uid:\t0\t"));
    let (code, _, err) = same("s6-setuidgid", &["no-such-user"], &[]);
    assert_eq!((code, err.as_str()), (Some(1), "s6-envuidgid: fatal: unknown user: no-such-user\n"));
    // Bad numbers are s6-applyuidgid's usage error.
    let (code, _, _) = same("s6-setuidgid", &["x:1"], &[]);
    assert_eq!(code, Some(100));
    let [ours, real] = side("s6-setuidgid", &["nobody"], &[]);
    assert_eq!(
        (ours.0, &ours.2),
        (Some(100), &"s6-setuidgid: usage: s6-setuidgid username prog...\n".to_owned())
    );
    assert_eq!(ours, real);
}

#[test]
fn setuidgid_runs_our_siblings_not_path() {
    // With a PATH that holds only Debian's programs, ours still chains through ours: a
    // sibling found next to the binary, never by PATH (checked by name in the chain's
    // error messages, which carry each program's own name).
    let mut c = Command::new(bin("s6-setuidgid"));
    c.args(["no-such-user", "true"]).env_clear().env("PATH", "/nonexistent");
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "s6-envuidgid: fatal: unknown user: no-such-user\n");
}
