//! s6 access-control rules (`s6-ipcserver-access`, s6-connlimit, the rules database).
//!
//! Programs arrive with their issue (3); this crate holds its place in the dependency graph.

#![deny(missing_docs)]
