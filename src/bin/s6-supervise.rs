fn main() -> ! {
    s6rs_sys::cli::main("s6-supervise", s6rs_supervise::cmd::supervise::run)
}
