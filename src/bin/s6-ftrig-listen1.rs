fn main() -> ! {
    s6rs_sys::cli::main("s6-ftrig-listen1", s6rs_supervise::cmd::ftrig_listen1::run)
}
