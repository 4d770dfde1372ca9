//! A minimal connection handler for `bench/ipc.py`: writes `ok\n` to its stdout and exits.
//!
//! `/bin/echo` is a dynamic glibc program, and under virtualisation glibc's start-up alone
//! (its `cpuid` cache probing, each instruction a VM exit) costs most of a connection's CPU,
//! whichever server spawned it. This handler is a static musl program like ours, so the
//! scenario that uses it shows what the servers themselves cost per connection.

use std::io::Write;

fn main() {
    if std::io::stdout().write_all(b"ok\n").is_err() {
        std::process::exit(111);
    }
}
