fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::setlock::SPEC, s6rs_supervise::cmd::setlock::run)
}
