fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svperms::SPEC, s6rs_supervise::cmd::svperms::run)
}
