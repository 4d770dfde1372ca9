fn main() -> ! {
    s6rs_sys::cli::main("s6-svlisten1", s6rs_supervise::cmd::svlisten1::run)
}
