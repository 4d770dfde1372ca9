fn main() -> ! {
    s6rs_sys::cli::main("s6-svstat", s6rs_supervise::cmd::svstat::run)
}
