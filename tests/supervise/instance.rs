//! s6-instance-maker, -create, -delete, -control, -status and -list: an instanced service
//! made by ours runs under our s6-svscan with two instances; real s6's (2.11) instance
//! tools and ours work on each other's instances and instanced services; the layout
//! s6-instance-maker writes is real s6's; bad input gets a clear error and the tree goes on.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use s6rs_supervise::cmd::svok::is_supervised;

use super::clients_util::{err, ours, out, status, svscan as real_svscan, theirs, T};
use super::svscan::{alive, start, stop, supervisors, wait_supervised};
use crate::support::*;

/// A template whose `run` records its argument (the instance name) and whose logger's
/// `run` records its own (`NAME/log`).
fn template(root: &Path) -> PathBuf {
    let tpl = root.join("tpl");
    std::fs::create_dir_all(tpl.join("log")).unwrap();
    script(
        &tpl.join("run"),
        "#!/bin/sh\necho \"$1\" > arg.tmp\nmv arg.tmp arg\necho \"hello from $1\" >&2\nexec sleep 1000\n",
    );
    script(&tpl.join("log/run"), "#!/bin/sh\necho \"$1\" > arg.tmp\nmv arg.tmp arg\nexec cat >/dev/null\n");
    tpl
}

fn os<'a>(args: &[&'a str]) -> Vec<&'a OsStr> {
    args.iter().map(|s| OsStr::new(*s)).collect()
}

fn check(o: &Output, what: &str) {
    assert!(o.status.success(), "{what}: exit {:?}, stderr: {}", o.status.code(), err(o));
}

/// The instances, sorted.
fn list(prog: fn(&str, &[&OsStr]) -> Output, svc: &Path) -> Vec<String> {
    let o = prog("s6-instance-list", &[svc.as_os_str()]);
    check(&o, "s6-instance-list");
    let mut v: Vec<String> = out(&o).lines().map(str::to_owned).collect();
    v.sort();
    v
}

fn ours_os(name: &str, args: &[&OsStr]) -> Output {
    ours(name, args)
}

fn theirs_os(name: &str, args: &[&OsStr]) -> Output {
    theirs(name, args)
}

/// Runs `prog` on `svc` with `args` before it and `name` after it.
fn on(prog: fn(&str, &[&OsStr]) -> Output, tool: &str, args: &[&str], svc: &Path, name: &str) -> Output {
    let mut v = os(args);
    v.push(svc.as_os_str());
    v.push(OsStr::new(name));
    prog(tool, &v)
}

/// A scan directory in `t` with one service, a link named `svc` to the instanced service.
fn scan_of(t: &TempDir, svc: &Path) -> PathBuf {
    let scan = t.join("scan");
    std::fs::create_dir_all(&scan).unwrap();
    std::os::unix::fs::symlink(svc, scan.join("svc")).unwrap();
    scan
}

/// Waits until the instance supervisor of `svc` runs and is ready (notification-fd 3), and
/// registers it and its supervisors for cleanup.
fn wait_instanced(tree: &mut Tree, svc: &Path) -> i32 {
    wait_supervised(svc);
    // The lock is taken before the first status file is written (as real s6-supervise
    // does), and s6-svwait needs the file.
    assert!(wait_until(T, || svc.join("supervise/status").exists()));
    check(&ours("s6-svwait", &os(&["-U", "-t", "10000", svc.to_str().unwrap()])), "s6-svwait -U");
    let pid = status(svc).pid as i32;
    tree.adopt(pid);
    pid
}

/// Waits until instance `name` is up and has recorded its argument; registers its pid,
/// its logger's and their supervisors' for cleanup; returns the instance's pid.
fn wait_instance(tree: &mut Tree, nested: i32, svc: &Path, name: &str) -> i32 {
    wait_instance_logged(tree, nested, svc, name, true)
}

