fn main() -> ! {
    s6rs_sys::cli::main("s6-tai64nlocal", s6rs_log::cmd::tai64nlocal::run)
}
