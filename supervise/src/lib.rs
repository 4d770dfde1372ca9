//! The s6 supervision tree: service-directory formats (status, death tally, control fifo,
//! fifodir events), and the programs that run and drive supervisors.
//!
//! Upstream pages: doc/servicedir.html, doc/scandir.html, doc/fifodir.html and the page of
//! each program under `cmd`.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod block;
pub mod control;
pub mod dtally;
pub mod fifodir;
pub mod ftrig;
pub mod link;
pub mod servicedir;
pub mod supervisor;
pub mod svscan;
pub mod svstatus;
pub mod svwait;

pub mod cmd;
