fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::ftrig_listen1::SPEC, s6rs_supervise::cmd::ftrig_listen1::run)
}
