//! The s6 fd holder: protocol, daemon and clients.
//!
//! Programs arrive with their issue (a later issue); this crate holds its place in the dependency graph.

#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]
