fn main() -> ! {
    s6rs_sys::cli::main("s6-svunlink", s6rs_supervise::cmd::svunlink::run)
}
