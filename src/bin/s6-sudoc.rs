fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_sudo::cmd::sudoc::SPEC, s6rs_sudo::cmd::sudoc::run)
}
