//! A real client of the whole tree: skarnet's s6-rc 0.5.4.x, unchanged, drives a supervision
//! tree made of our programs only. s6-rc runs every oneshot through `s6-sudo` on its
//! `s6rc-oneshot-runner` service (`s6-ipcserver-socketbinder` → `s6-ipcserverd` →
//! `s6-ipcserver-access` → `s6-sudod`), and wires longrun pipelines through its
//! `s6rc-fdholder` service.
//!
//! s6-rc is not packaged here and CI cannot fetch it, so the test runs only when
//! `S6RS_S6RC_PREFIX` names an s6-rc install prefix (README, beside the test command, says
//! how to build one); without it the test says it is skipped and passes. s6-rc must be
//! built so that it finds s6 programs through PATH: Debian's `s6/config.h` bakes
//! `/usr/bin/` into `S6_EXTBINPREFIX`, so the build overrides that header with an empty
//! prefix.
//!
//! The tree's PATH holds no /usr/bin at all: first a directory of symlinks to our binaries,
//! then s6-rc's `bin`, execline's `/usr/lib/execline/bin`, and a directory of the few
//! non-s6 tools the scripts use (`sh`, `cat`, ...). An s6 program we lack is then "not
//! found" instead of silently the real one; the test also reads `/proc/PID/exe` of every
//! process in the tree and of `s6-sudod`, the parent of the oneshot.
//!
//! The one program from Debian's s6 that runs is `/usr/bin/s6-ftrigrd`, which `s6-rc-init` spawns through Debian's libs6 (the
//! path is compiled into that library, and s6 has no PATH lookup for it) to wait for our
//! supervisors' start events. It is outside the tree and s6-rs has no such helper.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::supervise::svscan;
use crate::support::*;

const T: Duration = Duration::from_secs(30);

/// The variable naming the s6-rc install prefix (with `bin/s6-rc` and `libexec/`).
const PREFIX_VAR: &str = "S6RS_S6RC_PREFIX";

/// Where Debian's execline keeps its programs, which s6-rc's compiled scripts call.
const EXECLINE_BIN: &str = "/usr/lib/execline/bin";

/// Non-s6 programs the scripts below and s6-rc's compiled scripts run through PATH.
const TOOLS: &[&str] = &["sh", "cat", "sleep", "echo", "readlink"];

/// The directory cargo built our programs in.
fn our_bindir() -> PathBuf {
    bin("s6-svscan").parent().unwrap().to_path_buf()
}

/// Fills `dir` with a symlink to each of our s6 programs.
fn our_path_dir(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(our_bindir()).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let is_prog = (name.starts_with("s6-") || name == "ucspilogd") && !name.contains('.');
        if is_prog && e.file_type().unwrap().is_file() {
            symlink(e.path(), dir.join(&name)).unwrap();
        }
    }
}

/// The canonical path of a process's executable.
fn exe(pid: i32) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default()
}

/// One process: pid, start time (pids come back fast under load, `pid_max` is often
/// 32768, so a pid alone does not name a process for long) and executable.
struct Proc {
    pid: i32,
    start: u64,
    exe: PathBuf,
    /// The pid of the process whose children list held it (0 for the root).
    parent: i32,
}

impl Proc {
    fn of(pid: i32, parent: i32) -> Option<Proc> {
        let (_, start) = proc_stat(pid)?;
        Some(Proc { pid, start, exe: exe(pid), parent })
    }

    /// Whether this very process still runs (a zombie has finished).
    fn alive(&self) -> bool {
        proc_stat(self.pid).is_some_and(|(state, start)| start == self.start && state != 'Z')
    }
}

/// A process and all its descendants, as found now.
fn processes(pid: i32) -> Vec<Proc> {
    let mut out: Vec<Proc> = Proc::of(pid, 0).into_iter().collect();
    let mut i = 0;
    while i < out.len() {
        let p = out[i].pid;
        let kids = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        out.extend(kids.split_whitespace().filter_map(|k| Proc::of(k.parse().ok()?, p)));
        i += 1;
    }
    out
}

