//! s6 access control: the access-rules library (libs6 `accessrules`) with its filesystem and
//! cdb databases, and the programs built on it: s6-ipcserver-access, s6-connlimit,
//! s6-accessrules-cdb-from-fs and s6-accessrules-fs-from-cdb.
//!
//! The same rules serve Unix-domain servers (`uid/`, `gid/` keys) and TCP servers (`ip4/`,
//! `ip6/`, `reversedns/` keys). [`check::evaluate`] is s6-ipcserver-access's whole decision
//! as a function, for servers that check clients in-process.

#![deny(missing_docs)]

pub mod cdb;
pub mod cdbfile;
pub mod check;
pub mod cmd;
pub mod fs;
pub mod mapping;
pub mod rules;

pub use check::{evaluate, AccessOptions, Decision, PeerIds, RuleSource};
