fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svlisten1::SPEC, s6rs_supervise::cmd::svlisten1::run)
}
