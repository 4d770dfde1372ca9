fn main() -> ! {
    s6rs_sys::cli::main("s6-svwait", s6rs_supervise::cmd::svwait::run)
}
