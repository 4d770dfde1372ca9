fn main() -> ! {
    s6rs_sys::cli::main("s6-svlisten", s6rs_supervise::cmd::svlisten::run)
}
