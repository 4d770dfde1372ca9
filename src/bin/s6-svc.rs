fn main() -> ! {
    s6rs_sys::cli::main("s6-svc", s6rs_supervise::cmd::svc::run)
}
