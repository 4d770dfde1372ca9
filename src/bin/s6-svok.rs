fn main() -> ! {
    s6rs_sys::cli::main("s6-svok", s6rs_supervise::cmd::svok::run)
}
