//! Privilege delegation without a setuid binary: s6-sudo, s6-sudoc and s6-sudod
//! (upstream doc/s6-sudo.html, s6-sudoc.html, s6-sudod.html), on ipc's unixmessage framing.
//!
//! * [`protocol`]: the wire protocol between client and server, pure pack/unpack.
//! * [`wire`]: timed raw reads and writes of the protocol's unframed parts.
//! * [`client`]: the client side, shared by s6-sudoc (fds 6 and 7) and s6-sudo (its own
//!   connection).
//! * [`policy`]: the s6-rs argument policy s6-sudod reads from its environment.
//! * [`audit`]: the s6-rs audit lines of `s6-sudod --audit`.
//! * [`cmd`]: the three programs.

#![deny(missing_docs)]

pub mod audit;
pub mod client;
pub mod cmd;
pub mod policy;
pub mod protocol;
pub mod wire;
