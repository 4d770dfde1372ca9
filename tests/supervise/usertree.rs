//! s6-usertree-maker, checked against its 2.15 documentation: the service directory it
//! writes, and that directory at work under our s6-svscan and s6-supervise. Against
//! Debian's 2.11: the same files, modes, settings and logger directives, and the same
//! refusals; not the run scripts byte for byte, since Debian's are execline scripts naming
//! Debian's binaries where ours are shell scripts naming ours.
//!
//! Running the tree needs root (s6-applyuidgid sets the supplementary groups even for the
//! same user); as another user, only the written directories are checked.

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

fn q(p: &Path) -> String {
    format!("'{}'", p.display())
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
    ignoring_signals(&mut c, &[]);
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

/// What [`layout`] sees of one file: its relative path, whether it is a directory, its mode.
type Entry = (String, bool, u32);

/// Each file under `dir`, relative, with its type and mode, sorted; and the contents of
/// those that are not run scripts.
fn layout(dir: &Path) -> (Vec<Entry>, Vec<(String, String)>) {
    let mut files = Vec::new();
    let mut contents = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let is_dir = p.is_dir();
            files.push((rel.clone(), is_dir, mode(&p)));
            if is_dir {
                todo.push(p);
            } else if !rel.ends_with("run") {
                contents.push((rel, read(&p)));
            }
        }
    }
    files.sort();
    contents.sort();
    (files, contents)
}

/// The words of a logger's run script after `s6-log`, without quotes (Debian's quotes with
/// `"`, ours with `'`).
fn log_words(run: &str) -> Vec<String> {
    let words: Vec<&str> = run.split_whitespace().collect();
    let at = words.iter().position(|w| w.trim_matches(['"', '\'']).ends_with("/s6-log")).expect("s6-log");
    words[at + 1..].iter().map(|w| w.trim_matches(['"', '\'']).to_owned()).collect()
}

/// Debian's s6-usertree-maker and ours write the same files with the same modes and the
/// same settings, and give their loggers the same directives, with and without `-r`.
#[test]
fn usertree_maker_writes_the_same_files_as_debians() {
    let t = TempDir::new("usertree-interop");
    let cases: &[&[&str]] = &[
        &["-d", "/srv/${USER}/service", "-E", "/etc/env", "-e", "XDG_CONFIG_HOME", "ska", "/var/log/ska"],
        &[
            "-t",
            "3",
            "-n",
            "4",
            "-s",
            "5000",
            "-S",
            "90000",
            "-P",
            "tree:",
            "-l",
            "log",
            "ska",
            "/var/log/ska",
        ],
        &["-t", "0", "-r", "svc/logger/pipe", "ska", "/var/log/ska"],
        &["-t", "2", "-r", "svc/logger", "ska", "/var/log/ska"],
    ];
    for (i, args) in cases.iter().enumerate() {
        let real_dir = t.join(&format!("real{i}"));
        let our_dir = t.join(&format!("ours{i}"));
        let mut c = Command::new(real("s6-usertree-maker"));
        c.args(*args).arg(&real_dir);
        let o = run(c, T);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        let mut ours = args.to_vec();
        let d = our_dir.display().to_string();
        ours.push(&d);
        let o = maker(&ours);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(layout(&our_dir), layout(&real_dir), "{args:?}");
        let log = if args.contains(&"-r") { "logger/run" } else { "log/run" };
        assert_eq!(log_words(&read(&our_dir.join(log))), log_words(&read(&real_dir.join(log))), "{args:?}");
    }
    // The same refusals, with the same messages and codes.
    for args in [
        &["ska", "logs", "d"][..],
        &["-d", "service", "ska", "/l", "d"][..],
        &["-t", "4", "ska", "/l", "d"][..],
        &["-r", "a", "ska", "/l", "d"][..],
        &["-r", "a/b/c/d", "ska", "/l", "d"][..],
        &["-Z", "ska", "/l", "d"][..],
    ] {
        let mut c = Command::new(real("s6-usertree-maker"));
        c.args(args).current_dir(t.path());
        let r = run(c, T);
        let mut c = Command::new(bin("s6-usertree-maker"));
        c.args(args).current_dir(t.path());
        let o = run(c, T);
        assert_eq!(
            (o.status.code(), String::from_utf8_lossy(&o.stderr)),
            (r.status.code(), String::from_utf8_lossy(&r.stderr)),
            "{args:?}"
        );
    }
}
