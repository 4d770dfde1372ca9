//! The s6 logger and timestamp filters.
//!
//! Programs arrive with their issue (4); this crate holds its place in the dependency graph.

#![deny(missing_docs)]
