//! The supervision tree: our programs, and interop with real s6.

mod interop_supervise;
mod interop_svscan;
// Named after the program it tests, as every module here is.
mod clients_util;
mod interop_clients;
mod pid1;
#[allow(clippy::module_inception)]
mod supervise;
mod svc;
mod svdt;
mod svlink;
mod svok;
mod svperms;
mod svscan;
mod svstat;
