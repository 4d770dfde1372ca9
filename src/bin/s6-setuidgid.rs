fn main() -> ! {
    s6rs_sys::cli::main("s6-setuidgid", s6rs_supervise::cmd::setuidgid::run)
}
