fn main() -> ! {
    s6rs_sys::cli::main("s6-background-watch", s6rs_supervise::cmd::background_watch::run)
}