/// [`wait_instance`]; the logger is only waited for when `logger_up` (created with `-D`, an
/// instance's logger keeps its `./down`, as upstream's).
fn wait_instance_logged(tree: &mut Tree, nested: i32, svc: &Path, name: &str, logger_up: bool) -> i32 {
    check(&on(ours_os, "s6-instance-control", &["-wu", "-T", "10000"], svc, name), "s6-instance-control -wu");
    let dir = svc.join("instances").join(name);
    assert!(
        wait_until(T, || std::fs::read_to_string(dir.join("arg")).is_ok_and(|s| s == format!("{name}\n")))
    );
    assert!(
        !logger_up
            || wait_until(T, || std::fs::read_to_string(dir.join("log/arg"))
                .is_ok_and(|s| s == format!("{name}/log\n")))
    );
    for (pid, _) in supervisors(nested as u32) {
        tree.adopt(pid);
    }
    let pid = status(&dir).pid as i32;
    tree.adopt(pid);
    tree.adopt(status(&dir.join("log")).pid as i32);
    pid
}

#[test]
fn instances_under_our_svscan_with_ours_and_real_tools() {
    let t = TempDir::new("instance");
    let mut tree = Tree::new();
    let tpl = template(t.path());
    let svc = t.join("svc");
    let logdir = t.join("logs");
    let o = ours(
        "s6-instance-maker",
        &os(&["-L", logdir.to_str().unwrap(), "-c", "20", tpl.to_str().unwrap(), svc.to_str().unwrap()]),
    );
    check(&o, "s6-instance-maker");
    assert!(std::fs::read_to_string(svc.join("run")).unwrap().contains("-d3 -C40 -- instance"));

    let scan = scan_of(&t, &svc);
    let sv = start(&mut tree, &scan, &[]);
    let nested = wait_instanced(&mut tree, &svc);

    // Two instances; the name is each one's parameter.
    check(&on(ours_os, "s6-instance-create", &["-t", "10000"], &svc, "alpha"), "create alpha");
    // Both supervisors (instance and logger) run as soon as create returns.
    assert!(is_supervised(&svc.join("instance/alpha")).unwrap());
    assert!(is_supervised(&svc.join("instance/alpha/log")).unwrap());
    check(&on(ours_os, "s6-instance-create", &["-t", "10000"], &svc, "beta"), "create beta");
    assert_eq!(std::fs::read_link(svc.join("instance/beta")).unwrap(), Path::new("../instances/beta"));
    let alpha = wait_instance(&mut tree, nested, &svc, "alpha");
    let beta = wait_instance(&mut tree, nested, &svc, "beta");
    assert_ne!(alpha, beta);
    assert_eq!(list(ours_os, &svc), ["alpha", "beta"]);
    assert_eq!(list(theirs_os, &svc), ["alpha", "beta"]);

    // Status: ours and real's print the same fields.
    for name in ["alpha", "beta"] {
        let args = ["-o", "up,wantedup,normallyup,ready,pid"];
        let (a, b) = (
            on(ours_os, "s6-instance-status", &args, &svc, name),
            on(theirs_os, "s6-instance-status", &args, &svc, name),
        );
        check(&a, "our s6-instance-status");
        assert_eq!(out(&a), out(&b), "{name}: {}", err(&b));
        assert!(out(&a).starts_with("true true true"), "{}", out(&a));
        let (a, b) = (
            on(ours_os, "s6-instance-status", &["-upN"], &svc, name),
            on(theirs_os, "s6-instance-status", &["-upN"], &svc, name),
        );
        assert_eq!(out(&a), out(&b));
    }
    let o = on(ours_os, "s6-instance-status", &[], &svc, "alpha");
    assert!(out(&o).starts_with(&format!("up (pid {alpha} pgid {alpha})")), "{}", out(&o));

    // The instances' output reaches the catch-all logger of the instanced service.
    assert!(wait_until(T, || std::fs::read_to_string(logdir.join("current"))
        .is_ok_and(|s| s.contains("hello from alpha") && s.contains("hello from beta"))));

    // Control one: down, and it stays down.
    check(&on(ours_os, "s6-instance-control", &["-wd", "-T", "10000", "-d"], &svc, "alpha"), "control -d");
    assert!(wait_until(T, || !alive(alpha)));
    let o = on(ours_os, "s6-instance-status", &["-o", "up,wantedup"], &svc, "alpha");
    assert_eq!(out(&o), "false false\n");
    assert_eq!(
        out(&on(theirs_os, "s6-instance-status", &["-o", "up,wantedup"], &svc, "alpha")),
        "false false\n"
    );
    // Real s6's control works on our instances too.
    check(
        &on(theirs_os, "s6-instance-control", &["-wu", "-T", "10000", "-u"], &svc, "alpha"),
        "real control -u",
    );
    let alpha = status(&svc.join("instances/alpha")).pid as i32;
    tree.adopt(alpha);
    assert!(alpha > 0 && alive(alpha));

    // Delete one: its supervisors are gone when delete returns, and so is its directory.
    let beta_sup: Vec<i32> =
        supervisors(nested as u32).into_iter().filter(|(_, n)| n == "beta").map(|(p, _)| p).collect();
    assert_eq!(beta_sup.len(), 1);
    check(&on(ours_os, "s6-instance-delete", &["-t", "10000"], &svc, "beta"), "delete beta");
    assert!(!svc.join("instances/beta").exists());
    assert!(std::fs::symlink_metadata(svc.join("instance/beta")).is_err());
    assert!(wait_until(T, || !alive(beta) && !alive(beta_sup[0])));
    assert_eq!(list(ours_os, &svc), ["alpha"]);

    // An instance made by real s6-instance-create, seen and deleted by ours.
    check(&on(theirs_os, "s6-instance-create", &["-t", "10000"], &svc, "gamma"), "real create gamma");
    let gamma = wait_instance(&mut tree, nested, &svc, "gamma");
    assert_eq!(list(ours_os, &svc), ["alpha", "gamma"]);
    check(&on(ours_os, "s6-instance-delete", &["-t", "10000"], &svc, "gamma"), "delete gamma");
    assert!(!svc.join("instances/gamma").exists());
    assert!(wait_until(T, || !alive(gamma)));
    // And one of ours deleted by real s6-instance-delete.
    check(&on(theirs_os, "s6-instance-delete", &["-t", "10000"], &svc, "alpha"), "real delete alpha");
    assert!(!svc.join("instances/alpha").exists());
    assert!(wait_until(T, || !alive(alpha)));
    assert!(list(ours_os, &svc).is_empty());

    // The whole tree ends with our s6-svscan.
    check(&on(ours_os, "s6-instance-create", &["-t", "10000"], &svc, "delta"), "create delta");
    let delta = wait_instance(&mut tree, nested, &svc, "delta");
    assert_eq!(stop(&mut tree, &sv), Some(0), "{}", sv.errors());
    assert!(wait_until(T, || !alive(delta) && !alive(nested)));
}

