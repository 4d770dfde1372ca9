//! Running programs: chain-loading (exec in place) and spawning children with
//! `posix_spawn` (vfork-speed on glibc), wait statuses, and finding sibling programs.
//!
//! Every program started here gets an empty signal mask and default dispositions for the
//! signals s6 programs touch (SIGPIPE included: Rust ignores it, and that survives execve).
//! Exec failures map to 127 when the program is missing and 126 otherwise.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::cli::{Fatal, EXIT_EXEC, EXIT_NOTFOUND};

/// Signals whose disposition is reset to default in every exec'd or spawned program.
const RESET: &[i32] = &[
    libc::SIGPIPE,
    libc::SIGCHLD,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGINT,
    libc::SIGALRM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGPWR,
    libc::SIGWINCH,
    libc::SIGABRT,
];

/// One environment change: set `name` to a value, or unset it (`None`).
pub type EnvMod = (OsString, Option<OsString>);

fn cstring(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// The current environment with `mods` applied, as `NAME=value` C strings.
pub fn environ_with(mods: &[EnvMod]) -> io::Result<Vec<CString>> {
    let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    for (name, val) in mods {
        vars.retain(|(n, _)| n != name);
        if let Some(v) = val {
            vars.push((name.clone(), v.clone()));
        }
    }
    vars.into_iter()
        .map(|(n, v)| {
            let mut b = n.into_vec();
            b.push(b'=');
            b.extend_from_slice(v.as_bytes());
            CString::new(b).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
        })
        .collect()
}

fn ptrs(v: &[CString]) -> Vec<*const libc::c_char> {
    v.iter().map(|c| c.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}

/// A program to exec or spawn. All C strings are built up front, so nothing allocates
/// between fork and exec.
pub struct Command {
    argv: Vec<CString>,
    envp: Option<Vec<CString>>,
    dups: Vec<(RawFd, RawFd)>,
    keep: Vec<OwnedFd>,
    setsid: bool,
    cwd: Option<CString>,
}

impl Command {
    /// A command from its argv (`argv[0]` is looked up in PATH unless it has a `/`).
    pub fn new<S: AsRef<OsStr>>(argv: &[S]) -> io::Result<Command> {
        if argv.is_empty() {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let argv = argv.iter().map(|a| cstring(a.as_ref())).collect::<io::Result<Vec<_>>>()?;
        Ok(Command { argv, envp: None, dups: Vec::new(), keep: Vec::new(), setsid: false, cwd: None })
    }

    /// Runs the program with the current environment changed by `mods`.
    pub fn env(&mut self, mods: &[EnvMod]) -> io::Result<&mut Command> {
        self.envp = Some(environ_with(mods)?);
        Ok(self)
    }

    /// Gives the child `src` as fd number `dst`.
    pub fn fd(&mut self, src: BorrowedFd<'_>, dst: RawFd) -> io::Result<&mut Command> {
        let raw = src.as_raw_fd();
        if raw == dst || self.dups.iter().any(|&(_, d)| d == raw) {
            // dup2(n, n) would leave close-on-exec set, and a later dup could overwrite the
            // source: give the child a private high copy to dup from instead.
            let copy = crate::fd::dup_min(src, 64)?;
            self.dups.push((copy.as_raw_fd(), dst));
            self.keep.push(copy);
        } else {
            self.dups.push((raw, dst));
        }
        Ok(self)
    }

    /// Starts the child in a new session (`setsid`).
    pub fn setsid(&mut self) -> &mut Command {
        self.setsid = true;
        self
    }

    /// Runs the child in directory `dir` (relative paths are resolved from ours). The fds
    /// given with [`Command::fd`] are placed before the change of directory.
    pub fn cwd(&mut self, dir: &Path) -> io::Result<&mut Command> {
        self.cwd = Some(crate::fd::cpath(dir)?);
        Ok(self)
    }

    /// The program name, for messages.
    pub fn program(&self) -> String {
        self.argv[0].to_string_lossy().into_owned()
    }

    /// Spawns the child with `posix_spawnp`, returning its pid.
    pub fn spawn(&self) -> io::Result<i32> {
        // SAFETY: attr and actions are initialised before use and destroyed on every path;
        // argv/envp are NUL-terminated arrays of live C strings.
        unsafe {
            let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
            let mut acts: libc::posix_spawn_file_actions_t = std::mem::zeroed();
            check(libc::posix_spawnattr_init(&mut attr))?;
            if let Err(e) = check(libc::posix_spawn_file_actions_init(&mut acts)) {
                libc::posix_spawnattr_destroy(&mut attr);
                return Err(e);
            }
            let res = self.spawn_with(&mut attr, &mut acts);
            libc::posix_spawn_file_actions_destroy(&mut acts);
            libc::posix_spawnattr_destroy(&mut attr);
            res
        }
    }

    unsafe fn spawn_with(
        &self,
        attr: &mut libc::posix_spawnattr_t,
        acts: &mut libc::posix_spawn_file_actions_t,
    ) -> io::Result<i32> {
        let mut flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
        if self.setsid {
            flags |= i32::from(libc::POSIX_SPAWN_SETSID);
        }
        let empty = crate::sig::SigSet::empty();
        let def = crate::sig::SigSet::of(RESET);
        // SAFETY: attr/acts were initialised by the caller; the sets are initialised.
        unsafe {
            check(libc::posix_spawnattr_setflags(attr, flags as libc::c_short))?;
            check(libc::posix_spawnattr_setsigmask(attr, empty.raw()))?;
            check(libc::posix_spawnattr_setsigdefault(attr, def.raw()))?;
            for &(src, dst) in &self.dups {
                check(libc::posix_spawn_file_actions_adddup2(acts, src, dst))?;
            }
            if let Some(dir) = &self.cwd {
                check(libc::posix_spawn_file_actions_addchdir_np(acts, dir.as_ptr()))?;
            }
        }
        let argv = ptrs(&self.argv);
        let env_owned;
        let envp = match &self.envp {
            Some(e) => ptrs(e),
            None => {
                env_owned = environ_with(&[])?;
                ptrs(&env_owned)
            }
        };
        let mut pid: libc::pid_t = 0;
        // SAFETY: every pointer is valid for the duration of the call.
        check(unsafe {
            libc::posix_spawnp(&mut pid, argv[0], acts, attr, argv.as_ptr().cast(), envp.as_ptr().cast())
        })?;
        Ok(pid)
    }

    /// Replaces this process with the program. Only returns on failure, with the error.
    pub fn exec(&self) -> io::Error {
        if let Err(e) = reset_for_exec() {
            return e;
        }
        for &(src, dst) in &self.dups {
            // SAFETY: plain fd numbers; failure is reported below.
            if unsafe { libc::dup2(src, dst) } == -1 {
                return io::Error::last_os_error();
            }
        }
        if let Some(dir) = &self.cwd {
            if let Err(e) = syscall!(chdir(dir.as_ptr())) {
                return e;
            }
        }
        if self.setsid {
            // SAFETY: setsid has no memory effects.
            unsafe { libc::setsid() };
        }
        let argv = ptrs(&self.argv);
        let env_owned;
        let envp = match &self.envp {
            Some(e) => ptrs(e),
            None => match environ_with(&[]) {
                Ok(e) => {
                    env_owned = e;
                    ptrs(&env_owned)
                }
                Err(e) => return e,
            },
        };
        // SAFETY: argv and envp are NUL-terminated arrays of live C strings.
        unsafe { libc::execvpe(argv[0], argv.as_ptr(), envp.as_ptr()) };
        io::Error::last_os_error()
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
    let cmd = match Command::new(argv) {
        Ok(c) => c,
        Err(e) => return exec_fatal(&name, &e),
    };
    let mut cmd = cmd;
    if !mods.is_empty() {
        if let Err(e) = cmd.env(mods) {
            return exec_fatal(&name, &e);
        }
    }
    cmd.exec_or_fatal()
}

/// Empties the signal mask and restores default dispositions, as a C chain-loader leaves
/// them.
pub fn reset_for_exec() -> io::Result<()> {
    crate::sig::unblock_all()?;
    for &s in RESET {
        crate::sig::default(s)?;
    }
    Ok(())
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// A raw `waitpid` status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    /// The exit code if the process exited normally.
    pub fn exit_code(self) -> Option<i32> {
        libc::WIFEXITED(self.0).then(|| libc::WEXITSTATUS(self.0))
    }

    /// The signal number if the process was killed by a signal.
    pub fn signal(self) -> Option<i32> {
        libc::WIFSIGNALED(self.0).then(|| libc::WTERMSIG(self.0))
    }

    /// skalibs `wait_estatus`: the exit code, or 128 + signal.
    pub fn estatus(self) -> u8 {
        match (self.exit_code(), self.signal()) {
            (Some(c), _) => c as u8,
            (None, Some(s)) => (128 + s).min(255) as u8,
            _ => 0,
        }
    }
}

/// Reaps one terminated child without blocking: `None` when there is none to reap now.
pub fn reap() -> io::Result<Option<(i32, WaitStatus)>> {
    let mut status = 0;
    match syscall!(waitpid(-1, &mut status, libc::WNOHANG)) {
        Ok(0) => Ok(None),
        Ok(pid) => Ok(Some((pid, WaitStatus(status)))),
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits (blocking) for a specific child.
pub fn wait(pid: i32) -> io::Result<WaitStatus> {
    let mut status = 0;
    loop {
        match syscall!(waitpid(pid, &mut status, 0)) {
            Ok(_) => return Ok(WaitStatus(status)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
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
    let Ok(c) = crate::fd::cpath(path) else { return false };
    // SAFETY: c is a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_and_wait_statuses() {
        let pid = Command::new(&["sh", "-c", "exit 7"]).unwrap().spawn().unwrap();
        let st = wait(pid).unwrap();
        assert_eq!(st.exit_code(), Some(7));
        assert_eq!(st.estatus(), 7);
        let pid = Command::new(&["sh", "-c", "kill -TERM $$"]).unwrap().spawn().unwrap();
        let st = wait(pid).unwrap();
        assert_eq!(st.signal(), Some(libc::SIGTERM));
        assert_eq!(st.estatus(), 143);
    }

    #[test]
    fn spawn_in_another_directory() {
        let mut c = Command::new(&["sh", "-c", "test \"$(pwd)\" = /"]).unwrap();
        c.cwd(Path::new("/")).unwrap();
        assert_eq!(wait(c.spawn().unwrap()).unwrap().exit_code(), Some(0));
    }

    #[test]
    fn spawn_missing_program_is_enoent() {
        let err = Command::new(&["/nonexistent/prog"]).unwrap().spawn().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        assert_eq!(exec_fatal("x", &err).code, 127);
    }

    #[test]
    fn spawned_child_sees_sigpipe_default_and_env() {
        // SigIgn bit 12 is SIGPIPE: the child must not inherit Rust's SIG_IGN.
        let script = "test \"$S6RS_T\" = yes && ign=$(awk '/SigIgn/{print $2}' /proc/self/status) && [ $(( 0x$ign & 0x1000 )) = 0 ]";
        let mut c = Command::new(&["sh", "-c", script]).unwrap();
        c.env(&[(OsString::from("S6RS_T"), Some(OsString::from("yes")))]).unwrap();
        let st = wait(c.spawn().unwrap()).unwrap();
        assert_eq!(st.exit_code(), Some(0));
    }
}
