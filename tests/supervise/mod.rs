//! The supervision tree: our programs, and interop with real s6.

mod clients_util;
mod ftrig;
mod interop_ftrig;
mod svok;
mod svwait;
