//! A vfork-style spawner for hot paths (a super-server spawns a handler per connection).
//!
//! The child is created with `clone(CLONE_VM)`: it shares our memory, so no page tables are
//! copied, no page is made copy-on-write (the parent takes no faults afterwards) and the
//! child has no image of its own to tear down at exec. Unlike `vfork` (and posix_spawn,
//! which uses `CLONE_VM|CLONE_VFORK`), the parent does not wait for the exec: a
//! single-threaded server goes back to its clients at once. That makes sharing memory
//! delicate, so:
//!
//! - each child runs on a stack of its own, in a *slot* that also holds its argv, envp and
//!   messages; `CLONE_CHILD_CLEARTID` makes the kernel zero the slot's word (and wake any
//!   futex waiter) when the child leaves our memory, at its exec or its exit, and only then
//!   is the slot reused;
//! - the child makes raw system calls only (inline `syscall` instructions): no libc call,
//!   no `errno` (it would be our thread's `errno`), no allocation, no panic path;
//! - signals that have a handler here, and those [`crate::sig`] resets for every spawn, are
//!   set back to their default in the child before it unblocks signals.
//!
//! The C library's `clone` cannot be used (musl refuses `CLONE_CHILD_CLEARTID`), so the
//! system call is made directly, in assembly; that is written for x86_64 only, and other
//! architectures get a plain fork ([`Command::fork_exec`]).

use std::ffi::OsStr;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{Command, EnvMod};

/// Spawns programs with fds and environment changes, without waiting for their exec.
/// Create it after installing any signal handler (their signals are reset in children).
/// Single-threaded callers only.
pub struct Spawner {
    /// The environment at creation, `NAME=value` pointers into the C library's strings,
    /// which nothing in this process changes afterwards.
    base_env: Vec<*const libc::c_char>,
    /// `PATH` at creation, split, for programs named without a slash.
    path: Vec<Vec<u8>>,
    /// Signals to set back to their default in the child.
    resets: Vec<i32>,
    // Boxed: a running child holds addresses inside its slot, which must not move when
    // the vector grows.
    #[allow(clippy::vec_box)]
    slots: Vec<Box<Slot>>,
}

/// One child's memory while it runs in ours. Boxed: its address is handed to the kernel.
struct Slot {
    /// Nonzero while a child may still read this slot (cleared by the kernel).
    busy: AtomicU32,
    stack: Stack,
    /// Every string the child needs, NUL-terminated, and the child's arguments.
    strings: Vec<u8>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    /// Offsets into `strings` (scratch, kept for its capacity).
    offs: Vec<usize>,
    /// Paths to try in turn.
    tries: Vec<*const libc::c_char>,
    args: ChildArgs,
}

/// What the child reads: raw pointers into its slot and the spawner.
#[repr(C)]
struct ChildArgs {
    resets: *const i32,
    nresets: usize,
    dups: [(RawFd, RawFd); 4],
    ndups: usize,
    tries: *const *const libc::c_char,
    ntries: usize,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    prefix: *const u8,
    nprefix: usize,
}

/// A child stack: an anonymous mapping with a guard page at its low end.
struct Stack {
    base: *mut libc::c_void,
    len: usize,
}

const STACK_LEN: usize = 64 * 1024;

impl Stack {
    fn new() -> io::Result<Stack> {
        // SAFETY: a fresh anonymous mapping; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                STACK_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Stack { base, len: STACK_LEN };
        // SAFETY: the first page of our own mapping becomes the guard page.
        if unsafe { libc::mprotect(base, 4096, libc::PROT_NONE) } == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The initial stack pointer (stacks grow down on the supported architectures).
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of our mapping, 16-byte aligned since the length is.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used (the slot is free or leaked instead).
        unsafe { libc::munmap(self.base, self.len) };
    }
}

extern "C" {
    static environ: *const *const libc::c_char;
}

