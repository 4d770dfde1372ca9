fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_ipc::cmd::ipcserver::SPEC, s6rs_ipc::cmd::ipcserver::run)
}
