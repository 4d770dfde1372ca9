//! The system calls of the child routine, and `clone` itself, without the C library.
//!
//! A child made with `CLONE_VM` runs in our memory until its exec: a C library call there
//! could write our thread's `errno`, take a lock this process holds, or allocate. So the
//! child routine ([`super::child`]) makes its system calls through this layer only: each
//! returns the kernel's raw result (`-errno` on failure) and touches no memory but its
//! arguments. On x86_64 they are inline `syscall` instructions. Other architectures get
//! `libc::syscall`, which sets `errno`: there the strategies never share memory with the
//! child ([`VM_CLONES`] is false), so that `errno` is the child's own copy.

/// Whether this architecture can start children that share our memory (`CLONE_VM`): only
/// where `clone` and the system calls are written here in assembly.
pub(super) const VM_CLONES: bool = cfg!(target_arch = "x86_64");

/// The size of the kernel's signal set on Linux (64 signals).
const SIGSET_LEN: usize = 8;

pub(super) use imp::{call4, clone};

/// `rt_sigaction(sig, {handler, no flags, empty mask}, NULL)`: `handler` is `SIG_DFL` or
/// `SIG_IGN` (never a function: nothing of ours may run in the child).
///
/// # Safety
/// Only in the child routine or in a process about to exec.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn set_disposition(sig: i32, handler: libc::sighandler_t) -> isize {
    // The kernel's struct sigaction here: handler, flags, restorer, mask.
    let act = [handler as u64, 0, 0, 0];
    // SAFETY: a live, correctly laid out kernel sigaction; no old action is asked for.
    unsafe { call4(libc::SYS_rt_sigaction, sig as usize, act.as_ptr() as usize, 0, SIGSET_LEN) }
}

/// `signal(sig, handler)` through the C library: only ever called in a child that has its own
/// memory (see the module documentation).
///
/// # Safety
/// Only in the child routine or in a process about to exec.
#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn set_disposition(sig: i32, handler: libc::sighandler_t) -> isize {
    // SAFETY: SIG_DFL and SIG_IGN are valid dispositions; no handler code runs.
    if unsafe { libc::signal(sig, handler) } == libc::SIG_ERR {
        -1
    } else {
        0
    }
}

/// `rt_sigprocmask(SIG_SETMASK, mask, old)`: bit `n - 1` stands for signal `n`.
///
/// # Safety
/// `old`, if not null, must point to a writable `u64`.
pub(super) unsafe fn set_mask(mask: u64, old: *mut u64) -> isize {
    // SAFETY: `mask` lives on our stack for the call; `old` is the caller's to vouch for.
    unsafe {
        call4(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK as usize,
            &mask as *const u64 as usize,
            old as usize,
            SIGSET_LEN,
        )
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    /// A system call with up to four arguments; returns the raw result (`-errno` on error).
    ///
    /// # Safety
    /// As the system call itself requires.
    #[inline(always)]
    pub(in super::super) unsafe fn call4(n: libc::c_long, a: usize, b: usize, c: usize, d: usize) -> isize {
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
    /// with its result, never returning here. Returns the child's pid or `-errno`. A null
    /// `stack` leaves the child on our stack pointer: it then runs below our frame.
    ///
    /// # Safety
    /// `stack` must be the 16-byte aligned top of memory the child may use as its stack
    /// until it execs or exits (in our memory with `CLONE_VM`, else in its copy of it), or
    /// null if we do not run until then (`CLONE_VFORK`) or the child has its own copy of
    /// our memory; `f` must only make calls of this module on memory that stays valid as
    /// long.
    pub(in super::super) unsafe fn clone(
        flags: usize,
        stack: *mut libc::c_void,
        ctid: *mut u32,
        f: extern "C" fn(*mut libc::c_void) -> libc::c_int,
        arg: *mut libc::c_void,
    ) -> isize {
        let ret: isize;
        // SAFETY: the Linux x86_64 clone convention (flags, stack, ptid, ctid, tls). The
        // child starts on `stack` (16-byte aligned, so aligned for the call), or on our
        // stack pointer if it is null (aligned for a call too, since this block may push:
        // no `nostack`, so nothing of ours lives in the red zone below it), with every
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
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    /// A system call through the C library, its result turned into `-errno` on error.
    ///
    /// # Safety
    /// As the system call itself requires; never in a child that shares our memory.
    pub(in super::super) unsafe fn call4(n: libc::c_long, a: usize, b: usize, c: usize, d: usize) -> isize {
        // SAFETY: the caller's arguments, as the system call requires.
        let r = unsafe { libc::syscall(n, a, b, c, d) } as isize;
        if r == -1 {
            -(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL) as isize)
        } else {
            r
        }
    }

    /// A fork-like `clone(flags)` (the child runs on its copy of our stack) whose child calls
    /// `f(arg)` and exits with its result. Sharing memory is refused (ENOSYS): see
    /// [`super::VM_CLONES`].
    ///
    /// # Safety
    /// `f` must only make calls of this module.
    pub(in super::super) unsafe fn clone(
        flags: usize,
        _stack: *mut libc::c_void,
        _ctid: *mut u32,
        f: extern "C" fn(*mut libc::c_void) -> libc::c_int,
        arg: *mut libc::c_void,
    ) -> isize {
        if flags & (libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_CHILD_CLEARTID) as usize != 0 {
            return -(libc::ENOSYS as isize);
        }
        // SAFETY: a null stack makes clone behave as fork: the child has its own copy of
        // this stack and returns here with 0.
        let r = unsafe { call4(libc::SYS_clone, flags, 0, 0, 0) };
        if r == 0 {
            let code = f(arg);
            // SAFETY: ending the child; nothing of this process's cleanup may run in it.
            unsafe { libc::_exit(code) }
        }
        r
    }
}
