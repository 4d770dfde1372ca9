fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svlink::SPEC, s6rs_supervise::cmd::svlink::run)
}
