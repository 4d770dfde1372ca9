fn main() -> ! {
    s6rs_sys::cli::main("s6-ipcserver", s6rs_ipc::cmd::ipcserver::run)
}