impl Spawner {
    /// Snapshots the environment, `PATH` and the signal dispositions (so a disposition
    /// changed afterwards is not seen: create the spawner once the program's are set).
    pub fn new() -> Spawner {
        let mut base_env = Vec::new();
        // SAFETY: reading the NULL-terminated `environ` array in a single-threaded caller.
        unsafe {
            let mut p = environ;
            while !p.is_null() && !(*p).is_null() {
                base_env.push(*p);
                p = p.add(1);
            }
        }
        let path = std::env::var_os("PATH")
            .map(|p| p.as_bytes().split(|&b| b == b':').map(<[u8]>::to_vec).collect())
            .unwrap_or_default();
        // Only what is not already at its default: a child inherits the rest as it is, and
        // each reset is a system call in every spawn of a hot path. Signals ignored when this
        // process started stay ignored in the child, as s6's C programs hand them on.
        let defaults = crate::sig::spawn_defaults();
        let mut resets = Vec::new();
        for s in 1..=libc::SIGRTMAX() {
            if s == libc::SIGKILL || s == libc::SIGSTOP {
                continue;
            }
            // SAFETY: querying only (null new action); sa is plain data.
            let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
            if unsafe { libc::sigaction(s, std::ptr::null(), &mut sa) } != 0
                || sa.sa_sigaction == libc::SIG_DFL
            {
                continue;
            }
            let handled = sa.sa_sigaction != libc::SIG_IGN;
            if handled || (s <= 64 && defaults & 1 << (s - 1) != 0) {
                resets.push(s);
            }
        }
        Spawner { base_env, path, resets, slots: Vec::new() }
    }

    /// Starts `argv` with `fds` (source, target) duplicated into place (a source equal to
    /// its target is kept open across exec) and the environment changed by `env` (as
    /// skalibs' `env_merge` orders it, like [`super::environ_with`]). Returns the child's
    /// pid at once. If the exec fails, the child prints `on_failure` + the error text on
    /// stderr (nothing if `on_failure` is empty) and exits 127 (not found) or 126.
    pub fn spawn(
        &mut self,
        argv: &[impl AsRef<OsStr>],
        fds: &[(RawFd, RawFd)],
        env: &[EnvMod],
        on_failure: &[u8],
    ) -> io::Result<i32> {
        if argv.is_empty() || fds.len() > 4 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        if !cfg!(target_arch = "x86_64") {
            let mut cmd = Command::new(argv)?;
            for &(src, dst) in fds {
                // SAFETY: the caller's fds stay open for the call.
                cmd.fd(unsafe { std::os::fd::BorrowedFd::borrow_raw(src) }, dst)?;
            }
            cmd.env(env)?;
            return cmd.fork_exec(on_failure);
        }
        let i = self.free_slot()?;
        let slot = &mut self.slots[i];
        fill(slot, &self.base_env, &self.path, &self.resets, argv, fds, env, on_failure)?;
        slot.busy.store(1, Ordering::Relaxed);
        let flags = (libc::CLONE_VM | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD) as usize;
        let args: *mut ChildArgs = &mut slot.args;
        let ctid: *mut u32 = slot.busy.as_ptr();
        // SAFETY: the child runs `child` on its own stack and only reads the slot, which
        // stays untouched until the kernel clears `busy` (at the child's exec or exit).
        let r = unsafe { raw::clone(flags, slot.stack.top(), ctid, child, args.cast()) };
        if r < 0 {
            slot.busy.store(0, Ordering::Release);
            return Err(io::Error::from_raw_os_error(-r as i32));
        }
        Ok(r as i32)
    }

    /// A slot no child reads any more, making one if all are in use.
    fn free_slot(&mut self) -> io::Result<usize> {
        if let Some(i) = self.slots.iter().position(|s| s.busy.load(Ordering::Acquire) == 0) {
            return Ok(i);
        }
        self.slots.push(Box::new(Slot {
            busy: AtomicU32::new(0),
            stack: Stack::new()?,
            strings: Vec::new(),
            argv: Vec::new(),
            envp: Vec::new(),
            offs: Vec::new(),
            tries: Vec::new(),
            args: ChildArgs {
                resets: std::ptr::null(),
                nresets: 0,
                dups: [(0, 0); 4],
                ndups: 0,
                tries: std::ptr::null(),
                ntries: 0,
                argv: std::ptr::null(),
                envp: std::ptr::null(),
                prefix: std::ptr::null(),
                nprefix: 0,
            },
        }));
        Ok(self.slots.len() - 1)
    }

