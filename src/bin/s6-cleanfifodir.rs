fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::cleanfifodir::SPEC, s6rs_supervise::cmd::cleanfifodir::run)
}
