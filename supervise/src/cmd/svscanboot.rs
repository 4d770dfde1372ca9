//! `s6-svscanboot [ -c devconsole ] [ -D catchalldir ] [ -m catchallmode ] [ -l catchalluser ]
//! [ -o catchalloptions ] [ -d notif ] [ -C services_max ] [ -L name_max ] [ -t rescan ]
//! [ --catchall-stdout ] scandir` (new in 2.15.1): start a supervision tree that logs its own output, for an outer
//! service manager. Upstream doc/s6-svscanboot.html; INVENTORY.md §1.1.
//!
//! In order: the catch-all log directory (`-D`, default `/run/uncaught-logs`) is created
//! if needed, given to `-l`'s user (only when root; otherwise `-l` is ignored with a
//! warning) and set to mode `-m` (octal, default 02750); the scandir is created if needed;
//! `scandir/s6-svscan-log` is removed and made again as the catch-all logger's service
//! directory: `notification-fd` (3), `run`, and the fifo `fifo` (0600) the tree writes into.
//! Then stdin becomes /dev/null, the console (`-c` device, else our stderr) is parked on fd
//! 3 (4 when `-d 3`), and stdout and stderr go into the fifo. The fifo has no reader yet, so
//! it is opened for reading without blocking, then for writing (which needs a reader), and
//! the reading end is closed again. Last, it execs `s6-svscan -X console [-d] [-C] [-L]
//! [-t] -- scandir`. Output written while no logger reads the fifo fails with EPIPE, as
//! upstream's does.
//!
//! s6-svscan, and in the logger's run script s6-log and s6-setuidgid, are our sibling
//! programs (`exec::sibling`), named by absolute path, never looked up in PATH.
//!
//! The run script is a `/bin/sh` script where upstream writes an execline one: it does the
//! same (stdout onto stderr, stdin from the fifo, `-l`'s user, an empty environment, then
//! `s6-log -bpd3 -- OPTIONS DIR`) without needing execline. The logger's stdin is opened
//! blocking where execline's `redirfd -rnb` does not block: s6-svscan and every supervisor
//! hold the fifo's writing end for the tree's whole life, so the open never waits.
//!
//! As upstream's code, `-X` is not accepted (the synopsis on the page lists it, but the
//! program passes its own), and the undocumented `-u`/`--user` puts a relative or absent
//! `-D` under `$XDG_RUNTIME_DIR` (default `$XDG_RUNTIME_DIR/uncaught-logs`).
//! `-C` is raised to 4 and lowered to 160000, `-L` kept within 11..=1019, as upstream does.
//!
//! s6-rs extension, `--catchall-stdout` (a long option only, so that no letter upstream may
//! take is used): the catch-all logger also copies every line
//! it reads, as it comes (no stamp, before any of `-o`'s selections), to s6-svscanboot's
//! standard output, so that a container runtime collecting the entry point's output sees
//! the whole tree's. The tree itself cannot write there: its stdout is the fifo, and a `1`
//! directive in `-o` would only reach the console, our stderr by default. So the console
//! parked for s6-svscan's `-X` becomes a copy of our stdout instead of our stderr (the
//! logger's run script already points its stdout at its stderr, which is the console), and
//! `1` is put before `-o`'s directives. The logger's own error messages then go to that
//! stdout as well. Upstream's nearest form, `-c /dev/stdout -o "1 t"`, reopens the file
//! through /proc: it fails on a socket or without /proc, and on a regular file it writes
//! from offset 0 over what was there; a copy of the descriptor has none of these problems.
//! It and `-c` both choose the console, so they are refused together.

