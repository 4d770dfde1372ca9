//! What to run and what the caller needs: [`Command`] describes the program (argv,
//! environment changes, fds, session, directory, lock, PID namespace) and [`Report`] the
//! caller's need about exec failures, from which the spawn picks its strategy
//! ([`super::strategy`]). Also running a program in place (chain-loading) and finding
//! sibling programs.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::child::{Image, SigPlan};
use super::env::EnvMod;
use crate::cli::{Fatal, EXIT_EXEC, EXIT_NOTFOUND};

/// What the caller needs to learn from a spawn about the program's start; the spawn picks
/// how to start the child from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report<'a> {
    /// Every failure to start the program is the spawn's error (ENOENT if it is missing):
    /// the spawn returns once the program runs.
    ExecFailure,
    /// The spawn does not wait for the exec; a program that is missing or not executable
    /// when spawned is still the spawn's error (checked first). A later exec failure (a bad
    /// interpreter, say) is the child's: it prints the bytes given + the error text on
    /// stderr (nothing if empty) and exits 127 if the file was not found, 126 otherwise.
    Missing(&'a [u8]),
    /// The spawn never waits for the exec: every exec failure is the child's, reported as
    /// with [`Report::Missing`].
    ByChild(&'a [u8]),
}

/// A program to start or exec: every string is stored once, NUL-terminated, so that
/// starting it copies one buffer and the child never allocates.
pub struct Command {
    /// argv strings, environment entries, the directory and the lock path, each followed
    /// by a NUL.
    pub(super) strings: Vec<u8>,
    /// Offsets of the argv strings.
    pub(super) argv: Vec<usize>,
    /// Offset of the program to run when `argv[0]` is not it (see [`Command::arg0`]).
    pub(super) file: Option<usize>,
    /// Environment changes in order: (offset, length of the name, whether it sets a value).
    /// A change that sets is stored `NAME=value`, one that unsets is stored `NAME`.
    pub(super) env: Vec<(usize, usize, bool)>,
    /// (source, target) fd pairs, applied in order.
    pub(super) dups: Vec<(RawFd, RawFd)>,
    /// Private copies made by [`Command::fd`], open until the command is dropped.
    keep: Vec<OwnedFd>,
    pub(super) cwd: Option<usize>,
    /// The lock file's offset and the fd it is held as.
    pub(super) lock: Option<(usize, RawFd)>,
    pub(super) setsid: bool,
    pub(super) newpidns: bool,
}

/// Shows the strings decoded, not the offsets the buffer stores them at.
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |off: usize| String::from_utf8_lossy(self.str_at(off));
        let argv: Vec<_> = self.argv.iter().map(|&a| text(a)).collect();
        let env: Vec<_> = self.env.iter().map(|&(off, _, _)| text(off)).collect();
        f.debug_struct("Command")
            .field("file", &text(self.file.unwrap_or(self.argv[0])))
            .field("argv", &argv)
            .field("env", &env)
            .field("dups", &self.dups)
            .field("cwd", &self.cwd.map(text))
            .field("lock", &self.lock.map(|(off, fd)| (text(off), fd)))
            .field("setsid", &self.setsid)
            .field("newpidns", &self.newpidns)
            .finish_non_exhaustive()
    }
}

fn einval() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

impl Command {
    /// A command from its argv (`argv[0]` is looked up in PATH unless it has a `/`).
    pub fn new<S: AsRef<OsStr>>(argv: &[S]) -> io::Result<Command> {
        if argv.is_empty() {
            return Err(einval());
        }
        let mut c = Command {
            strings: Vec::new(),
            argv: Vec::with_capacity(argv.len()),
            file: None,
            env: Vec::new(),
            dups: Vec::new(),
            keep: Vec::new(),
            cwd: None,
            lock: None,
            setsid: false,
            newpidns: false,
        };
        for a in argv {
            let at = c.push(&[a.as_ref().as_bytes()])?;
            c.argv.push(at);
        }
        Ok(c)
    }

    /// Appends the concatenation of `parts` and a NUL to the strings; returns its offset.
    fn push(&mut self, parts: &[&[u8]]) -> io::Result<usize> {
        if parts.iter().any(|p| p.contains(&0)) {
            return Err(einval());
        }
        let at = self.strings.len();
        for p in parts {
            self.strings.extend_from_slice(p);
        }
        self.strings.push(0);
        Ok(at)
    }

    /// Runs the program with the current environment changed by `mods` (after any changes
    /// given before), as skalibs' `env_merge` orders them.
    pub fn env(&mut self, mods: &[EnvMod]) -> io::Result<&mut Command> {
        for (name, val) in mods {
            let n = name.as_bytes();
            let entry = match val {
                Some(v) => (self.push(&[n, b"=", v.as_bytes()])?, n.len(), true),
                None => (self.push(&[n])?, n.len(), false),
            };
            self.env.push(entry);
        }
        Ok(self)
    }

    /// Gives the child `src` as fd number `dst` (kept open across exec even when `src` is
    /// already `dst`).
    pub fn fd(&mut self, src: BorrowedFd<'_>, dst: RawFd) -> io::Result<&mut Command> {
        let raw = src.as_raw_fd();
        if self.dups.iter().any(|&(_, d)| d == raw) {
            // An earlier placement overwrites this source before it is used: give the
            // child a private high copy to take it from instead.
            let copy = crate::fd::dup_min(src, 64)?;
            self.dups.push((copy.as_raw_fd(), dst));
            self.keep.push(copy);
        } else {
            self.dups.push((raw, dst));
        }
        Ok(self)
    }

