fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::setuidgid::SPEC, s6rs_supervise::cmd::setuidgid::run)
}