use std::ffi::OsString;
use std::fs::{DirBuilder, File, OpenOptions};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use s6rs_sys::cli::{self, parse_uint, show, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::{self, chainload};
use s6rs_sys::{fd, proc, user};

use crate::script;

/// The command line, as 2.15.1's program prints it, with its long options.
pub const SPEC: Spec = Spec {
    name: "s6-svscanboot",
    operands: "scandir",
    about: "Starts s6-svscan on scandir with its own output, and that of the whole tree, going \
            to a catch-all s6-log service it creates in scandir.",
    doc: "s6-svscanboot.html",
    flags: &[
        Flag::arg(
            'c',
            "devconsole",
            Show::Own,
            "the catch-all logger's own errors go to this device (default: our stderr)",
        )
        .long("console"),
        Flag::arg('D', "catchalldir", Show::Own, "the catch-all log directory (default /run/uncaught-logs)")
            .long("catchall-directory"),
        Flag::arg('m', "catchallmode", Show::Own, "its mode, in octal (default 02750)").long("catchall-mode"),
        Flag::arg('l', "catchalluser", Show::Own, "run the catch-all logger as this user (root only)")
            .long("catchall-user"),
        Flag::arg(
            'o',
            "catchalloptions",
            Show::Own,
            "s6-log directives for the catch-all logger (default t)",
        )
        .long("catchall-options"),
        Flag::arg('d', "notif", Show::Own, "passed to s6-svscan: notify readiness on this fd")
            .long("notification-fd"),
        Flag::arg('C', "services_max", Show::Own, "passed to s6-svscan: room for this many services")
            .long("services-max"),
        Flag::arg('L', "name_max", Show::Own, "passed to s6-svscan: longest service name").long("name-max"),
        Flag::arg('t', "rescan", Show::Own, "passed to s6-svscan: rescan every this many milliseconds")
            .long("timeout"),
        Flag::new(
            's',
            Show::LongOwn,
            "s6-rs extension: the catch-all logger also copies every line to our stdout, as it comes",
        )
        .long("catchall-stdout"),
        Flag::new('u', Show::Hidden, "user tree: a relative or absent -D goes under $XDG_RUNTIME_DIR")
            .long("user"),
    ],
};

/// The logger's service directory, inside the scandir.
const LOGGER: &str = "s6-svscan-log";

/// What the command line asks for.
struct Options {
    console: Option<OsString>,
    dir: Option<OsString>,
    mode: u32,
    user: Option<String>,
    directives: String,
    notif: Option<i32>,
    services_max: Option<u32>,
    name_max: Option<u32>,
    rescan: Option<u32>,
    user_tree: bool,
    /// `--catchall-stdout`: the logger copies every line to our stdout (s6-rs extension).
    stdout_copy: bool,
}

fn uint(opt: &cli::Opt, name: &str) -> Result<u32, Fatal> {
    parse_uint(opt.arg_str()).ok_or_else(|| Fatal::bad(format!("{name} must be an unsigned integer")))
}

fn parse(args: &[OsString]) -> Result<(Options, OsString), Fatal> {
    let mut o = Options {
        console: None,
        dir: None,
        mode: 0o2750,
        user: None,
        directives: "t".into(),
        notif: None,
        services_max: None,
        name_max: None,
        rescan: None,
        user_tree: false,
        stdout_copy: false,
    };
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next_long() {
        let opt = opt.map_err(|e| e.fatal(&SPEC.usage()))?;
        let arg = || opt.arg.clone().unwrap_or_default();
        match opt.c {
            'c' => o.console = Some(arg()),
            'D' => o.dir = Some(arg()),
            'm' => {
                let s = opt.arg_str();
                o.mode = (!s.is_empty() && s.bytes().all(|b| (b'0'..=b'7').contains(&b)))
                    .then(|| u32::from_str_radix(s, 8).ok())
                    .flatten()
                    .ok_or_else(|| Fatal::bad("catchall-mode must be an (octal) unsigned integer"))?;
            }
            'l' => o.user = Some(opt.arg_str().to_owned()),
            'o' => o.directives = opt.arg_str().to_owned(),
            'd' => {
                let n = uint(&opt, "notification-fd")?;
                if n < 3 {
                    return Err(Fatal::bad("notification-fd must be 3 or greater"));
                }
                let n = i32::try_from(n)
                    .map_err(|_| Fatal::bad("notification-fd must be an unsigned integer"))?;
                if !fd::is_open(n) {
                    let e = std::io::Error::from_raw_os_error(libc::EBADF);
                    return Err(Fatal::new(
                        111,
                        format!("notification-fd sanity check failed: {}", cli::errtext(&e)),
                    ));
                }
                o.notif = Some(n);
            }
            'C' => o.services_max = Some(uint(&opt, "services-max")?.clamp(4, 160_000)),
            'L' => o.name_max = Some(uint(&opt, "name-max")?.clamp(11, 1019)),
            't' => o.rescan = Some(uint(&opt, "timeout")?),
            'u' => o.user_tree = true,
            's' => o.stdout_copy = true,
            _ => return Err(SPEC.usage_error()),
        }
    }
    if o.stdout_copy && o.console.is_some() {
        return Err(Fatal::bad("--catchall-stdout and --console cannot be used together"));
    }
    let [scandir, ..] = g.operands() else { return Err(SPEC.usage_error()) };
    Ok((o, scandir.clone()))
}

/// Runs s6-svscanboot.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (mut o, scandir) = parse(&args)?;
    if o.user.is_some() && proc::euid() != 0 {
        o.user = None;
        cli::warn("ignoring catchall-user option when not root");
    }
    let logdir = catchall_dir(&o, std::env::var_os("XDG_RUNTIME_DIR"))?;
    let owner = match &o.user {
        Some(name) => match user::user_by_name(name) {
            Ok(Some(u)) => Some((u.uid, u.gid)),
            Ok(None) => return Err(Fatal::new(111, format!("getpwnam {name}: No such user"))),
            Err(e) => return Err(Fatal::sys(format_args!("getpwnam {name}"), &e)),
        },
        None => None,
    };
    let shown = show(logdir.as_os_str()).into_owned();
    DirBuilder::new()
        .recursive(true)
        .mode(o.mode & 0o7777)
        .create(&logdir)
        .map_err(|e| Fatal::sys(format_args!("mkdir {shown}"), &e))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&logdir, Some(uid), Some(gid))
            .map_err(|e| Fatal::sys(format_args!("chown {shown}"), &e))?;
    }
    std::fs::set_permissions(&logdir, std::fs::Permissions::from_mode(o.mode & 0o7777))
        .map_err(|e| Fatal::sys(format_args!("chmod {shown}"), &e))?;
    let logdir = if logdir.is_absolute() {
        logdir
    } else {
        std::fs::canonicalize(&logdir).map_err(|e| Fatal::sys(format_args!("realpath {shown}"), &e))?
    };

    let service = Path::new(&scandir).join(LOGGER);
    let fifo = make_logger(&service, &o, &logdir)?;

    // From here on our own stderr goes into the fifo: a failure to exec must be told on the
    // console instead.
    let console_fd = if o.notif == Some(3) { 4 } else { 3 };
    let console = redirect(&o, &fifo, console_fd)?;
    let mut argv: Vec<OsString> =
        vec![exec::sibling("s6-svscan").into(), "-X".into(), console_fd.to_string().into()];
    let mut pass = |flag: &str, v: Option<u32>| {
        if let Some(v) = v {
            argv.push(flag.into());
            argv.push(v.to_string().into());
        }
    };
    pass("-d", o.notif.map(|n| n as u32));
    pass("-C", o.services_max);
    pass("-L", o.name_max);
    pass("-t", o.rescan.filter(|&t| t > 0));
    argv.push("--".into());
    argv.push(scandir);
    let err = chainload(&argv, &[]);
    let _ = fd::dup_to(console.as_fd(), 2);
    Err(err)
}

