//! The root package's library: the programs that no single area crate can hold, because
//! they wire two or more areas together. Every other program lives in its area crate; the
//! binaries in `src/bin/` are one-line shims over both.

#![deny(missing_docs)]

pub mod composed;
