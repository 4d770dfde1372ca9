fn main() -> ! {
    s6rs_sys::cli::main("s6-svperms", s6rs_supervise::cmd::svperms::run)
}