/// The catch-all directory: `-D`, or its default; with `-u`, a relative one goes under
/// `$XDG_RUNTIME_DIR` (`runtime`).
fn catchall_dir(o: &Options, runtime: Option<OsString>) -> Result<PathBuf, Fatal> {
    let given = o.dir.as_deref().map(Path::new);
    if o.user_tree && !given.is_some_and(Path::is_absolute) {
        let Some(base) = runtime else {
            return Err(Fatal::bad("XDG_RUNTIME_DIR not set"));
        };
        return Ok(Path::new(&base).join(given.unwrap_or(Path::new("uncaught-logs"))));
    }
    Ok(given.unwrap_or(Path::new("/run/uncaught-logs")).to_path_buf())
}

/// The logger's run script.
fn run_script(o: &Options, logdir: &Path) -> Vec<u8> {
    let prog = script::ours_bytes;
    let mut s = b"#!/bin/sh -e\nexec 1>&2 <fifo\nexec ".to_vec();
    if let Some(u) = &o.user {
        s.extend(prog("s6-setuidgid"));
        s.push(b' ');
        s.extend(script::quote_bytes(u.as_bytes()));
        s.push(b' ');
    }
    s.extend_from_slice(b"env -i ");
    s.extend(prog("s6-log"));
    s.extend_from_slice(b" -bpd3 -- ");
    if o.stdout_copy {
        // First, so that neither `-o`'s selections nor its (non-sticky) `t` apply to it.
        s.extend_from_slice(b"1 ");
    }
    s.extend_from_slice(o.directives.as_bytes());
    s.push(b' ');
    s.extend(script::quote_bytes(logdir.as_os_str().as_bytes()));
    s.push(b'\n');
    s
}

