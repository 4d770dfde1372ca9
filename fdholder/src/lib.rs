//! The s6 fd holder: its wire protocol, the daemon and its clients (upstream
//! doc/s6-fdholderd.html and the pages it links; FORMATS.md §5).
//!
//! * [`protocol`]: the requests, replies, dump chunks and dump environment, as pure pack and
//!   unpack functions shared by the daemon and every client.

#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

pub mod protocol;
