#![no_main]
s6rs_sys::entry!(s6rs_supervise::cmd::supervise::SPEC, s6rs_supervise::cmd::supervise::run);