    /// How many slots exist (for tests: slots are reused once their child has exec'd).
    pub fn slots(&self) -> usize {
        self.slots.len()
    }
}

impl Default for Spawner {
    fn default() -> Self {
        Spawner::new()
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        // A child still before its exec (stopped, say) reads its slot: leave that memory
        // to it rather than pull its stack away.
        for slot in self.slots.drain(..) {
            if slot.busy.load(Ordering::Acquire) != 0 {
                std::mem::forget(slot);
            }
        }
    }
}

/// Writes everything the child needs into `slot`: strings first, then the pointers into
/// them (the buffer no longer moves by then).
#[allow(clippy::too_many_arguments)]
fn fill(
    slot: &mut Slot,
    base_env: &[*const libc::c_char],
    path: &[Vec<u8>],
    resets: &[i32],
    argv: &[impl AsRef<OsStr>],
    fds: &[(RawFd, RawFd)],
    env: &[EnvMod],
    on_failure: &[u8],
) -> io::Result<()> {
    let s = &mut slot.strings;
    s.clear();
    let push = |s: &mut Vec<u8>, parts: &[&[u8]]| -> io::Result<usize> {
        let at = s.len();
        for p in parts {
            if p.contains(&0) {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            s.extend_from_slice(p);
        }
        s.push(0);
        Ok(at)
    };
    // offs: argv strings, then paths to try, then environment strings (None: usize::MAX).
    let offs = &mut slot.offs;
    offs.clear();
    for a in argv {
        offs.push(push(s, &[a.as_ref().as_bytes()])?);
    }
    let prog = argv[0].as_ref().as_bytes();
    let tries_from = offs.len();
    if prog.contains(&b'/') {
        offs.push(offs[0]);
    } else {
        for dir in path {
            let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
            offs.push(push(s, &[dir, b"/", prog])?);
        }
    }
    let env_from = offs.len();
    for (name, val) in env {
        offs.push(match val {
            Some(v) => push(s, &[name.as_bytes(), b"=", v.as_bytes()])?,
            None => usize::MAX,
        });
    }
    let prefix_at = s.len();
    s.extend_from_slice(on_failure);
    let base = s.as_ptr();
    // SAFETY (pointer arithmetic below): every offset was taken inside `strings`, which
    // no longer changes.
    let at = |off: usize| unsafe { base.add(off).cast::<libc::c_char>() };
    slot.argv.clear();
    slot.argv.extend(offs[..tries_from].iter().map(|&o| at(o)));
    slot.argv.push(std::ptr::null());
    slot.tries.clear();
    slot.tries.extend(offs[tries_from..env_from].iter().map(|&o| at(o)));
    // env_merge: a change removes the first occurrence by moving the last variable into
    // its place, then appends the new value.
    slot.envp.clear();
    slot.envp.extend_from_slice(base_env);
    for ((name, _), &o) in env.iter().zip(&offs[env_from..]) {
        let n = name.as_bytes();
        // SAFETY: every envp entry is a NUL-terminated string (ours or the C library's).
        let pos = slot.envp.iter().position(|&e| unsafe { is_var(e, n) });
        if let Some(j) = pos {
            slot.envp.swap_remove(j);
        }
        if o != usize::MAX {
            slot.envp.push(at(o));
        }
    }
    slot.envp.push(std::ptr::null());
    let mut dups = [(0, 0); 4];
    dups[..fds.len()].copy_from_slice(fds);
    slot.args = ChildArgs {
        resets: resets.as_ptr(),
        nresets: resets.len(),
        dups,
        ndups: fds.len(),
        tries: slot.tries.as_ptr(),
        ntries: slot.tries.len(),
        argv: slot.argv.as_ptr(),
        envp: slot.envp.as_ptr(),
        prefix: at(prefix_at).cast(),
        nprefix: on_failure.len(),
    };
    Ok(())
}

/// Whether the C string `e` is `NAME=...` for `name`.
///
/// # Safety
/// `e` must be a NUL-terminated string.
unsafe fn is_var(e: *const libc::c_char, name: &[u8]) -> bool {
    for (i, &b) in name.iter().enumerate() {
        // SAFETY: we stop at the first mismatch, and a NUL mismatches every name byte.
        if unsafe { *e.add(i) } as u8 != b {
            return false;
        }
    }
    // SAFETY: every byte before it matched a non-NUL name byte.
    unsafe { *e.add(name.len()) as u8 == b'=' }
}

/// The child: raw system calls on what its slot holds, then exec or exit.
extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the slot's ChildArgs, left untouched by the parent until we exec or
    // exit; every pointer in it points into the slot or the spawner.
    unsafe {
        let a = &*arg.cast::<ChildArgs>();
        let dfl = [0u64; 4]; // a kernel sigaction: SIG_DFL, no flags, empty mask
        for i in 0..a.nresets {
            raw::call4(libc::SYS_rt_sigaction, *a.resets.add(i) as usize, dfl.as_ptr() as usize, 0, 8);
        }
        let empty = 0u64;
        raw::call4(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK as usize, &empty as *const u64 as usize, 0, 8);
        for &(src, dst) in a.dups.iter().take(a.ndups) {
            let r = if src == dst {
                raw::call4(libc::SYS_fcntl, src as usize, libc::F_SETFD as usize, 0, 0)
            } else {
                raw::call4(libc::SYS_dup3, src as usize, dst as usize, 0, 0)
            };
            if r < 0 {
                die(a, -r, 126);
            }
        }
        let mut err = libc::ENOENT as isize;
        let mut seen_eacces = false;
        for t in 0..a.ntries {
            let r =
                raw::call4(libc::SYS_execve, *a.tries.add(t) as usize, a.argv as usize, a.envp as usize, 0);
            err = -r;
            match err as i32 {
                libc::EACCES => seen_eacces = true,
                libc::ENOENT | libc::ENOTDIR => {}
                _ => break,
            }
        }
        if seen_eacces && (err as i32 == libc::ENOENT || err as i32 == libc::ENOTDIR) {
            err = libc::EACCES as isize;
        }
        die(a, err, if err as i32 == libc::ENOENT { 127 } else { 126 })
    }
}

