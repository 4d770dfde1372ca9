fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_log::cmd::ucspilogd::SPEC, s6rs_log::cmd::ucspilogd::run)
}
