//! The supervision tree: our programs, and interop with real s6.

mod interop_runhelpers;
mod runhelpers;
mod svok;
