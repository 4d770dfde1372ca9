//! The run-script chain-loaders side by side with Debian's s6 2.11: the same command line
//! through our program and through `/usr/bin/<program>` must leave the final program in the
//! same state (environment, limits, session and process group, signal mask and
//! dispositions, open fds, locks), and fail with the same codes and messages.
//!
//! Where 2.15 (our target) differs from 2.11, the test says so and checks both sides:
//! s6-setsid's controlling terminal, s6-setlock `-d` and `-t`, s6-softlimit `-P`,
//! s6-fghack's status for a killed prog.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::runhelpers::*;
use crate::support::*;

/// Our program and Debian's, same name.
fn both(name: &str) -> [(&'static str, PathBuf); 2] {
    [("ours", bin(name)), ("real", real(name))]
}

/// Runs the same arguments through ours and real, returning both outcomes.
fn side_by_side(name: &str, args: &[&str]) -> [(Option<i32>, String, String); 2] {
    both(name).map(|(_, p)| outcome(cmd(p, args)))
}

/// Asserts ours and real agree on exit code, stdout and stderr for `args`.
fn same(name: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let [ours, real] = side_by_side(name, args);
    assert_eq!(ours, real, "{name} {args:?}: ours vs real");
    ours
}

/// The final program's fds as `N -> target` lines (ls's own directory fd included, the same
/// number on both sides). Pipe inode numbers and pids are blanked: they differ per run.
const FDS: &[&str] = &[
    "sh",
    "-c",
    "ls -l /proc/self/fd | awk 'NR > 1 { print $9, $10, $11 }' | sed 's/pipe:\\[[0-9]*\\]/pipe/; s,/proc/[0-9]*/,/proc/PID/,'",
];

// --- s6-envdir ---

#[test]
fn envdir_same_environment_for_every_option() {
    let t = TempDir::new("i-envdir");
    let d = golden_envdir(&t);
    std::fs::write(d.join("LONG"), vec![b'z'; 5000]).unwrap();
    let ds = d.to_str().unwrap();
    let opts: &[&[&str]] =
        &[&[], &["-i"], &["-n"], &["-f"], &["-fn"], &["-c", "_"], &["-c_"], &["-I"], &["-fL"], &["-nL"]];
    for o in opts {
        let mut a = o.to_vec();
        a.extend([ds, "env", "-0"]);
        let [ours, real] = both("s6-envdir").map(|(_, p)| {
            let mut c = cmd(p, &a);
            c.env("EMPTY", "preset").env("FOO", "old").env("KEEP", "kept");
            outcome(c)
        });
        assert_eq!(ours.0, Some(0), "{o:?}: {}", ours.2);
        // Byte for byte, order included: changes are applied in readdir order.
        assert_eq!(ours, real, "s6-envdir {o:?}");
    }
}

#[test]
fn envdir_unclamped_first_line_without_newline_differs_on_purpose() {
    // skalibs' -L first-line reader drops a last line that has no newline (NAME=); we keep
    // it, as the documentation describes and every other mode does.
    let t = TempDir::new("i-envdir-l");
    let d = t.join("env");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("NONL"), "abc").unwrap();
    let ds = d.to_str().unwrap();
    let [ours, real] = side_by_side("s6-envdir", &["-L", ds, "printenv", "NONL"]);
    assert_eq!(ours.1, "abc\n");
    assert_eq!(real.1, "\n");
}