#[test]
fn real_instanced_service_driven_by_our_tools() {
    let t = TempDir::new("instance-real");
    let mut tree = Tree::new();
    let tpl = template(t.path());
    let svc = t.join("svc");
    check(&theirs("s6-instance-maker", &os(&[tpl.to_str().unwrap(), svc.to_str().unwrap()])), "real maker");
    let scan = scan_of(&t, &svc);
    let _scan = real_svscan(&mut tree, &scan);
    let nested = wait_instanced(&mut tree, &svc);

    check(&on(ours_os, "s6-instance-create", &["-D", "-t", "10000"], &svc, "one"), "create -D");
    assert!(svc.join("instances/one/down").exists());
    for (pid, _) in supervisors(nested as u32) {
        tree.adopt(pid);
    }
    assert_eq!(
        out(&on(ours_os, "s6-instance-status", &["-o", "up,normallyup"], &svc, "one")),
        "false false\n"
    );
    check(&on(ours_os, "s6-instance-create", &["-d", "-t", "10000"], &svc, "two"), "create -d");
    assert!(!svc.join("instances/two/down").exists());
    assert_eq!(
        out(&on(theirs_os, "s6-instance-status", &["-o", "up,normallyup"], &svc, "two")),
        "false true\n"
    );
    check(&on(ours_os, "s6-instance-control", &["-wu", "-T", "10000", "-u"], &svc, "one"), "control -u");
    assert!(svc.join("instances/one/log/down").exists());
    let one = wait_instance_logged(&mut tree, nested, &svc, "one", false);
    assert_eq!(list(ours_os, &svc), ["one", "two"]);
    assert_eq!(list(theirs_os, &svc), ["one", "two"]);
    let args = ["-o", "up,wantedup,normallyup,ready,pid"];
    assert_eq!(
        out(&on(ours_os, "s6-instance-status", &args, &svc, "one")),
        out(&on(theirs_os, "s6-instance-status", &args, &svc, "one"))
    );
    check(&on(ours_os, "s6-instance-delete", &["-t", "10000"], &svc, "one"), "delete one");
    check(&on(ours_os, "s6-instance-delete", &["-X"], &svc, "two"), "delete -X two");
    assert!(wait_until(T, || !alive(one)));
    assert!(wait_until(T, || supervisors(nested as u32).is_empty()));
    assert!(list(theirs_os, &svc).is_empty());
}

