fn main() -> ! {
    s6rs_sys::cli::main("s6-softlimit", s6rs_supervise::cmd::softlimit::run)
}
