fn main() -> ! {
    s6rs_sys::cli::main("s6-svdt", s6rs_supervise::cmd::svdt::run)
}