/// Makes the logger's service directory afresh; returns its fifo's path.
fn make_logger(service: &Path, o: &Options, logdir: &Path) -> Result<PathBuf, Fatal> {
    let shown = |p: &Path| show(p.as_os_str()).into_owned();
    // As upstream, a failure to remove shows as a failure to make it again.
    let _ = match std::fs::symlink_metadata(service) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(service),
        _ => std::fs::remove_file(service),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o2755)
        .create(service)
        .map_err(|e| Fatal::sys(format_args!("mkdir {}", shown(service)), &e))?;
    let nf = service.join("notification-fd");
    std::fs::write(&nf, b"3\n").map_err(|e| Fatal::sys(format_args!("write to {}", shown(&nf)), &e))?;
    let run = service.join("run");
    let write_run = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o644).open(&run)?;
        f.write_all(&run_script(o, logdir))?;
        f.set_permissions(std::fs::Permissions::from_mode(0o755))
    };
    write_run().map_err(|e| Fatal::sys(format_args!("write to {}", shown(&run)), &e))?;
    let fifo = service.join("fifo");
    fd::mkfifo(&fifo, 0o600).map_err(|e| Fatal::sys(format_args!("mkfifo {}", shown(&fifo)), &e))?;
    Ok(fifo)
}

/// stdin from /dev/null, the console (`-c`'s device, else a copy of our stdout with
/// `--catchall-stdout`, else of our stderr) parked on `console_fd`, stdout and stderr into the fifo. Returns a
/// close-on-exec copy of the console, to report a failed exec on.
fn redirect(o: &Options, fifo: &Path, console_fd: i32) -> Result<OwnedFd, Fatal> {
    let null = File::open("/dev/null").map_err(|e| Fatal::sys("open /dev/null", &e))?;
    std::mem::forget(fd::move_to(null.into(), 0).map_err(|e| Fatal::sys("fd_move /dev/null to stdin", &e))?);
    let console: OwnedFd = match &o.console {
        Some(dev) => OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(dev)
            .map_err(|e| Fatal::sys(format_args!("open {}", show(dev)), &e))?
            .into(),
        None if o.stdout_copy => {
            fd::dup_min(fd::stdout(), 0).map_err(|e| Fatal::sys("fd_copy stdout", &e))?
        }
        None => fd::dup_min(fd::stderr(), 0).map_err(|e| Fatal::sys("fd_copy stderr", &e))?,
    };
    // Above the number the console moves to, so that move cannot close it.
    let keep =
        fd::dup_min(console.as_fd(), console_fd + 1).map_err(|e| Fatal::sys("fd_copy the console", &e))?;
    // The number is s6-svscan's now: exec keeps it open.
    std::mem::forget(fd::move_to(console, console_fd).map_err(|e| Fatal::sys("fd_move the console", &e))?);
    let shown = show(fifo.as_os_str()).into_owned();
    // A writer's open fails (ENXIO) without a reader: hold one just long enough.
    let reader =
        fd::open_read_nb(fifo).map_err(|e| Fatal::sys(format_args!("open {shown} for reading"), &e))?;
    let writer =
        fd::open_write_nb(fifo).map_err(|e| Fatal::sys(format_args!("open {shown} for writing"), &e))?;
    drop(reader);
    let writer: OwnedFd = writer.into();
    fd::set_nonblock(writer.as_fd(), false)
        .map_err(|e| Fatal::sys(format_args!("ndelay_off {shown}"), &e))?;
    let out =
        fd::move_to(writer, 1).map_err(|e| Fatal::sys(format_args!("fd_move {shown} to stdout"), &e))?;
    fd::dup_to(out.as_fd(), 2).map_err(|e| Fatal::sys("fd_copy stdout to stderr", &e))?;
    std::mem::forget(out);
    Ok(keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logger_script_names_our_programs_and_quotes_what_it_must() {
        let (mut o, _) = parse(&["-o".into(), "t s4096".into(), "scan".into()]).unwrap();
        o.user = Some("log'user".into());
        let s = String::from_utf8(run_script(&o, Path::new("/run/it's"))).unwrap();
        let prog = |n: &str| exec::sibling(n).display().to_string();
        assert_eq!(
            s,
            format!(
                "#!/bin/sh -e\nexec 1>&2 <fifo\nexec '{}' 'log'\\''user' env -i '{}' -bpd3 -- t s4096 '/run/it'\\''s'\n",
                prog("s6-setuidgid"),
                prog("s6-log")
            )
        );
    }

    #[test]
    fn stdout_copy_comes_first_in_the_logger_script() {
        let (o, _) =
            parse(&["--catchall-stdout".into(), "-o".into(), "- +x t".into(), "scan".into()]).unwrap();
        let s = String::from_utf8(run_script(&o, Path::new("/logs"))).unwrap();
        let prog = exec::sibling("s6-log").display().to_string();
        assert!(s.ends_with(&format!("env -i '{prog}' -bpd3 -- 1 - +x t '/logs'\n")), "{s}");
        assert!(parse(&["-s".into(), "scan".into()]).is_err(), "an upstream letter may come");
        let (o, _) = parse(&["scan".into()]).unwrap();
        let s = String::from_utf8(run_script(&o, Path::new("/logs"))).unwrap();
        assert!(s.ends_with(" -bpd3 -- t '/logs'\n"), "{s}");
    }

    #[test]
    fn stdout_copy_and_console_are_refused_together() {
        let e = parse(&["-c".into(), "/dev/console".into(), "--catchall-stdout".into(), "scan".into()])
            .err()
            .unwrap();
        assert_eq!(
            (e.code, e.msg.as_str()),
            (100, "--catchall-stdout and --console cannot be used together")
        );
    }

    #[test]
    fn user_tree_places_relative_dirs_under_xdg_runtime_dir() {
        let (mut o, _) = parse(&["-u".into(), "-D".into(), "logs".into(), "scan".into()]).unwrap();
        let rt = || Some(OsString::from("/run/user/7"));
        assert_eq!(catchall_dir(&o, rt()).unwrap(), Path::new("/run/user/7/logs"));
        assert_eq!(catchall_dir(&o, None).err().unwrap().msg, "XDG_RUNTIME_DIR not set");
        o.dir = None;
        assert_eq!(catchall_dir(&o, rt()).unwrap(), Path::new("/run/user/7/uncaught-logs"));
        o.dir = Some("/abs".into());
        assert_eq!(catchall_dir(&o, rt()).unwrap(), Path::new("/abs"));
        o.user_tree = false;
        o.dir = None;
        assert_eq!(catchall_dir(&o, rt()).unwrap(), Path::new("/run/uncaught-logs"));
    }

    #[test]
    fn options_are_checked_and_clamped_as_upstream() {
        let p = |a: &[&str]| parse(&a.iter().map(OsString::from).collect::<Vec<_>>());
        let (o, dir) = p(&["-C", "1", "-L", "5000", "-m", "0750", "s"]).unwrap();
        assert_eq!((o.services_max, o.name_max, o.mode, dir), (Some(4), Some(1019), 0o750, "s".into()));
        assert_eq!(
            p(&["-m", "9", "s"]).err().unwrap().msg,
            "catchall-mode must be an (octal) unsigned integer"
        );
        assert_eq!(p(&["-d", "2", "s"]).err().unwrap().msg, "notification-fd must be 3 or greater");
        assert_eq!(p(&["-t", "x", "s"]).err().unwrap().code, 100);
        assert!(p(&["-X", "3", "s"]).is_err());
    }
}
