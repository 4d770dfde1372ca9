fn main() -> ! {
    s6rs_sys::cli::main("s6-permafailon", s6rs_supervise::cmd::permafailon::run)
}
