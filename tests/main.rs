//! Integration tests: real processes in temp dirs, one module per area, plus interop
//! against Debian's s6 at /usr/bin.

mod support;

mod access;
mod help;
mod ipc;
mod log;
mod supervise;
