fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::envuidgid::SPEC, s6rs_supervise::cmd::envuidgid::run)
}