/// In the child: the failure message, then exit.
///
/// # Safety
/// Only from [`child`], with its arguments.
unsafe fn die(a: &ChildArgs, err: isize, code: usize) -> ! {
    let e = i32::try_from(err).unwrap_or(0);
    let text = crate::cli::strerror_known(e).unwrap_or("Unknown error").as_bytes();
    // SAFETY: writes of live buffers (the prefix is in the slot), then exit.
    unsafe {
        if a.nprefix > 0 {
            raw::call4(libc::SYS_write, 2, a.prefix as usize, a.nprefix, 0);
            raw::call4(libc::SYS_write, 2, text.as_ptr() as usize, text.len(), 0);
            raw::call4(libc::SYS_write, 2, b"\n".as_ptr() as usize, 1, 0);
        }
        loop {
            raw::call4(libc::SYS_exit_group, code, 0, 0, 0);
        }
    }
}

/// System calls without the C library: no `errno`, which a child sharing our memory
/// would write into our thread's.
mod raw {
    /// A system call with up to four arguments; returns the raw result (`-errno` on error).
    ///
    /// # Safety
    /// As the system call itself requires.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    pub(super) unsafe fn call4(n: libc::c_long, a: usize, b: usize, c: usize, d: usize) -> isize {
        let ret: isize;
        // SAFETY: the Linux x86_64 system call convention; rcx and r11 are clobbered.
        unsafe {
            std::arch::asm!(
                "syscall",
                inlateout("rax") n as isize => ret,
                in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d,
                lateout("rcx") _, lateout("r11") _,
                options(nostack)
            );
        }
        ret
    }

    /// `clone(flags, stack, NULL, ctid, 0)`; the child calls `f(arg)` on `stack` and exits
    /// with its result, never returning here. Returns the child's pid or `-errno`.
    ///
    /// # Safety
    /// `stack` must be the top of a free stack, and `f` must only make raw system calls on
    /// memory that stays valid until the kernel clears `ctid`.
    #[cfg(target_arch = "x86_64")]
    pub(super) unsafe fn clone(
        flags: usize,
        stack: *mut libc::c_void,
        ctid: *mut u32,
        f: extern "C" fn(*mut libc::c_void) -> libc::c_int,
        arg: *mut libc::c_void,
    ) -> isize {
        let ret: isize;
        // SAFETY: the Linux x86_64 clone convention (flags, stack, ptid, ctid, tls). The
        // child starts on `stack` (16-byte aligned, so aligned for the call) with every
        // register but rax, rcx and r11 as they were, calls f(arg) and exits; it never
        // comes back into this function's frame.
        unsafe {
            std::arch::asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "xor ebp, ebp",
                "mov rdi, r13",
                "call r12",
                "mov edi, eax",
                "mov eax, {exit}",
                "syscall",
                "ud2",
                "2:",
                exit = const libc::SYS_exit_group,
                inlateout("rax") libc::SYS_clone as isize => ret,
                in("rdi") flags,
                in("rsi") stack,
                in("rdx") 0usize,
                in("r10") ctid,
                in("r8") 0usize,
                in("r12") f,
                in("r13") arg,
                lateout("rcx") _,
                lateout("r11") _,
            );
        }
        ret
    }

    /// Never called: [`super::Spawner::spawn`] forks on other architectures.
    #[cfg(not(target_arch = "x86_64"))]
    pub(super) unsafe fn clone(
        _: usize,
        _: *mut libc::c_void,
        _: *mut u32,
        _: extern "C" fn(*mut libc::c_void) -> libc::c_int,
        _: *mut libc::c_void,
    ) -> isize {
        -(libc::ENOSYS as isize)
    }

    /// Never called: [`super::Spawner::spawn`] forks on other architectures.
    #[cfg(not(target_arch = "x86_64"))]
    pub(super) unsafe fn call4(_: libc::c_long, _: usize, _: usize, _: usize, _: usize) -> isize {
        -(libc::ENOSYS as isize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::os::fd::AsRawFd;

    fn wait(pid: i32) -> i32 {
        let mut st = 0;
        // SAFETY: waiting for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut st, 0) }, pid);
        libc::WEXITSTATUS(st)
    }

    fn read_all(fd: &std::os::fd::OwnedFd) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            let n = crate::fd::read(std::os::fd::AsFd::as_fd(fd), &mut buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn spawns_with_fds_env_order_and_path_search() {
        let _g = super::super::tests::FORKS.lock().unwrap_or_else(|e| e.into_inner());
        let mut sp = Spawner::new();
        let (r, w) = crate::fd::pipe().unwrap();
        let set = |n: &str, v: &str| (OsString::from(n), Some(OsString::from(v)));
        let env = vec![set("S6RS_A", "1"), (OsString::from("HOME"), None), set("S6RS_B", "x=y")];
        let pid = sp
            .spawn(
                &["sh", "-c", "echo \"$0 $S6RS_A $S6RS_B ${HOME-unset}\""],
                &[(w.as_raw_fd(), 1)],
                &env,
                b"",
            )
            .unwrap();
        drop(w);
        assert_eq!(wait(pid), 0);
        let out = String::from_utf8(read_all(&r)).unwrap();
        assert_eq!(out, "sh 1 x=y unset\n");
        // The environment is exactly environ_with's, in the same order.
        let (r, w) = crate::fd::pipe().unwrap();
        let pid = sp.spawn(&["/usr/bin/env"], &[(w.as_raw_fd(), 1)], &env, b"").unwrap();
        drop(w);
        assert_eq!(wait(pid), 0);
        let mut want = Vec::new();
        for c in super::super::environ_with(&env).unwrap() {
            want.extend_from_slice(c.as_bytes());
            want.push(b'\n');
        }
        assert_eq!(String::from_utf8_lossy(&read_all(&r)), String::from_utf8_lossy(&want));
    }

    #[test]
    fn exec_failures_exit_127_or_126_with_a_message() {
        let _g = super::super::tests::FORKS.lock().unwrap_or_else(|e| e.into_inner());
        let mut sp = Spawner::new();
        let (r, w) = crate::fd::pipe().unwrap();
        let pid =
            sp.spawn(&["s6rs-no-such-program"], &[(w.as_raw_fd(), 2)], &[], b"t: unable to spawn: ").unwrap();
        drop(w);
        assert_eq!(wait(pid), 127);
        assert_eq!(read_all(&r), b"t: unable to spawn: No such file or directory\n");
        let (r, w) = crate::fd::pipe().unwrap();
        let pid = sp.spawn(&["/etc/passwd"], &[(w.as_raw_fd(), 2)], &[], b"x: ").unwrap();
        drop(w);
        assert_eq!(wait(pid), 126);
        assert_eq!(read_all(&r), b"x: Permission denied\n");
        let pid = sp.spawn(&["/nonexistent/prog"], &[], &[], b"").unwrap();
        assert_eq!(wait(pid), 127);
    }

    #[test]
    fn signals_are_reset_and_unblocked_in_the_child() {
        let _g = super::super::tests::FORKS.lock().unwrap_or_else(|e| e.into_inner());
        // SIGPIPE ignored here (Rust does it) must be default in the child; a blocked
        // SIGUSR2 must be unblocked.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: plain sigset manipulation and a mask change, undone below.
        unsafe {
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR2);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        let mut sp = Spawner::new();
        let (r, w) = crate::fd::pipe().unwrap();
        let pid = sp
            .spawn(
                &["sh", "-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status"],
                &[(w.as_raw_fd(), 1)],
                &[],
                b"",
            )
            .unwrap();
        drop(w);
        // SAFETY: undoing the change above.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
        assert_eq!(wait(pid), 0);
        let out = String::from_utf8(read_all(&r)).unwrap();
        assert!(out.contains("SigBlk:\t0000000000000000"), "{out}");
        // sh itself ignores nothing it inherited as default; SIGPIPE is bit 13.
        let ign = out.lines().find(|l| l.starts_with("SigIgn")).unwrap();
        let bits = u64::from_str_radix(ign.trim_start_matches("SigIgn:\t"), 16).unwrap();
        assert_eq!(bits & (1 << (libc::SIGPIPE - 1)), 0, "{out}");
    }

    #[test]
    fn slots_are_reused_once_children_have_exec_d() {
        let _g = super::super::tests::FORKS.lock().unwrap_or_else(|e| e.into_inner());
        let mut sp = Spawner::new();
        for _ in 0..50 {
            let pid = sp.spawn(&["/bin/true"], &[], &[], b"").unwrap();
            assert_eq!(wait(pid), 0);
        }
        // Each child was waited for, so it left our memory before the next spawn.
        assert_eq!(sp.slots(), 1);
    }

    #[test]
    fn fd_kept_in_place_survives_exec() {
        let _g = super::super::tests::FORKS.lock().unwrap_or_else(|e| e.into_inner());
        let mut sp = Spawner::new();
        let (r, w) = crate::fd::pipe().unwrap(); // close-on-exec
        let fd = w.as_raw_fd();
        let script = format!("echo kept >&{fd}");
        let pid = sp.spawn(&["sh", "-c", &script], &[(fd, fd)], &[], b"").unwrap();
        drop(w);
        assert_eq!(wait(pid), 0);
        assert_eq!(read_all(&r), b"kept\n");
    }
}
