fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_sudo::cmd::sudod::SPEC, s6rs_sudo::cmd::sudod::run)
}