#[test]
fn envdir_same_failures() {
    let t = TempDir::new("i-envdir-fail");
    let d = t.join("env");
    std::fs::create_dir_all(d.join("SUB")).unwrap();
    let noexec = t.join("noexec");
    std::fs::write(&noexec, "#!/bin/sh\n").unwrap();
    let ds = d.to_str().unwrap();
    let missing = t.join("missing");
    let ms = missing.to_str().unwrap();
    assert_eq!(same("s6-envdir", &[ms, "true"]).0, Some(111));
    assert_eq!(same("s6-envdir", &["-i", ms, "true"]).0, Some(111));
    assert_eq!(same("s6-envdir", &["-I", ms, "sh", "-c", "echo loose"]).1, "loose\n");
    assert_eq!(same("s6-envdir", &["-I", ds, "true"]).0, Some(111), "a subdirectory entry");
    assert_eq!(same("s6-envdir", &["-c", "", ms, "true"]).0, Some(111));
    std::fs::remove_dir(d.join("SUB")).unwrap();
    assert_eq!(same("s6-envdir", &[ds, "nosuchprog"]).0, Some(127));
    assert_eq!(same("s6-envdir", &[ds, noexec.to_str().unwrap()]).0, Some(126));
    assert_eq!(same("s6-envdir", &["-I", ms, "nosuchprog"]).0, Some(127));
    // Usage: same code; the synopses name -c's argument differently.
    let [ours, real] = side_by_side("s6-envdir", &[ds]);
    assert_eq!((ours.0, real.0), (Some(100), Some(100)));
}

// --- s6-softlimit ---

#[test]
fn softlimit_same_limits_for_every_letter_and_mode() {
    const G: &str = "1073741824";
    let cases: &[&[&str]] = &[
        &["-a", G],
        &["-c", "0"],
        &["-d", G],
        &["-f", G],
        &["-l", "65536"],
        &["-m", G],
        &["-o", "64"],
        &["-p", "1000"],
        &["-r", G],
        &["-s", "4194304"],
        &["-t", "100"],
        &["-o", "="],
        &["-o", "999999999999"],
        &["-H", "-o", "300"],
        &["-H", "-c", "="],
        &["-h", "-c", "1000"],
        &["-h", "-c", "="],
        &["-o", "64", "-h", "-c", "1000", "-H", "-s", "4194304"],
        &["-x", "-o", "64"],
    ];
    for args in cases {
        let [ours, real] = both("s6-softlimit").map(|(_, p)| probe(probing(p, args)));
        assert_eq!(ours.limits, real.limits, "s6-softlimit {args:?}");
    }
}

#[test]
fn softlimit_same_failures() {
    assert_eq!(same("s6-softlimit", &["-H", "-o", "=", "true"]).0, Some(111));
    assert_eq!(same("s6-softlimit", &["-o", "64", "nosuchprog"]).0, Some(127));
    let [ours, real] = side_by_side("s6-softlimit", &["-o", "lots", "true"]);
    assert_eq!((ours.0, real.0), (Some(100), Some(100)));
    let [ours, real] = side_by_side("s6-softlimit", &["-o", "64"]);
    assert_eq!((ours.0, real.0), (Some(100), Some(100)));
}

#[test]
fn softlimit_differences_from_2_11() {
    // -P (RTPRIO) is new in 2.14: 2.11 skips the unknown option and runs "0" as prog.
    let [ours, real] = side_by_side("s6-softlimit", &["-P", "0", "true"]);
    assert_eq!((ours.0, real.0), (Some(0), Some(127)));
    // -h under the soft limit: the documentation says the soft limit follows; 2.11 (and
    // 2.15's code) fail in setrlimit with EINVAL.
    let [ours, real] =
        both("s6-softlimit").map(|(_, p)| outcome(probing(p, &["-o", "200", "-h", "-o", "100"])));
    assert_eq!(ours.0, Some(0));
    assert_eq!(Probe::parse(&ours.1).soft_hard("Max open files"), ("100".into(), "100".into()));
    assert_eq!(
        (real.0, real.2.as_str()),
        (Some(111), "s6-softlimit: fatal: unable to setrlimit: Invalid argument\n")
    );
}

// --- s6-setsid ---

/// Session and group relations of a probed process, which must match across
/// implementations (the pids themselves differ).
fn relations(p: &Probe) -> (bool, bool, bool, bool, String, String) {
    let me = std::process::id() as i32;
    (
        p.session == p.pid,
        p.pgrp == p.pid,
        p.ppid == me,
        p.tpgid == p.pid,
        p.sig_ign.clone(),
        p.sig_blk.clone(),
    )
}

