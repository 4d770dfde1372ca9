fn main() -> ! {
    s6rs_sys::cli::main("s6-setlock", s6rs_supervise::cmd::setlock::run)
}
