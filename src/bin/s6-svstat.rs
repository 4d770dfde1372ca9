fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svstat::SPEC, s6rs_supervise::cmd::svstat::run)
}
