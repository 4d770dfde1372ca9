//! The supervision tree: our programs, and interop with real s6.

mod interop_svscan;
mod svok;
mod svscan;
