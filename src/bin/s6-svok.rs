fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svok::SPEC, s6rs_supervise::cmd::svok::run)
}
