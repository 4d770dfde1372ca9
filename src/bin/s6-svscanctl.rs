fn main() -> ! {
    s6rs_sys::cli::main("s6-svscanctl", s6rs_supervise::cmd::svscanctl::run)
}
