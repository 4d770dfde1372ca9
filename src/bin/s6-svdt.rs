fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svdt::SPEC, s6rs_supervise::cmd::svdt::run)
}
