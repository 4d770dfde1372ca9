fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::envdir::SPEC, s6rs_supervise::cmd::envdir::run)
}
