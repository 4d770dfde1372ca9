//! The s6 fd holder: its wire protocol, the daemon and its clients (upstream
//! doc/s6-fdholderd.html and the pages it links; FORMATS.md §5).
//!
//! * [`protocol`]: the requests, replies, dump chunks and dump environment, as pure pack and
//!   unpack functions shared by the daemon and every client.
//! * [`store`]: the daemon's held fds, their ids and expiries.
//! * [`rights`]: what a client may do, from its access rule's environment.
//! * [`client`]: one connection to a daemon, an operation per function.
//! * [`cmd`]: s6-fdholderd, s6-fdholder-daemon and the client programs, and
//!   s6-fdholder-listenfds, an extension: systemd-style socket activation from held fds.

#![deny(missing_docs)]

pub mod client;
pub mod cmd;
pub mod protocol;
pub mod rights;
pub mod store;
