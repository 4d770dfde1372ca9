fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_log::cmd::log::SPEC, s6rs_log::cmd::log::run)
}
