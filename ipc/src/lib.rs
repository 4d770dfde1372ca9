//! Unix-domain sockets and the s6 super-server (s6-ipcserverd and friends).
//!
//! Programs arrive with their issue (3); this crate holds its place in the dependency graph.

#![deny(missing_docs)]
