fn main() -> ! {
    s6rs_sys::cli::main("s6-ftrig-notify", s6rs_supervise::cmd::ftrig_notify::run)
}
