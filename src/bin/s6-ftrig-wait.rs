fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::ftrig_wait::SPEC, s6rs_supervise::cmd::ftrig_wait::run)
}
