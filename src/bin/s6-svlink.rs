fn main() -> ! {
    s6rs_sys::cli::main("s6-svlink", s6rs_supervise::cmd::svlink::run)
}
