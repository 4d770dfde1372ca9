fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::mkfifodir::SPEC, s6rs_supervise::cmd::mkfifodir::run)
}
