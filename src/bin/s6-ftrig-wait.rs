fn main() -> ! {
    s6rs_sys::cli::main("s6-ftrig-wait", s6rs_supervise::cmd::ftrig_wait::run)
}
