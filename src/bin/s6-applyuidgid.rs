fn main() -> ! {
    s6rs_sys::cli::main("s6-applyuidgid", s6rs_supervise::cmd::applyuidgid::run)
}
