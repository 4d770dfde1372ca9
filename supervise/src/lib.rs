//! The s6 supervision tree: service-directory formats (status, death tally, control fifo,
//! fifodir events), and the programs that run and drive supervisors.
//!
//! Upstream pages: doc/servicedir.html, doc/scandir.html, doc/fifodir.html and the page of
//! each program under `cmd`.

#![deny(missing_docs)]

pub(crate) mod block;
pub mod control;
pub mod dtally;
pub mod fifodir;
pub(crate) mod ftrig;
pub(crate) mod instance;
pub(crate) mod link;
pub(crate) mod script;
pub mod sdnotify;
pub mod servicedir;
pub(crate) mod supervisor;
pub(crate) mod svscan;
pub mod svstatus;
pub(crate) mod svwait;

pub mod cmd;