#[test]
fn setsid_same_session_and_group() {
    for args in
        [&[][..], &["-s"], &["-b"], &["-bs"], &["-sb"], &["-q"], &["-i"], &["-I"], &["-b", "-q", "-I"]]
    {
        let [ours, real] = both("s6-setsid").map(|(_, p)| relations(&probe(probing(p, args))));
        assert_eq!(ours, real, "s6-setsid {args:?}");
    }
}

#[test]
fn setsid_same_failures_as_group_leader() {
    for args in [&[][..], &["-I"], &["-i"], &["-q"], &["-b"], &["-i", "-b"]] {
        let [ours, real] = both("s6-setsid").map(|(_, p)| {
            let mut c = cmd(p, args);
            c.args(["sh", "-c", "echo ran"]).process_group(0);
            outcome(c)
        });
        assert_eq!(ours, real, "s6-setsid {args:?} as a group leader");
    }
    // Without a controlling terminal but with -d: the same warnings.
    for args in [&["-g", "-d", "0"][..], &["-f", "-d", "0"], &["-q", "-g", "-d", "0"]] {
        let [ours, real] = both("s6-setsid").map(|(_, p)| {
            let mut c = cmd("setsid", &[p.to_str().unwrap()]);
            c.args(args).args(["sh", "-c", "echo ran"]);
            outcome(c)
        });
        assert_eq!(ours, real, "setsid s6-setsid {args:?}");
    }
}

#[test]
fn setsid_same_foreground_group_on_a_terminal() {
    let pty = Pty::new();
    // fd 0 is the terminal, which 2.11 uses and 2.15 finds again through /dev/tty. (2.11's
    // -g is left out: its tcsetpgrp from a background group spins forever instead of
    // ignoring SIGTTOU; -f under a shell that ignores SIGTTOU does the same job.)
    for (args, pre) in [("-f", "trap '' TTOU; "), ("-f -d 0", "trap '' TTOU; "), ("-b", ""), ("-s", "")] {
        let [ours, real] = both("s6-setsid").map(|(_, p)| {
            let p = pty.probe(&format!(
                "{pre}{} {args} cat /proc/self/stat /proc/self/status /proc/self/limits",
                p.display()
            ));
            (p.session == p.pid, p.pgrp == p.pid, p.tpgid == p.pid, p.sig_ign, p.sig_blk)
        });
        assert_eq!(ours, real, "s6-setsid {args} on a terminal");
    }
}

#[test]
fn setsid_2_15_finds_the_terminal_through_dev_tty() {
    // fd 0 is not the terminal: 2.11 fails tcsetpgrp on fd 0 and warns; 2.15 opens
    // /dev/tty and takes the terminal.
    let pty = Pty::new();
    let script = |p: &Path| {
        format!(
            "trap '' TTOU; exec 0</dev/null; {} -f cat /proc/self/stat /proc/self/status /proc/self/limits",
            p.display()
        )
    };
    let ours = pty.probe(&script(&bin("s6-setsid")));
    assert_eq!((ours.pgrp, ours.tpgid), (ours.pid, ours.pid));
    let real = pty.probe(&script(&real("s6-setsid")));
    assert_eq!(real.pgrp, real.pid);
    assert_ne!(real.tpgid, real.pid);
    // No controlling terminal and no -d: 2.15 cannot open /dev/tty (fatal); 2.11 warns about
    // fd 0 and runs prog.
    let [ours, real] =
        both("s6-setsid").map(|(_, p)| outcome(cmd("setsid", &[p.to_str().unwrap(), "-f", "true"])));
    assert_eq!(ours.0, Some(111));
    assert_eq!(real.0, Some(0));
}

// --- s6-setlock ---

