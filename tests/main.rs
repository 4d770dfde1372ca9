//! Integration tests: real processes in temp dirs, one module per area, plus interop
//! against Debian's s6 at /usr/bin.

mod support;

mod access;
mod fdholder;
/// The fuzz harnesses, shared with the fuzz targets in fuzz/.
#[path = "../fuzz/harness.rs"]
mod fuzz_harness;
mod fuzz_replay;
mod help;
mod ipc;
mod log;
mod supervise;
