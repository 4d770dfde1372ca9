fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svscan::SPEC, s6rs_supervise::cmd::svscan::run)
}