#[test]
fn setlock_locks_interoperate_both_ways() {
    let t = TempDir::new("i-setlock");
    let f = t.join("lockfile");
    let fs = f.to_str().unwrap();
    for (holder_name, holder) in both("s6-setlock") {
        for (mode, shared_ok) in [("-w", false), ("-r", true)] {
            let h = hold(&holder, &[mode, fs]);
            let kind = if mode == "-r" { libc::F_RDLCK } else { libc::F_WRLCK };
            assert_eq!(lock_owner(&f, libc::F_WRLCK), Some((kind, h.pid() as i32)), "{holder_name} {mode}");
            for (name, prog) in both("s6-setlock") {
                let (code, _, _) = outcome(cmd(&prog, &["-n", fs, "true"]));
                assert_eq!(code, Some(1), "{name} -n while {holder_name} holds {mode}");
                let (code, _, _) = outcome(cmd(&prog, &["-n", "-r", fs, "true"]));
                assert_eq!(
                    code,
                    Some(if shared_ok { 0 } else { 1 }),
                    "{name} -n -r while {holder_name} holds {mode}"
                );
            }
            h.release();
        }
    }
}

#[test]
fn setlock_same_fds_flags_and_messages() {
    let t = TempDir::new("i-setlock-fds");
    let f = t.join("lockfile");
    let fs = f.to_str().unwrap();
    for mode in ["-w", "-r"] {
        let fds = same("s6-setlock", &[&[mode, fs][..], FDS].concat());
        assert!(fds.1.contains(fs), "{fds:?}");
        let flags = "grep -h flags /proc/self/fdinfo/*";
        same("s6-setlock", &[mode, fs, "sh", "-c", flags]);
    }
    let h = hold(&real("s6-setlock"), &[fs]);
    let (code, _, err) = same("s6-setlock", &["-n", fs, "true"]);
    assert_eq!(
        (code, err),
        (Some(1), format!("s6-setlock: fatal: unable to lock {fs}: Device or resource busy\n"))
    );
    // -t: both give up with 1 (2.11 times out through its helper, with another message).
    let [ours, real] = side_by_side("s6-setlock", &["-t", "200", fs, "true"]);
    assert_eq!((ours.0, real.0), (Some(1), Some(1)));
    h.release();
    let bad = t.join("no/dir/lock");
    same("s6-setlock", &[bad.to_str().unwrap(), "true"]);
    same("s6-setlock", &["-r", bad.to_str().unwrap(), "true"]);
    same("s6-setlock", &[fs, "nosuchprog"]);
}

#[test]
fn setlock_d_is_2_15_only() {
    let t = TempDir::new("i-setlock-d");
    let fs = t.join("lockfile");
    let [ours, real] =
        side_by_side("s6-setlock", &["-d", "5", fs.to_str().unwrap(), "readlink", "/proc/self/fd/5"]);
    assert_eq!((ours.0, ours.1), (Some(0), format!("{}\n", fs.display())));
    assert_eq!(real.0, Some(100));
}

// --- s6-fghack ---

#[test]
fn fghack_same_fds_and_statuses() {
    let count = "ls /proc/self/fd | wc -l; exit 3";
    let [ours, real] = side_by_side("s6-fghack", &["sh", "-c", count]);
    assert_eq!((ours.0, &ours.1), (real.0, &real.1), "same number of fds and the same status");
    let [ours, real] = side_by_side("s6-fghack", &["sh", "-c", "echo x >&9"]);
    assert_eq!(ours.0, Some(102));
    assert_eq!(ours.0, real.0);
    // 2.15 warns that the program is obsolescent; the rest of stderr is the same.
    let ours_err: String = ours.2.lines().skip(1).map(|l| format!("{l}\n")).collect();
    assert_eq!(ours_err, real.2);
    // A killed prog: 2.15 relays 128 + signal; 2.11 exits 111 ("crashed").
    let [ours, real] = side_by_side("s6-fghack", &["sh", "-c", "kill -KILL $$"]);
    assert_eq!((ours.0, real.0), (Some(137), Some(111)));
}

// --- everything a chain-loader hands on ---

/// The chain-loaders' command lines (before prog) for the hand-on comparisons.
fn chainloaders(t: &TempDir) -> Vec<(&'static str, Vec<String>)> {
    let env = t.join("env");
    std::fs::create_dir_all(&env).unwrap();
    std::fs::write(env.join("X"), "1\n").unwrap();
    let lock = t.join("lock");
    vec![
        ("s6-envdir", vec![env.display().to_string()]),
        ("s6-softlimit", vec!["-o".into(), "64".into()]),
        ("s6-setsid", vec!["-q".into()]),
        ("s6-setlock", vec![lock.display().to_string()]),
        ("s6-setlock", vec!["-r".into(), lock.display().to_string()]),
    ]
}

