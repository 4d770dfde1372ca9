//! The supervision tree: our programs, and interop with real s6.

mod clients_util;
mod interop_clients;
mod svc;
mod svdt;
mod svlink;
mod svok;
mod svperms;
mod svstat;
