fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::applyuidgid::SPEC, s6rs_supervise::cmd::applyuidgid::run)
}