#[test]
fn chainloaders_hand_on_signal_state_like_real() {
    let t = TempDir::new("i-sigstate");
    for (name, pre) in chainloaders(&t) {
        for traps in ["", "trap '' PIPE HUP USR1 TERM; ", "trap '' CHLD ALRM INT; "] {
            let [ours, real] = both(name).map(|(_, p)| {
                let line = format!(
                    "{traps}exec {} {} cat /proc/self/stat /proc/self/status /proc/self/limits",
                    p.display(),
                    pre.join(" ")
                );
                let p = probe(cmd("sh", &["-c", &line]));
                (p.sig_ign, p.sig_blk)
            });
            assert_eq!(ours, real, "{name} {pre:?} under `{traps}`");
        }
        // A blocked mask passes through untouched too.
        let [ours, real] = both(name).map(|(_, p)| {
            let mut c = cmd(p, &pre);
            c.args(PROBE);
            // SAFETY: sigprocmask in the child before exec; async-signal-safe.
            unsafe {
                c.pre_exec(|| {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, libc::SIGUSR2);
                    libc::sigaddset(&mut set, libc::SIGTERM);
                    libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                    Ok(())
                });
            }
            let p = probe(c);
            (p.sig_ign, p.sig_blk)
        });
        assert_eq!(ours, real, "{name} {pre:?} with SIGUSR2 and SIGTERM blocked");
        assert_eq!(ours.1, "0000000000004800");
    }
}

#[test]
fn chainloaders_hand_on_the_same_fds() {
    let t = TempDir::new("i-fds");
    for (name, pre) in chainloaders(&t) {
        let pre: Vec<&str> = pre.iter().map(String::as_str).collect();
        let args = [&pre[..], FDS].concat();
        let [ours, real] = both(name).map(|(_, p)| {
            let mut c = cmd(p, &args);
            c.stdin(Stdio::null());
            outcome(c)
        });
        assert_eq!(ours, real, "{name} {pre:?}: open fds of prog");
    }
}

#[test]
fn the_run_script_chain_matches_real() {
    // `s6-envdir DIR s6-softlimit -o 64 s6-setsid prog`, each link found through PATH as in
    // a run script: our bin directory first, or Debian's.
    let t = TempDir::new("i-chain");
    let env = golden_envdir(&t);
    let ours_dir = bin("s6-envdir").parent().unwrap().to_path_buf();
    let paths = [format!("{}:/usr/bin:/bin", ours_dir.display()), "/usr/bin:/bin".to_owned()];
    let chain = |path: &str, tail: &[&str]| {
        let mut c = cmd("s6-envdir", &[env.to_str().unwrap(), "s6-softlimit", "-o", "64", "s6-setsid"]);
        c.args(tail).env("PATH", path);
        outcome(c)
    };
    let [ours, real] = paths.clone().map(|p| chain(&p, &["env", "-0"]));
    let strip_path = |o: &(Option<i32>, String, String)| {
        o.1.split('\0').filter(|kv| !kv.starts_with("PATH=")).collect::<Vec<_>>().join("\0")
    };
    assert_eq!(ours.0, Some(0), "{}", ours.2);
    assert_eq!(strip_path(&ours), strip_path(&real), "environment at the end of the chain");
    let [ours, real] = paths.clone().map(|p| {
        let o = chain(&p, PROBE);
        assert_eq!(o.0, Some(0), "{}", o.2);
        let p = Probe::parse(&o.1);
        (p.session == p.pid, p.pgrp == p.pid, p.sig_ign.clone(), p.sig_blk.clone(), p.limits)
    });
    assert_eq!(ours, real, "process state at the end of the chain");
    // And the chain really ran ours: only 2.15's s6-setsid knows --session.
    assert_eq!(chain(&paths[0], &["--session", "true"]).0, Some(0));
    assert_eq!(chain(&paths[1], &["--session", "true"]).0, Some(100));
}
