//! The pool of child stacks for spawning without waiting for the exec and without copying
//! our memory ([`super::strategy`]'s `Pooled`): hot paths (a super-server spawns a handler
//! per connection, s6-svscan a supervisor per service) hold a [`Spawner`].
//!
//! The child is created with `clone(CLONE_VM)`: it shares our memory, so no page tables are
//! copied, no page is made copy-on-write (the parent takes no faults afterwards) and the
//! child has no image of its own to tear down at exec. Unlike `vfork` (and posix_spawn,
//! which uses `CLONE_VM|CLONE_VFORK`), the parent does not wait for the exec: a
//! single-threaded server goes back to its clients at once. So each child runs on a stack
//! of its own, in a *slot* that also holds everything it reads (its [`Image`]);
//! `CLONE_CHILD_CLEARTID` makes the kernel zero the slot's word (and wake any futex waiter)
//! when the child leaves our memory, at its exec or its exit, and only then is the slot
//! reused. What the child may do in our memory is the child routine's concern
//! ([`super::child`]).

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};

use super::child::Image;
use super::command::{Command, Report};

/// Spawns programs without waiting for their exec, on reusable child stacks; the spawn
/// picks this way, or another, from the [`Report`] asked for (see [`Command::spawn`]).
/// Keep one for the life of a program that spawns often. Its children read the C
/// library's environment until they exec: the caller must not change its environment
/// while any may still be before its exec.
pub struct Spawner {
    // Boxed: a running child holds addresses inside its slot, which must not move when
    // the vector grows.
    #[allow(clippy::vec_box)]
    slots: Vec<Box<Slot>>,
}

/// Shows how many slots there are and how many children may still be in them.
impl std::fmt::Debug for Spawner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let busy = self.slots.iter().filter(|s| s.busy.load(Ordering::Acquire) != 0).count();
        f.debug_struct("Spawner").field("slots", &self.slots.len()).field("busy", &busy).finish()
    }
}

/// One child's memory while it runs in ours. Boxed: its address is handed to the kernel.
pub(super) struct Slot {
    /// Nonzero while a child may still read this slot (cleared by the kernel).
    pub(super) busy: AtomicU32,
    pub(super) stack: Stack,
    pub(super) image: Image,
}

/// A child stack: an anonymous mapping with a guard page at its low end.
pub(super) struct Stack {
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
    pub(super) fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of our mapping, 16-byte aligned since the length is.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }

    /// The mapping, below the top, for tests that look at what a child used.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> &[u8] {
        // SAFETY: our mapping, readable above its guard page; no child runs on it now.
        unsafe { std::slice::from_raw_parts(self.base.cast::<u8>().add(4096), self.len - 4096) }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used (the slot is free or leaked instead).
        unsafe { libc::munmap(self.base, self.len) };
    }
}

impl Spawner {
    /// An empty pool: slots are made on demand, and reused once their child has left.
    pub fn new() -> Spawner {
        Spawner { slots: Vec::new() }
    }

    /// Starts `cmd` as [`Command::spawn`] does, on one of this pool's stacks when the
    /// strategy needs one (when `report` lets the spawn return before the exec).
    pub fn spawn(&mut self, cmd: &Command, report: Report<'_>) -> io::Result<i32> {
        super::strategy::spawn(cmd, report, Some(self))
    }

    /// A slot no child reads any more, making one if all are in use.
    pub(super) fn free_slot(&mut self) -> io::Result<&mut Slot> {
        let i = match self.slots.iter().position(|s| s.busy.load(Ordering::Acquire) == 0) {
            Some(i) => i,
            None => {
                let stack = Stack::new()?;
                self.slots.push(Box::new(Slot { busy: AtomicU32::new(0), stack, image: Image::default() }));
                self.slots.len() - 1
            }
        };
        Ok(&mut self.slots[i])
    }

    /// How many slots exist (for tests: slots are reused once their child has exec'd).
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Slot `i`'s stack, for tests that look at what a child used of it.
    #[cfg(test)]
    pub(super) fn stack_bytes(&self, i: usize) -> &[u8] {
        self.slots[i].stack.bytes()
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