/// The processes of the tree, kept for checks and cleanup: Drop SIGKILLs each one that
/// still runs, so that a test failing midway leaves nothing behind.
struct Snapshot(Vec<Proc>);

impl Snapshot {
    /// One line per process: pid, parent and executable.
    fn table(&self) -> String {
        self.0.iter().map(|p| format!("{} (of {}) {}\n", p.pid, p.parent, p.exe.display())).collect()
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        for p in self.0.iter().filter(|p| p.alive()) {
            // SAFETY: kill of a process this test's tree started, checked alive just now.
            unsafe { libc::kill(p.pid, libc::SIGKILL) };
        }
    }
}

/// The source database: a oneshot that records its runs and its parents' executables, a
/// longrun, and a producer/consumer pipeline of two longruns.
fn source_db(src: &Path, work: &Path) {
    let w = work.display();
    let svc = |name: &str, files: &[(&str, &str)]| {
        let d = src.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (f, body) in files {
            std::fs::write(d.join(f), body).unwrap();
        }
    };
    // s6-rc-compile parses up/down as execline: one command line each. The shell finds its
    // parent, s6-sudod, and that one's parent, s6-ipcserverd.
    let record = |what: &str| {
        format!(
            "sh -c \"echo {what} >> {w}/proof ; set -- $(cat /proc/$PPID/stat) ; \
             readlink /proc/$PPID/exe /proc/$4/exe > {w}/{what}.parents\"\n"
        )
    };
    svc("hello", &[("type", "oneshot\n"), ("up", &record("up")), ("down", &record("down"))]);
    svc("ticker", &[("type", "longrun\n"), ("run", "#!/bin/sh\nexec sleep 1000\n")]);
    svc(
        "producer",
        &[
            ("type", "longrun\n"),
            ("producer-for", "consumer\n"),
            ("run", "#!/bin/sh\nwhile echo line ; do sleep 1 ; done\n"),
        ],
    );
    svc(
        "consumer",
        &[
            ("type", "longrun\n"),
            ("consumer-for", "producer\n"),
            ("pipeline-name", "pipe\n"),
            ("run", &format!("#!/bin/sh\nexec cat > {w}/consumed\n")),
        ],
    );
    for name in ["ticker", "producer", "consumer"] {
        let run = src.join(name).join("run");
        script(&run, &std::fs::read_to_string(&run).unwrap());
    }
}

