fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svunlink::SPEC, s6rs_supervise::cmd::svunlink::run)
}
