fn main() -> ! {
    s6rs_sys::cli::main("s6-envuidgid", s6rs_supervise::cmd::envuidgid::run)
}