#[test]
fn s6rc_drives_a_tree_of_our_programs() {
    let Some(prefix) = std::env::var_os(PREFIX_VAR) else {
        eprintln!("s6rc_drives_a_tree_of_our_programs: skipped: {PREFIX_VAR} not set");
        return;
    };
    let prefix = PathBuf::from(prefix);
    let s6rc = |name: &str| {
        let p = prefix.join("bin").join(name);
        assert!(p.exists(), "{} is missing: {PREFIX_VAR} must name an s6-rc install prefix", p.display());
        p
    };
    assert!(Path::new(EXECLINE_BIN).is_dir(), "execline is missing: apt-get install execline");

    let t = TempDir::new("s6rc");
    let work = t.path();
    let ours = t.join("ours");
    our_path_dir(&ours);
    let tools = t.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    for name in TOOLS {
        symlink(Path::new("/bin").join(name), tools.join(name)).unwrap();
    }
    let path = std::env::join_paths([ours.clone(), prefix.join("bin"), EXECLINE_BIN.into(), tools]).unwrap();
    let with_path = |prog: PathBuf| {
        let mut c = Command::new(prog);
        c.env("PATH", &path);
        c
    };
    let ok = |c: Command| {
        let out = run(c, T);
        assert!(out.status.success(), "{:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
        out
    };

    let src = t.join("src");
    source_db(&src, work);
    let compiled = t.join("compiled");
    let mut c = with_path(s6rc("s6-rc-compile"));
    c.arg(&compiled).arg(&src);
    ok(c);

    let scan = t.join("scan");
    std::fs::create_dir_all(&scan).unwrap();
    let mut tree = Tree::new();
    let sv = svscan::start_env(&mut tree, &bin("s6-svscan"), &scan, &[], &[("PATH", path.as_os_str())]);

    let live = t.join("live");
    let mut c = with_path(s6rc("s6-rc-init"));
    c.arg("-c").arg(&compiled).arg("-l").arg(&live).arg(&scan);
    ok(c);
    let rc = |args: &[&str]| {
        let mut c = with_path(s6rc("s6-rc"));
        c.arg("-l").arg(&live).args(args);
        ok(c)
    };

    rc(&["-u", "change", "hello", "ticker", "pipe"]);
    // Everything that now runs is registered for cleanup before any assertion can fail.
    // The tree when it has settled: one supervisor per service, each a child of s6-svscan
    // (a supervisor's child between its fork and its exec also shows as s6-supervise).
    let supervise = std::fs::canonicalize(ours.join("s6-supervise")).unwrap();
    let settled = |ps: &[Proc]| {
        let sups: Vec<&Proc> = ps.iter().filter(|p| p.exe == supervise).collect();
        sups.len() == 5 && sups.iter().all(|p| p.parent == sv.pid as i32)
    };
    let mut found = processes(sv.pid as i32);
    let stable = wait_until(T, || {
        found = processes(sv.pid as i32);
        settled(&found)
    });
    let snap = Snapshot(found);
    let (procs, table) = (&snap.0, snap.table());
    assert!(stable, "not one s6-supervise of ours per longrun and per s6-rc service:\n{table}");

    assert_eq!(std::fs::read_to_string(t.join("proof")).unwrap(), "up\n");
    let status = String::from_utf8(ok(st_cmd(&live)).stdout).unwrap();
    assert!(status.starts_with("up (pid "), "ticker is not up: {status}");
    let consumed = t.join("consumed");
    assert!(
        wait_until(T, || std::fs::read_to_string(&consumed).is_ok_and(|s| s.starts_with("line\n"))),
        "the consumer never read the producer's lines"
    );

    // The tree is ours: the scanner, a supervisor per service, the oneshot runner's server.
    let canon = |name: &str| std::fs::canonicalize(ours.join(name)).unwrap();
    assert_eq!(procs[0].exe, canon("s6-svscan"), "{table}");
    assert!(procs.iter().any(|p| p.exe == canon("s6-ipcserverd")), "no s6-ipcserverd of ours:\n{table}");
    assert!(procs.iter().any(|p| p.exe == canon("s6-fdholderd")), "no s6-fdholderd of ours:\n{table}");
    for Proc { pid, exe: e, .. } in procs {
        let real = e.starts_with("/usr/bin")
            && e.file_name().is_some_and(|n| n.to_string_lossy().starts_with("s6-"));
        assert!(!real, "process {pid} runs real s6 {}:\n{table}", e.display());
    }
    // The oneshot ran under our s6-sudod, itself under our s6-ipcserverd.
    let parents = std::fs::read_to_string(t.join("up.parents")).unwrap();
    assert_eq!(parents, format!("{}\n{}\n", canon("s6-sudod").display(), canon("s6-ipcserverd").display()));

    rc(&["-d", "change", "hello"]);
    assert_eq!(std::fs::read_to_string(t.join("proof")).unwrap(), "up\ndown\n");
    assert_eq!(std::fs::read_to_string(t.join("down.parents")).unwrap(), parents);

    rc(&["-da", "change"]);
    let status = String::from_utf8(ok(st_cmd(&live)).stdout).unwrap();
    assert!(status.starts_with("down "), "ticker is still up: {status}");

    let out = svscan::svscanctl(&["-t"], &scan);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(tree.wait_exit(sv.pid, T).is_some(), "s6-svscan did not exit after -t: {}", sv.errors());
    for p in &procs[1..] {
        assert!(
            wait_until(T, || !p.alive()),
            "process {} ({}) outlived its tree:\n{table}",
            p.pid,
            p.exe.display()
        );
    }
}

/// Our s6-svstat on the ticker's live service directory.
fn st_cmd(live: &Path) -> Command {
    let mut c = Command::new(bin("s6-svstat"));
    c.arg(live.join("servicedirs/ticker"));
    c
}
