fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::svscanctl::SPEC, s6rs_supervise::cmd::svscanctl::run)
}