    /// Starts the child in a new session (`setsid`). Whatever the strategy, the session and
    /// its process group exist when the spawn returns: a supervisor reports its service up,
    /// and acts on group commands, right after the spawn, and a signal to a group that does
    /// not exist yet would be lost.
    pub fn setsid(&mut self) -> &mut Command {
        self.setsid = true;
        self
    }

    /// Starts the child as pid 1 of a new PID namespace (Linux `CLONE_NEWPID`, which needs
    /// CAP_SYS_ADMIN).
    pub fn new_pid_ns(&mut self) -> &mut Command {
        self.newpidns = true;
        self
    }

    /// Has the child open `path` for writing (creating it), hold it as fd `fd`, wait for a
    /// write lock on it, and only then exec: what `s6-setlock -d fd path prog` does, without
    /// the extra program. The spawn returns as soon as the child starts waiting (failures
    /// before that are its error), whatever [`Report`] asks, so the caller never blocks on
    /// the lock; the program is looked for only once the lock is held, so no check is made
    /// before. Failures after that point are the child's: it prints a message and exits 111
    /// (126/127 for exec, with the [`Report`]'s message, or its own if it has none).
    pub fn lock_at(&mut self, path: &Path, fd: RawFd) -> io::Result<&mut Command> {
        let at = self.push(&[path.as_os_str().as_bytes()])?;
        self.lock = Some((at, fd));
        Ok(self)
    }

    /// Runs the child in directory `dir` (relative paths are resolved from ours). The fds
    /// given with [`Command::fd`] are placed before the change of directory.
    pub fn cwd(&mut self, dir: &Path) -> io::Result<&mut Command> {
        self.cwd = Some(self.push(&[dir.as_os_str().as_bytes()])?);
        Ok(self)
    }

    /// The string at `off` (without its NUL).
    pub(super) fn str_at(&self, off: usize) -> &[u8] {
        let s = &self.strings[off..];
        &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())]
    }

    /// Runs the program named by the first word given to [`Command::new`] with `name` as its
    /// `argv[0]`, the name it sees itself run as.
    pub fn arg0(&mut self, name: &OsStr) -> io::Result<&mut Command> {
        let at = self.push(&[name.as_bytes()])?;
        let file = std::mem::replace(&mut self.argv[0], at);
        self.file.get_or_insert(file);
        Ok(self)
    }

    /// The program to run (looked up in PATH unless it has a `/`), without its NUL.
    pub(super) fn file(&self) -> &[u8] {
        self.str_at(self.file.unwrap_or(self.argv[0]))
    }

    /// The program name, for messages.
    pub fn program(&self) -> String {
        String::from_utf8_lossy(self.file()).into_owned()
    }

    /// Starts the program as a child and returns its pid; `report` says which failures the
    /// caller must get back as errors, and so whether the spawn may wait for the exec. The
    /// child makes raw system calls only, so the caller may run other threads, but none
    /// may change the environment while a child that has not exec'd yet reads it.
    pub fn spawn(&self, report: Report<'_>) -> io::Result<i32> {
        super::strategy::spawn(self, report, None)
    }

    /// Replaces this process with the program, after putting back the signal state this
    /// process inherited, as a C chain-loader hands it on.
    /// Runs the same routine as a spawned child, so places fds, changes directory, starts a
    /// session and waits for the lock alike. Only returns on failure, with the error.
    pub fn exec(&self) -> io::Error {
        let mut image = Image::default();
        if let Err(e) = image.fill(self, SigPlan::chainload(), b"") {
            return e;
        }
        // SAFETY: the image was filled from this command just above and is not touched
        // while the routine runs, in this very process.
        let failed = unsafe { super::child::run(image.plan()) };
        io::Error::from_raw_os_error(failed.errno)
    }

    /// Execs the program, turning failure into the fatal error a chain-loader reports
    /// (`unable to exec PROG: ...`, 127 if not found, 126 otherwise).
    pub fn exec_or_fatal(&self) -> Fatal {
        let err = self.exec();
        exec_fatal(&self.program(), &err)
    }
}

/// The fatal error for a failed exec of `prog`.
pub fn exec_fatal(prog: &str, err: &io::Error) -> Fatal {
    let code = if err.raw_os_error() == Some(libc::ENOENT) { EXIT_NOTFOUND } else { EXIT_EXEC };
    Fatal::sys_code(code, format_args!("exec {prog}"), err)
}

/// Chain-loads `argv` with the current environment changed by `mods`: never returns on
/// success.
pub fn chainload<S: AsRef<OsStr>>(argv: &[S], mods: &[EnvMod]) -> Fatal {
    let name = argv.first().map(|a| a.as_ref().to_string_lossy().into_owned()).unwrap_or_default();
    let mut cmd = match Command::new(argv) {
        Ok(c) => c,
        Err(e) => return exec_fatal(&name, &e),
    };
    if let Err(e) = cmd.env(mods) {
        return exec_fatal(&name, &e);
    }
    cmd.exec_or_fatal()
}

/// The path of a sibling program: `name` in the directory of the running executable, so
/// that s6-rs programs run each other and never a same-named program found in PATH.
pub fn sibling(name: &str) -> PathBuf {
    match std::env::current_exe() {
        Ok(exe) => exe.parent().map(|d| d.join(name)).unwrap_or_else(|| PathBuf::from(name)),
        Err(_) => PathBuf::from(name),
    }
}

/// Whether `path` is a regular file with an execute bit for someone.
pub fn is_executable(path: &Path) -> bool {
    nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
}
