fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svc::SPEC, s6rs_supervise::cmd::svc::run)
}
