fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::notifyoncheck::SPEC, s6rs_supervise::cmd::notifyoncheck::run)
}