/// Every file under `dir`, with its contents (run scripts excepted: ours are sh scripts
/// naming our programs) and whether it is executable.
fn tree_of(dir: &Path) -> Vec<(String, Option<Vec<u8>>, bool)> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let mode = md.permissions().mode() & 0o7777;
            if md.is_dir() {
                v.push((rel, None, mode == 0o755));
                stack.push(p);
            } else {
                let generated_run = rel == "run" || rel.ends_with("/run") && !rel.contains("template");
                let body = if generated_run { None } else { Some(std::fs::read(&p).unwrap()) };
                v.push((rel, body, mode & 0o111 != 0));
            }
        }
    }
    v.sort();
    v
}

#[test]
fn maker_writes_real_s6s_layout() {
    let t = TempDir::new("instance-maker");
    let tpl = template(t.path());
    let tpl = tpl.to_str().unwrap();
    for args in [
        &[][..],
        &["-L", "/var/log/x", "-u", "nobody"][..],
        &["-r", "a"][..],
        &["-r", "a/b/c", "-L", "/l"][..],
        &["-r", "a/b", "-L", "/l"][..],
    ] {
        let (mine, real) = (t.join("mine"), t.join("real"));
        let mut a = os(args);
        a.push(OsStr::new(tpl));
        let mut m = a.clone();
        m.push(mine.as_os_str());
        let mut r = a.clone();
        r.push(real.as_os_str());
        check(&ours("s6-instance-maker", &m), "our maker");
        check(&theirs("s6-instance-maker", &r), "real maker");
        assert_eq!(tree_of(&mine), tree_of(&real), "{args:?}");
        // The destination must not exist (without -r).
        if args.is_empty() {
            let o = ours("s6-instance-maker", &m);
            assert_eq!(o.status.code(), Some(111));
            assert_eq!(
                err(&o),
                format!("s6-instance-maker: fatal: unable to mkdir {}: File exists\n", mine.display())
            );
        }
        std::fs::remove_dir_all(&mine).unwrap();
        std::fs::remove_dir_all(&real).unwrap();
    }
}

