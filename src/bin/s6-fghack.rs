fn main() -> ! {
    s6rs_sys::cli::main("s6-fghack", s6rs_supervise::cmd::fghack::run)
}
