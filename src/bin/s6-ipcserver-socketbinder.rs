fn main() -> ! {
    s6rs_sys::cli::main("s6-ipcserver-socketbinder", s6rs_ipc::cmd::ipcserver_socketbinder::run)
}
