fn main() -> ! {
    s6rs_sys::cli::main("s6-ftrig-listen", s6rs_supervise::cmd::ftrig_listen::run)
}
