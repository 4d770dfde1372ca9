//! The supervision tree: our programs, and interop with real s6.

mod interop_supervise;
mod interop_svscan;
// Named after the program it tests, as every module here is.
mod pid1;
#[allow(clippy::module_inception)]
mod supervise;
mod svok;
mod svscan;
