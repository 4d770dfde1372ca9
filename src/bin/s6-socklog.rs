fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_log::cmd::socklog::SPEC, s6rs_log::cmd::socklog::run)
}
