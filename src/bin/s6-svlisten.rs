fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svlisten::SPEC, s6rs_supervise::cmd::svlisten::run)
}
