fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svdt_clear::SPEC, s6rs_supervise::cmd::svdt_clear::run)
}
