fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::softlimit::SPEC, s6rs_supervise::cmd::softlimit::run)
}
