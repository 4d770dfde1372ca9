//! Integration tests: real processes in temp dirs, one module per area, plus interop
//! against Debian's s6 at /usr/bin.

// A test binary exports nothing: its modules share helpers with plain `pub`, and spelling
// each `pub(crate)` would tell no reader anything (the workspace lint is for libraries).
#![allow(unreachable_pub)]

mod support;

mod access;
mod fdholder;
mod frontend;
/// The fuzz harnesses, shared with the fuzz targets in fuzz/.
#[path = "../fuzz/harness.rs"]
mod fuzz_harness;
mod fuzz_replay;
mod help;
mod ipc;
mod log;
mod s6rc;
mod sudo;
mod supervise;
