//! The supervision tree: our programs, and interop with real s6.

mod clients_util;
mod container;
mod demo;
mod ftrig;
mod instance;
mod interop_clients;
mod interop_ftrig;
mod interop_runhelpers;
mod interop_supervise;
mod interop_svscan;
mod notify;
mod notify_socket;
mod runhelpers;
// Named after the program it tests, as every module here is.
#[allow(clippy::module_inception)]
mod supervise;
mod svc;
mod svdt;
mod svlink;
mod svok;
mod svperms;
pub(crate) mod svscan;
mod svscanboot;
mod svstat;
mod svwait;
mod usertree;
