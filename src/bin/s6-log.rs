fn main() -> ! {
    s6rs_sys::cli::main("s6-log", s6rs_log::cmd::log::run)
}
