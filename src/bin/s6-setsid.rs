fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::setsid::SPEC, s6rs_supervise::cmd::setsid::run)
}
