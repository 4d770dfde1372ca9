fn main() -> ! {
    s6rs_sys::cli::main("s6-ioconnect", s6rs_ipc::cmd::ioconnect::run)
}
