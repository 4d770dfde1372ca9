fn main() -> ! {
    s6rs_sys::cli::main("s6-socklog", s6rs_log::cmd::socklog::run)
}
