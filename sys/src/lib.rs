//! Kernel-facing mechanisms shared by every s6-rs program.
//!
//! This crate knows no s6 file names and no s6 protocols: it is the layer that skalibs is
//! for s6. Each module is one kernel or daemontools concept, written once.

#![deny(missing_docs)]

pub mod cli;
pub mod deadline;
pub mod envdir;
pub mod ere;
pub mod event;
pub mod exec;
pub mod fd;
pub mod ip6;
pub mod lock;
pub mod proc;
pub mod rlimit;
pub mod sig;
pub mod socket;
pub mod tai;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod user;
