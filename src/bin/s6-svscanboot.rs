fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svscanboot::SPEC, s6rs_supervise::cmd::svscanboot::run)
}
