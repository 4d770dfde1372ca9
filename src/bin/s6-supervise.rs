#![no_main]
s6rs_sys::entry!("s6-supervise", s6rs_supervise::cmd::supervise::run);
