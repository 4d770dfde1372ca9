fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_ipc::cmd::ioconnect::SPEC, s6rs_ipc::cmd::ioconnect::run)
}