#[test]
fn bad_input_gets_clear_errors_and_the_tree_goes_on() {
    let t = TempDir::new("instance-bad");
    let mut tree = Tree::new();
    let tpl = template(t.path());
    let svc = t.join("svc");
    check(&ours("s6-instance-maker", &os(&[tpl.to_str().unwrap(), svc.to_str().unwrap()])), "maker");

    // Not running yet: never started (no lock file), then started and stopped.
    let o = on(ours_os, "s6-instance-create", &[], &svc, "x");
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        err(&o),
        format!("s6-instance-create: fatal: unable to open {}/instance/.s6-svscan/lock: No such file or directory\n", svc.display())
    );
    std::fs::create_dir_all(svc.join("instance/.s6-svscan")).unwrap();
    std::fs::write(svc.join("instance/.s6-svscan/lock"), "").unwrap();
    for (prog, args) in [
        ("s6-instance-create", &["x"][..]),
        ("s6-instance-delete", &["x"][..]),
        ("s6-instance-list", &[][..]),
    ] {
        let mut a = vec![svc.as_os_str()];
        a.extend(args.iter().map(OsStr::new));
        let o = ours(prog, &a);
        assert_eq!(o.status.code(), Some(1), "{prog}");
        assert_eq!(err(&o), format!("{prog}: fatal: instanced service not running on {}\n", svc.display()));
    }
    // No copy is left behind by a refused create.
    assert!(!svc.join("instances/x").exists());

    let scan = scan_of(&t, &svc);
    let _sv = start(&mut tree, &scan, &[]);
    let nested = wait_instanced(&mut tree, &svc);
    check(&on(ours_os, "s6-instance-create", &["-t", "10000"], &svc, "ok"), "create ok");
    wait_instance(&mut tree, nested, &svc, "ok");

    let long = "n".repeat(252);
    for name in ["", ".hidden", "a/b", "../x", "a b", "a\nb", long.as_str()] {
        for prog in ["s6-instance-create", "s6-instance-delete", "s6-instance-control", "s6-instance-status"]
        {
            let o = on(ours_os, prog, &[], &svc, name);
            assert_eq!(
                (o.status.code(), err(&o)),
                (Some(100), format!("{prog}: fatal: invalid instance name\n")),
                "{name:?}"
            );
        }
    }
    // An existing instance, and a file in the way.
    let o = on(ours_os, "s6-instance-create", &[], &svc, "ok");
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(
        err(&o),
        format!(
            "s6-instance-create: fatal: instance appears to already exist at {}/instances/ok\n",
            svc.display()
        )
    );
    std::fs::write(svc.join("instances/file"), "").unwrap();
    let o = on(ours_os, "s6-instance-create", &[], &svc, "file");
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(
        err(&o),
        format!(
            "s6-instance-create: fatal: unexpected file preventing instance creation at {}/instances/file\n",
            svc.display()
        )
    );
    // A service path that is a file.
    let file = t.join("plain");
    std::fs::write(&file, "").unwrap();
    let o = on(ours_os, "s6-instance-create", &[], &file, "x");
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        err(&o),
        format!("s6-instance-create: fatal: unable to mkdir {}/instances: Not a directory\n", file.display())
    );
    let o = ours("s6-instance-list", &[file.as_os_str()]);
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        err(&o),
        format!("s6-instance-list: fatal: unable to chdir to {}/instance: Not a directory\n", file.display())
    );
    // A create that times out takes its copy and link back: the instance supervisor is
    // stopped, so it cannot pick the new instance up.
    std::fs::remove_file(svc.join("instances/file")).unwrap();
    // SAFETY: plain kill of the nested s6-svscan, a pid registered with the tree.
    unsafe { libc::kill(nested, libc::SIGSTOP) };
    let o = on(ours_os, "s6-instance-create", &["-t", "300"], &svc, "slow");
    // SAFETY: as above.
    unsafe { libc::kill(nested, libc::SIGCONT) };
    assert_eq!(o.status.code(), Some(99), "{}", err(&o));
    assert_eq!(
        err(&o),
        format!(
            "s6-instance-create: fatal: unable to create instance of {} named slow: Connection timed out\n",
            svc.display()
        )
    );
    assert!(!svc.join("instances/slow").exists());
    assert!(std::fs::symlink_metadata(svc.join("instance/slow")).is_err());
    for (pid, _) in supervisors(nested as u32) {
        tree.adopt(pid);
    }

    // The tree still runs, with its instance.
    assert!(is_supervised(&svc).unwrap());
    let o = on(ours_os, "s6-instance-status", &["-o", "up"], &svc, "ok");
    assert_eq!(out(&o), "true\n");
    assert!(list(ours_os, &svc).contains(&"ok".to_owned()));
}
