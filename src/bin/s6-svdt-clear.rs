fn main() -> ! {
    s6rs_sys::cli::main("s6-svdt-clear", s6rs_supervise::cmd::svdt_clear::run)
}
