//! Running programs: chain-loading (exec in place) and spawning children with
//! `posix_spawn` (vfork-speed on glibc), wait statuses, and finding sibling programs.
//!
//! Two things posix_spawn cannot do go through a fork path instead: starting a child in a
//! new PID namespace, and having the child wait for a lock before it execs.
//!
//! A spawned child gets an empty signal mask, SIGPIPE and every disposition this process
//! changed back at their default (Rust ignores SIGPIPE, and that survives execve), and every
//! other disposition as this process inherited it, ignored signals included, as s6's C
//! programs hand them on ([`crate::sig`]'s `spawn_defaults`). A chain-loaded program gets the
//! signal state this process inherited, as a C chain-loader leaves it
//! ([`crate::sig::restore_inherited`]). Exec failures map to 127 when the program is missing
//! and 126 otherwise.
//!
//! A child started in a new session ([`Command::setsid`]) is a session and process-group
//! leader by the time any spawn call returns: a supervisor reports its service up, and acts
//! on group commands, right after the spawn, and a signal to a group that does not exist yet
//! would be lost.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::cli::{Fatal, EXIT_EXEC, EXIT_NOTFOUND};

mod fork;
mod spawner;
mod wait;
pub use fork::{doublefork, fork, Fork};
pub use spawner::Spawner;
pub use wait::{reap, try_wait, wait, wait_any, WaitStatus};

/// One environment change: set `name` to a value, or unset it (`None`).
pub type EnvMod = (OsString, Option<OsString>);

fn cstring(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// The current environment with `mods` applied, as `NAME=value` C strings, in the order
/// skalibs' `env_merge` gives: each change first removes the variable's first occurrence by
/// moving the last variable into its slot, then appends the new value, so a chain-loaded
/// program sees the same environment, byte for byte and in the same order, as under s6.
pub fn environ_with(mods: &[EnvMod]) -> io::Result<Vec<CString>> {
    let vars: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(n, v)| {
            let mut b = n.into_vec();
            b.push(b'=');
            b.extend_from_slice(v.as_bytes());
            b
        })
        .collect();
    merge(vars, mods)
        .into_iter()
        .map(|b| CString::new(b).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL)))
        .collect()
}

/// `env_merge` on `NAME=value` byte strings.
fn merge(mut vars: Vec<Vec<u8>>, mods: &[EnvMod]) -> Vec<Vec<u8>> {
    for (name, val) in mods {
        let n = name.as_bytes();
        if let Some(j) = vars.iter().position(|e| e.len() > n.len() && e.starts_with(n) && e[n.len()] == b'=')
        {
            vars.swap_remove(j);
        }
        if let Some(v) = val {
            let mut b = n.to_vec();
            b.push(b'=');
            b.extend_from_slice(v.as_bytes());
            vars.push(b);
        }
    }
    vars
}

extern "C" {
    /// The C library's environment: what std::env reads and writes.
    static environ: *const *const libc::c_char;
}

