//! Running programs: starting children, chain-loading (exec in place), waiting for
//! children, and finding sibling programs.
//!
//! - `env`: the environment a program starts with (skalibs' `env_merge` order) and the
//!   `PATH` search.
//! - `command`: what to run ([`Command`]) and what the caller needs to learn from its
//!   start ([`Report`]).
//! - `strategy` and `spawner`: how the child is made, picked from that need, never by the
//!   caller: `clone(CLONE_VM|CLONE_VFORK)` when exec failures must come back, `clone(CLONE_VM)`
//!   on a [`Spawner`]'s reusable stacks when the caller must not wait, a fork-like clone
//!   when it must not wait and keeps no pool.
//! - `child`: the one routine every child runs between its clone and its exec, and
//!   [`Command::exec`] runs in place: signals, mask, setsid, fds, directory, lock, exec,
//!   then 126/127. It makes raw system calls only, so that it is safe in a child sharing our
//!   memory.
//! - `wait`: wait statuses and reaping; `fork`: forking to run our own code.
//!
//! A spawned child gets an empty signal mask, SIGPIPE and every disposition this process
//! changed back at their default (Rust ignores SIGPIPE, and that survives execve), and every
//! other disposition as this process inherited it, ignored signals included, as s6's C
//! programs hand them on ([`crate::sig`]'s `spawn_defaults`). A chain-loaded program gets the
//! signal state this process inherited, as a C chain-loader leaves it
//! (`crate::sig`'s `inherited`). Exec failures map to 127 when the program is missing
//! and 126 otherwise.
//!
//! A child started in a new session ([`Command::setsid`]) is a session and process-group
//! leader by the time any spawn returns: a strategy that returns before the exec waits for
//! the child's `setsid` through a close-on-exec pipe the child closes right after it.

mod child;
mod command;
mod env;
mod fork;
mod raw;
mod spawner;
mod strategy;
mod wait;

pub use command::{chainload, exec_fatal, is_executable, sibling, Command, Report};
pub use env::EnvMod;
pub use fork::{doublefork, fork, Fork};
pub use spawner::Spawner;
pub use wait::{reap, try_wait, wait, wait_any, WaitStatus};

#[cfg(test)]
mod tests;
