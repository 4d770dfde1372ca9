fn main() -> ! {
    s6rs_sys::cli::main("ucspilogd", s6rs_log::cmd::ucspilogd::run)
}
