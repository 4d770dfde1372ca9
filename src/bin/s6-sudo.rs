fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_sudo::cmd::sudo::SPEC, s6rs_sudo::cmd::sudo::run)
}
