fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::permafailon::SPEC, s6rs_supervise::cmd::permafailon::run)
}
