fn main() -> ! {
    s6rs_sys::cli::main("s6-setsid", s6rs_supervise::cmd::setsid::run)
}
