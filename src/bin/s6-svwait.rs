fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svwait::SPEC, s6rs_supervise::cmd::svwait::run)
}
