fn main() -> ! {
    s6rs_sys::cli::main("s6-notifyoncheck", s6rs_supervise::cmd::notifyoncheck::run)
}
