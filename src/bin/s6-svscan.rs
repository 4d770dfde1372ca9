fn main() -> ! {
    s6rs_sys::cli::main("s6-svscan", s6rs_supervise::cmd::svscan::run)
}