fn ptrs(v: &[CString]) -> Vec<*const libc::c_char> {
    v.iter().map(|c| c.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}

/// A program to exec or spawn. All C strings are built up front, so nothing allocates
/// between fork and exec.
pub struct Command {
    argv: Vec<CString>,
    /// The program to run when `argv[0]` is not it (see [`Command::arg0`]).
    file: Option<CString>,
    envp: Option<Vec<CString>>,
    dups: Vec<(RawFd, RawFd)>,
    keep: Vec<OwnedFd>,
    setsid: bool,
    newpidns: bool,
    lock: Option<(CString, RawFd)>,
    cwd: Option<CString>,
}

impl Command {
    /// A command from its argv (`argv[0]` is looked up in PATH unless it has a `/`).
    pub fn new<S: AsRef<OsStr>>(argv: &[S]) -> io::Result<Command> {
        if argv.is_empty() {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let argv = argv.iter().map(|a| cstring(a.as_ref())).collect::<io::Result<Vec<_>>>()?;
        Ok(Command {
            argv,
            file: None,
            envp: None,
            dups: Vec::new(),
            keep: Vec::new(),
            setsid: false,
            newpidns: false,
            lock: None,
            cwd: None,
        })
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

    /// Starts the child as pid 1 of a new PID namespace (Linux `clone(CLONE_NEWPID)`, which
    /// needs CAP_SYS_ADMIN). Spawning then goes through the fork path.
    pub fn new_pid_ns(&mut self) -> &mut Command {
        self.newpidns = true;
        self
    }

    /// Has the child open `path` for writing (creating it), hold it as fd `fd`, wait for a
    /// write lock on it, and only then exec: what `s6-setlock -d fd path prog` does, without
    /// the extra program. Spawning then goes through the fork path, and the spawn returns as
    /// soon as the child starts waiting, so the caller never blocks on the lock. Failures after
    /// that point are the child's: it prints a message and exits 111 (126/127 for exec).
    pub fn lock_at(&mut self, path: &Path, fd: RawFd) -> io::Result<&mut Command> {
        self.lock = Some((crate::fd::cpath(path)?, fd));
        Ok(self)
    }

    /// Runs the child in directory `dir` (relative paths are resolved from ours). The fds
    /// given with [`Command::fd`] are placed before the change of directory.
    pub fn cwd(&mut self, dir: &Path) -> io::Result<&mut Command> {
        self.cwd = Some(crate::fd::cpath(dir)?);
        Ok(self)
    }

    /// Runs the program named by the first word given to [`Command::new`] with `name` as its
    /// `argv[0]`, the name it sees itself run as.
    pub fn arg0(&mut self, name: &OsStr) -> io::Result<&mut Command> {
        let name = cstring(name)?;
        let file = std::mem::replace(&mut self.argv[0], name);
        self.file.get_or_insert(file);
        Ok(self)
    }

    /// The program to run: looked up in PATH unless it has a `/`.
    fn file(&self) -> &CStr {
        self.file.as_ref().unwrap_or(&self.argv[0])
    }

    /// The program name, for messages.
    pub fn program(&self) -> String {
        self.file().to_string_lossy().into_owned()
    }

    /// Spawns the child, returning its pid. Exec failures are reported here, as errors.
    /// Uses `posix_spawnp` unless [`Command::new_pid_ns`] or [`Command::lock_at`] was asked
    /// for; the fork path is meant for single-threaded callers (supervisors).
    pub fn spawn(&self) -> io::Result<i32> {
        if self.newpidns || self.lock.is_some() {
            return self.spawn_fork();
        }
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
        let def = crate::sig::SigSet::from_bits(crate::sig::spawn_defaults());
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
        // Without changes the child gets our environment as it is: no copy, so a supervisor
        // allocates nothing per spawn for it.
        let own;
        let envp: *const *const libc::c_char = match &self.envp {
            Some(e) => {
                own = ptrs(e);
                own.as_ptr()
            }
            // SAFETY: reading the libc `environ` pointer; s6-rs programs that spawn are
            // single-threaded, so nothing changes the environment during the call.
            None => unsafe { environ },
        };
        let mut pid: libc::pid_t = 0;
        // SAFETY: every pointer is valid for the duration of the call.
        check(unsafe {
            libc::posix_spawnp(&mut pid, self.file().as_ptr(), acts, attr, argv.as_ptr().cast(), envp.cast())
        })?;
        Ok(pid)
    }

    /// Forks a child that execs the program and returns its pid without waiting for the
    /// exec. posix_spawn holds its caller until the child has exec'd; a single-threaded
    /// server that spawns a handler per client (s6-ipcserverd) then serves nobody
    /// meanwhile, and on a small machine that costs a quarter of its throughput. A fork of
    /// a small static process is cheap, and the server carries on while the child execs.
    /// With [`Command::setsid`], the call returns once the child has become a session
    /// leader (a few system calls after the fork, long before its exec), so that its
    /// process group exists when the caller reports it or signals it. The price is that
    /// exec errors are the child's: it prints `on_failure` and the error text on stderr
    /// (nothing if `on_failure` is empty) and exits 127 if the program was not found, 126
    /// otherwise. Only for single-threaded callers: the child runs nothing but raw system
    /// calls on data built before the fork. Ignores [`Command::new_pid_ns`] and
    /// [`Command::lock_at`].
    pub fn fork_exec(&self, on_failure: &[u8]) -> io::Result<i32> {
        let file = self.file().as_ptr();
        let argv = ptrs(&self.argv);
        let own = self.envp.as_ref().map(|e| ptrs(e));
        let envp: *const *const libc::c_char = match &own {
            Some(e) => e.as_ptr(),
            // SAFETY: reading the libc `environ` pointer in a single-threaded caller.
            None => unsafe { environ },
        };
        let resets = crate::sig::spawn_defaults();
        // The child closes its copy of the write end right after setsid; the read below
        // sees EOF then (or at the child's death, if it dies first). Both ends are
        // close-on-exec, so no program ever holds them.
        let session = if self.setsid { Some(crate::fd::pipe()?) } else { None };
        let session_w = session.as_ref().map_or(-1, |(_, w)| w.as_raw_fd());
        // SAFETY: fork in a single-threaded caller (documented); the child below only makes
        // raw system calls on pointers built before the fork.
        let pid = unsafe { libc::fork() };
        if pid == -1 {
            return Err(io::Error::last_os_error());
        }
        if pid > 0 {
            if let Some((r, w)) = session {
                drop(w);
                wait_eof(r.as_fd());
            }
            return Ok(pid);
        }
        // SAFETY (whole block): the freshly forked child; plain integers and pointers to
        // data built before the fork.
        unsafe {
            if self.setsid {
                // First, so that the parent waits as little as it can. A signal sent to the
                // new group before the resets below meets the caller's dispositions and mask:
                // the signals a caller traps are blocked, and stay pending until the mask is
                // emptied, after the resets.
                libc::setsid();
                // From here the parent may return: the process group exists.
                libc::close(session_w);
            }
            reset_dispositions(resets);
            let empty = crate::sig::SigSet::empty();
            libc::sigprocmask(libc::SIG_SETMASK, empty.raw(), std::ptr::null_mut());
            for &(src, dst) in &self.dups {
                if libc::dup2(src, dst) == -1 {
                    child_die(on_failure, 126);
                }
            }
            if let Some(dir) = &self.cwd {
                if libc::chdir(dir.as_ptr()) == -1 {
                    child_die(on_failure, 126);
                }
            }
            libc::execvpe(file, argv.as_ptr(), envp.cast());
            let code = if errno() == libc::ENOENT { 127 } else { 126 };
            child_die(on_failure, code)
        }
    }

    /// The fork path: clone/fork, then only async-signal-safe calls in the child. A
    /// close-on-exec pipe carries the exec errno back, so failures are reported as
    /// posix_spawn reports them.
    fn spawn_fork(&self) -> io::Result<i32> {
        let argv = ptrs(&self.argv);
        let env_owned = match &self.envp {
            Some(_) => None,
            None => Some(environ_with(&[])?),
        };
        let envp = ptrs(self.envp.as_ref().or(env_owned.as_ref()).map_or(&[][..], |v| &v[..]));
        let highest = self.dups.iter().map(|&(_, d)| d).chain(self.lock.as_ref().map(|l| l.1)).max();
        let (rp, low) = crate::fd::pipe()?;
        // The report fd must survive every dup2 the child makes; the low copy must be gone
        // before we read, or we would never see EOF.
        let wp = crate::fd::dup_min(low.as_fd(), highest.unwrap_or(2).max(2) + 1)?;
        drop(low);
        let msgs = ChildMessages::new(self.file(), self.lock.as_ref().map(|l| &l.0));
        let resets = crate::sig::spawn_defaults();
        let pid = if self.newpidns {
            // SAFETY: with a null stack pointer clone behaves like fork: the child runs on a
            // copy-on-write image of this stack. Only async-signal-safe calls follow in it.
            unsafe {
                libc::syscall(
                    libc::SYS_clone,
                    (libc::CLONE_NEWPID | libc::SIGCHLD) as libc::c_ulong,
                    0usize,
                    0usize,
                    0usize,
                    0usize,
                ) as libc::pid_t
            }
        } else {
            // SAFETY: fork in a single-threaded caller; the child only makes raw syscalls.
            unsafe { libc::fork() }
        };
        if pid == -1 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: we are the freshly forked child; every pointer was built before fork.
            unsafe { self.child(&argv, &envp, resets, wp.as_raw_fd(), &msgs) }
        }
        drop(wp);
        let mut errno = [0u8; 4];
        let mut got = 0;
        while got < errno.len() {
            match crate::fd::read(rp.as_fd(), &mut errno[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => {
                    let _ = wait(pid);
                    return Err(e);
                }
            }
        }
        if got == 0 {
            return Ok(pid);
        }
        let _ = wait(pid);
        Err(io::Error::from_raw_os_error(i32::from_ne_bytes(errno)))
    }

    /// The child side of the fork path. Never returns.
    unsafe fn child(
        &self,
        argv: &[*const libc::c_char],
        envp: &[*const libc::c_char],
        resets: u64,
        report: RawFd,
        msgs: &ChildMessages,
    ) -> ! {
        let fail = |report: RawFd| -> ! {
            let e = errno();
            if report >= 0 {
                let b = e.to_ne_bytes();
                // SAFETY: writing a stack buffer to our own pipe.
                unsafe { libc::write(report, b.as_ptr().cast(), b.len()) };
            }
            // SAFETY: _exit is async-signal-safe.
            unsafe { libc::_exit(127) }
        };
        // SAFETY (whole block): raw syscalls on plain integers and pointers built before fork.
        unsafe {
            reset_dispositions(resets);
            let empty = crate::sig::SigSet::empty();
            if libc::sigprocmask(libc::SIG_SETMASK, empty.raw(), std::ptr::null_mut()) == -1 {
                fail(report);
            }
            if self.setsid && libc::setsid() == -1 {
                fail(report);
            }
            for &(src, dst) in &self.dups {
                if libc::dup2(src, dst) == -1 {
                    fail(report);
                }
            }
            let mut report = report;
            if let Some((path, fd)) = &self.lock {
                // From here on the parent has its answer: the child is running, possibly
                // waiting for the lock, and reports its own failures.
                libc::close(report);
                report = -1;
                let lfd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o666);
                if lfd == -1 {
                    msgs.die(&msgs.open, 111);
                }
                if lfd != *fd {
                    if libc::dup2(lfd, *fd) == -1 {
                        msgs.die(&msgs.open, 111);
                    }
                    libc::close(lfd);
                }
                let mut fl: libc::flock = std::mem::zeroed();
                fl.l_type = libc::F_WRLCK as libc::c_short;
                fl.l_whence = libc::SEEK_SET as libc::c_short;
                while libc::fcntl(*fd, libc::F_SETLKW, &fl as *const libc::flock) == -1 {
                    if errno() != libc::EINTR {
                        msgs.die(&msgs.lock, 111);
                    }
                }
            }
            libc::execvpe(self.file().as_ptr(), argv.as_ptr(), envp.as_ptr());
            if report >= 0 {
                fail(report);
            }
            let code = if errno() == libc::ENOENT { 127 } else { 126 };
            msgs.die(&msgs.exec, code)
        }
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
        match &self.envp {
            Some(e) => {
                let envp = ptrs(e);
                // SAFETY: argv and envp are NUL-terminated arrays of live C strings.
                unsafe { libc::execvpe(self.file().as_ptr(), argv.as_ptr(), envp.as_ptr()) };
            }
            // The environment unchanged: no copy of it to build.
            // SAFETY: argv is a NUL-terminated array of live C strings.
            None => unsafe {
                libc::execvp(self.file().as_ptr(), argv.as_ptr());
            },
        }
        io::Error::last_os_error()
    }

    /// Execs the program, turning failure into the fatal error a chain-loader reports
    /// (`unable to exec PROG: ...`, 127 if not found, 126 otherwise).
    pub fn exec_or_fatal(&self) -> Fatal {
        let err = self.exec();
        exec_fatal(&self.program(), &err)
    }
}

/// In a forked child: sets each signal in `resets` (bit `n - 1` for signal `n`) back to its
/// default disposition. Only system calls: nothing allocates.
///
/// # Safety
/// Only in a freshly forked child, before exec.
unsafe fn reset_dispositions(resets: u64) {
    let mut bits = resets;
    while bits != 0 {
        let sig = bits.trailing_zeros() as i32 + 1;
        bits &= bits - 1;
        // SAFETY: SIG_DFL is a valid disposition; numbers the kernel refuses fail harmlessly.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}

/// Reads `fd` until EOF (or an error other than EINTR): the other end's last holder has
/// closed it.
fn wait_eof(fd: BorrowedFd<'_>) {
    let mut b = [0u8; 16];
    while let Ok(n) = crate::fd::read(fd, &mut b) {
        if n == 0 {
            return;
        }
    }
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Messages a forked child may have to print, built before fork so the child only writes.
struct ChildMessages {
    open: Vec<u8>,
    lock: Vec<u8>,
    exec: Vec<u8>,
}

impl ChildMessages {
    fn new(prog: &CStr, lock: Option<&CString>) -> ChildMessages {
        let me = crate::cli::prog();
        let lockpath = lock.map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
        let line = |what: String| format!("{me} (child): fatal: unable to {what}: ").into_bytes();
        ChildMessages {
            open: line(format!("open {lockpath}")),
            lock: line(format!("lock {lockpath}")),
            exec: line(format!("exec {}", prog.to_string_lossy())),
        }
    }

    /// Prints `prefix` + the current errno's text on stderr and exits `code`.
    fn die(&self, prefix: &[u8], code: i32) -> ! {
        child_die(prefix, code)
    }
}

/// In a forked child: prints `prefix` + the current errno's text on stderr (nothing at all
/// if `prefix` is empty) and exits `code`.
fn child_die(prefix: &[u8], code: i32) -> ! {
    let e = errno();
    // "Unknown error N" is built in a stack buffer: a forked child must not allocate.
    let mut buf = *b"Unknown error -2147483648";
    let text: &[u8] = match crate::cli::strerror_known(e) {
        Some(t) => t.as_bytes(),
        None => {
            let mut digits = [0u8; 11];
            let mut i = digits.len();
            let mut v = e.unsigned_abs();
            loop {
                i -= 1;
                digits[i] = b'0' + (v % 10) as u8;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            if e < 0 {
                i -= 1;
                digits[i] = b'-';
            }
            let n = digits.len() - i;
            buf[14..14 + n].copy_from_slice(&digits[i..]);
            &buf[..14 + n]
        }
    };
    // SAFETY: plain writes of live buffers, then _exit.
    unsafe {
        if !prefix.is_empty() {
            libc::write(2, prefix.as_ptr().cast(), prefix.len());
            libc::write(2, text.as_ptr().cast(), text.len());
            libc::write(2, b"\n".as_ptr().cast(), 1);
        }
        libc::_exit(code)
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

/// Puts the signal mask and dispositions back as this process inherited them, so that a
/// chain-loaded program sees what a C chain-loader would hand it.
pub fn reset_for_exec() -> io::Result<()> {
    crate::sig::restore_inherited()
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
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
    fn merge_orders_like_skalibs_env_merge() {
        let vars = ["A=1", "B=2", "C=3", "D=4", "B=dup"].map(|s| s.as_bytes().to_vec()).to_vec();
        let m = |n: &str, v: Option<&str>| (OsString::from(n), v.map(OsString::from));
        let mods = [m("B", Some("new")), m("A", None), m("E", Some("5")), m("AB", None)];
        let got: Vec<String> =
            merge(vars, &mods).into_iter().map(|b| String::from_utf8(b).unwrap()).collect();
        // B's first slot takes the last variable, B=new goes last; A's slot takes the new
        // last (B=new); E is appended; AB matches nothing (A=... is not AB=...).
        assert_eq!(got, ["B=new", "B=dup", "C=3", "D=4", "E=5"]);
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

    /// A child waiting for a lock holds copies of the test harness's close-on-exec fds (other
    /// tests' report pipes among them) until it execs: serialise the fork-path tests.
    pub(super) static FORKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("s6rs-exec-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn lock_at_waits_for_the_lock_without_blocking_the_parent() {
        let _g = FORKS.lock().unwrap_or_else(|e| e.into_inner());
        let d = scratch("lock");
        let lockfile = d.join("lock");
        let held = std::fs::File::create(&lockfile).unwrap();
        assert!(crate::lock::try_lock(held.as_fd(), true).unwrap());
        let out = d.join("out");
        let body = format!("[ -e /proc/self/fd/5 ] && echo ok > {}", out.display());
        let mut c = Command::new(&["sh", "-c", &body]).unwrap();
        c.lock_at(&lockfile, 5).unwrap();
        let pid = c.spawn().unwrap();
        // The child is alive and waiting: reaping it must find nothing yet.
        let mut st = 0;
        // SAFETY: waitpid on our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) }, 0);
        assert!(!out.exists());
        drop(held);
        assert_eq!(wait(pid).unwrap().exit_code(), Some(0));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "ok\n");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn fork_exec_returns_at_once_and_the_child_reports_its_exec() {
        let _g = FORKS.lock().unwrap_or_else(|e| e.into_inner());
        let (r, w) = crate::fd::pipe().unwrap();
        let mut c = Command::new(&["sh", "-c", "echo $S6RS_FE; exit 3"]).unwrap();
        c.fd(w.as_fd(), 1).unwrap().env(&[(OsString::from("S6RS_FE"), Some(OsString::from("yes")))]).unwrap();
        let pid = c.fork_exec(b"").unwrap();
        drop(w);
        assert_eq!(wait(pid).unwrap().exit_code(), Some(3));
        let mut buf = [0u8; 8];
        assert_eq!(crate::fd::read(r.as_fd(), &mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"yes\n");
        let pid = Command::new(&["/nonexistent/prog"]).unwrap().fork_exec(b"").unwrap();
        assert_eq!(wait(pid).unwrap().exit_code(), Some(127));
    }

    #[test]
    fn fork_exec_with_setsid_returns_once_the_child_leads_its_session() {
        let _g = FORKS.lock().unwrap_or_else(|e| e.into_inner());
        let mut c = Command::new(&["sleep", "10"]).unwrap();
        c.setsid();
        for _ in 0..50 {
            let pid = c.fork_exec(b"").unwrap();
            // SAFETY: plain queries and a group kill of our own child's fresh session.
            let (sid, pgid, killed) =
                unsafe { (libc::getsid(pid), libc::getpgid(pid), libc::kill(-pid, libc::SIGKILL)) };
            assert_eq!((sid, pgid, killed), (pid, pid, 0), "child {pid} not yet a session leader");
            assert_eq!(wait(pid).unwrap().signal(), Some(libc::SIGKILL));
        }
    }

    #[test]
    fn spawned_children_keep_inherited_ignores_but_not_sigpipe() {
        let _g = FORKS.lock().unwrap_or_else(|e| e.into_inner());
        // SIGTTIN ignored behind this module's back, as if inherited; SIGPIPE is ignored by
        // Rust's runtime. Children must get the first as it is and the second at default.
        // SAFETY: changing a disposition nothing in these tests relies on; undone below.
        unsafe { libc::signal(libc::SIGTTIN, libc::SIG_IGN) };
        let script = "ign=$(awk '/SigIgn/{print $2}' /proc/self/status); [ $(( 0x$ign & 0x1000 )) = 0 ] && [ $(( 0x$ign & 0x100000 )) != 0 ]";
        let c = Command::new(&["sh", "-c", script]).unwrap();
        let spawned = wait(c.spawn().unwrap()).unwrap().exit_code();
        let forked = wait(c.fork_exec(b"").unwrap()).unwrap().exit_code();
        let mut sp = Spawner::new();
        let cloned = wait(sp.spawn(&["sh", "-c", script], &[], &[], b"").unwrap()).unwrap().exit_code();
        // SAFETY: undoing the change above.
        unsafe { libc::signal(libc::SIGTTIN, libc::SIG_DFL) };
        assert_eq!((spawned, forked, cloned), (Some(0), Some(0), Some(0)));
    }

    #[test]
    fn arg0_names_the_program_without_changing_what_runs() {
        let mut c = Command::new(&["sh", "-c", "test \"$0\" = other-name"]).unwrap();
        c.arg0(OsStr::new("other-name")).unwrap();
        assert_eq!(c.program(), "sh");
        assert_eq!(wait(c.spawn().unwrap()).unwrap().exit_code(), Some(0));
    }

    #[test]
    fn fork_path_reports_exec_failure() {
        let _g = FORKS.lock().unwrap_or_else(|e| e.into_inner());
        let d = scratch("forkfail");
        let mut c = Command::new(&["/nonexistent/prog"]).unwrap();
        c.new_pid_ns();
        let err = c.spawn().unwrap_err();
        // ENOENT from exec, or EPERM when not allowed to make a PID namespace.
        assert!(matches!(err.raw_os_error(), Some(libc::ENOENT) | Some(libc::EPERM)), "{err}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn new_pid_ns_child_is_pid_1() {
        let _g = FORKS.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return; // creating a PID namespace needs CAP_SYS_ADMIN
        }
        let (r, w) = crate::fd::pipe().unwrap();
        let mut c = Command::new(&["sh", "-c", "echo $$"]).unwrap();
        c.new_pid_ns().fd(w.as_fd(), 1).unwrap();
        let pid = c.spawn().unwrap();
        drop(w);
        assert_eq!(wait(pid).unwrap().exit_code(), Some(0));
        let mut buf = [0u8; 16];
        let n = crate::fd::read(r.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"1\n");
    }
}
