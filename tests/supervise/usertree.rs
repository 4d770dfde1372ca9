//! s6-usertree-maker, checked against its 2.15 documentation: the service directory it
//! writes, and that directory at work under our s6-svscan and s6-supervise. Debian's 2.11
//! has the program, but it writes execline scripts naming Debian's binaries where ours
//! writes shell scripts naming ours, so the two outputs are not compared byte for byte.
//!
//! Running the tree needs root (s6-applyuidgid sets the supplementary groups even for the
//! same user); as another user, only the written directories are checked.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::svscan::{alive, supervisors, svscanctl};
use crate::support::*;

const T: Duration = Duration::from_secs(10);

fn maker(args: &[&str]) -> std::process::Output {
    let mut c = Command::new(bin("s6-usertree-maker"));
    c.args(args);
    run(c, T)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn q(p: &Path) -> String {
    format!("'{}'", p.display())
}

/// Every descendant of `pid`, from /proc's children lists.
fn descendants(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let list = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        for c in list.split_whitespace().filter_map(|c| c.parse().ok()) {
            out.push(c);
            todo.push(c);
        }
    }
    out
}

#[test]
fn usertree_maker_writes_s6_rc_source_directories_with_r() {
    let t = TempDir::new("usertree-rc");
    let dir = t.join("src");
    let o = maker(&["-r", "tree-ska/tree-ska-log/tree-ska-pipeline", "-t", "2", "ska", "/var/log/ska"]);
    assert_eq!(o.status.code(), Some(100), "three operands are needed");
    let o = maker(&[
        "-r",
        "tree-ska/tree-ska-log/tree-ska-pipeline",
        "-t",
        "2",
        "ska",
        "/var/log/ska",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let svc = dir.join("tree-ska");
    let log = dir.join("tree-ska-log");
    assert_eq!(read(&svc.join("type")), "longrun\n");
    assert_eq!(read(&svc.join("producer-for")), "tree-ska-log\n");
    assert_eq!(read(&svc.join("notification-fd")), "3\n");
    assert_eq!(read(&log.join("type")), "longrun\n");
    assert_eq!(read(&log.join("consumer-for")), "tree-ska\n");
    assert_eq!(read(&log.join("pipeline-name")), "tree-ska-pipeline\n");
    assert_eq!(read(&log.join("notification-fd")), "3\n");
    assert_eq!(
        read(&log.join("run")),
        format!("#!/bin/sh -e\nexec {} -bd3 -- T n10 s1000000 '/var/log/ska'\n", q(&bin("s6-log")))
    );
    assert!(read(&svc.join("run")).ends_with(&format!(
        "subst '/usr/bin:/bin'\nPATH=$_out\nexport PATH\nsubst '${{HOME}}/service'\nexec {} -d3 -- \"$_out\"\n",
        q(&bin("s6-svscan"))
    )));
    // s6-rc-compile copies the scripts: they are left as written.
    assert_eq!(mode(&svc.join("run")) & 0o111, 0);
    assert_eq!(mode(&svc), 0o755);
    // dir may exist; the services in it may not.
    let o = maker(&["-r", "tree-ska/other", "ska", "/var/log/ska", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(111));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("s6-usertree-maker: fatal: unable to mkdir "));
}

#[test]
fn usertree_maker_service_runs_the_users_tree_with_its_environment() {
    let me = s6rs_sys::user::user_by_uid(s6rs_sys::proc::euid()).unwrap().expect("the current user");
    let t = TempDir::new("usertree");
    let logs = t.join("logs");
    let scan = t.join("scan");
    std::fs::create_dir_all(&scan).unwrap();
    let envd = t.join("envd");
    std::fs::create_dir_all(&envd).unwrap();
    std::fs::write(envd.join("XDG_CONFIG_HOME"), "${HOME}/.config:${UID}:${GID}:${USER}:${X}\n").unwrap();
    std::fs::write(envd.join("PLAIN"), "${HOME}\n").unwrap();
    let svc = scan.join("usertree");
    let userscan = format!("{}/${{USER}}/service", t.path().display());
    let o = maker(&[
        "-d",
        &userscan,
        "-p",
        "${HOME}/bin:/usr/bin:/bin",
        "-E",
        envd.to_str().unwrap(),
        "-e",
        "XDG_CONFIG_HOME",
        "-e",
        "UNSET_ONE",
        "-l",
        &me.name,
        "-P",
        "tree:",
        "-S",
        "9000000",
        &me.name,
        logs.to_str().unwrap(),
        svc.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(read(&svc.join("notification-fd")), "3\n");
    assert_eq!(read(&svc.join("log/notification-fd")), "3\n");
    assert_eq!(
        read(&svc.join("log/run")),
        format!(
            "#!/bin/sh -e\nexec {} '{}' {} -bd3 -- t n10 s1000000 S9000000 'ptree:' {}\n",
            q(&bin("s6-setuidgid")),
            me.name,
            q(&bin("s6-log")),
            q(&logs)
        )
    );
    assert_eq!(mode(&svc), 0o755);
    assert_eq!(mode(&svc.join("log")), 0o755);
    assert_ne!(mode(&svc.join("run")) & 0o100, 0, "run is not executable");
    assert_ne!(mode(&svc.join("log/run")) & 0o100, 0, "log/run is not executable");
    // The same again fails: the service directory exists.
    let again = maker(&[&me.name, logs.to_str().unwrap(), svc.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(111));

    if s6rs_sys::proc::euid() != 0 {
        eprintln!("usertree: not root, so the tree is not run (s6-applyuidgid needs root)");
        return;
    }
    // The user's own scandir and a service in it that reports its environment.
    let userscan = t.path().join(&me.name).join("service");
    let probe = userscan.join("probe");
    std::fs::create_dir_all(&probe).unwrap();
    let env_file = t.join("probe.env");
    script(
        &probe.join("run"),
        &format!(
            "#!/bin/sh\nenv > {f}.tmp && mv {f}.tmp {f}\nwhile :; do echo probe-says-hello; sleep 0.2; done\n",
            f = env_file.display()
        ),
    );
    std::fs::create_dir_all(&logs).unwrap();
    let mut c = Command::new(bin("s6-svscan"));
    c.arg(&scan).env("S6RS_TEST_LEAK", "parent-tree-data");
    c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(std::fs::File::create(t.join("svscan.err")).unwrap());
    default_signals(&mut c);
    let mut tree = Tree::new();
    let pid = tree.spawn(c);
    let errs = || read(&t.join("svscan.err"));
    assert!(wait_until(T, || env_file.exists()), "the user's service never ran: {}", errs());

    let env = read(&env_file);
    let var = |name: &str| env.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).map(str::to_owned);
    let home = me.home.clone();
    assert_eq!(var("USER").as_deref(), Some(me.name.as_str()));
    assert_eq!(var("HOME").as_deref(), Some(home.as_str()));
    assert_eq!(var("UID"), Some(me.uid.to_string()));
    assert_eq!(var("GID"), Some(me.gid.to_string()));
    assert!(var("GIDLIST").is_some(), "{env}");
    assert_eq!(var("PATH"), Some(format!("{home}/bin:/usr/bin:/bin")));
    assert_eq!(
        var("XDG_CONFIG_HOME"),
        Some(format!("{home}/.config:{}:{}:{}:${{X}}", me.uid, me.gid, me.name))
    );
    assert_eq!(var("UNSET_ONE").as_deref(), Some(""));
    // Only -e variables are substituted.
    assert_eq!(var("PLAIN").as_deref(), Some("${HOME}"));
    assert_eq!(var("S6RS_TEST_LEAK"), None, "the parent tree's environment leaked");

    // The user's tree is up and ready (s6-svscan -d3), its output in the catch-all logdir,
    // after the prefix and the space s6-log puts after it.
    let mut w = Command::new(bin("s6-svwait"));
    w.args(["-U", "-t", "10000"]).arg(&svc);
    assert_eq!(run(w, T).status.code(), Some(0), "the user tree never became ready");
    let current = logs.join("current");
    assert!(
        wait_until(T, || read_opt(&current).contains("tree: probe-says-hello")),
        "the user's output never reached the catch-all logdir: {}",
        errs()
    );
    let mut names: Vec<String> = supervisors(pid as i32 as u32).into_iter().map(|(_, n)| n).collect();
    names.sort();
    assert_eq!(names, ["usertree", "usertree/log"]);

    let everyone = descendants(pid as i32);
    for &p in &everyone {
        tree.adopt(p);
    }
    assert!(everyone.len() >= 6, "{everyone:?}");
    assert_eq!(svscanctl(&["-t"], &scan).status.code(), Some(0));
    assert!(tree.wait_exit(pid, T).is_some(), "s6-svscan did not exit after -t");
    assert!(wait_until(T, || everyone.iter().all(|&p| !alive(p))), "left running: {everyone:?}");
}

fn read_opt(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}
