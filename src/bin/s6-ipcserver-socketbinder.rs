fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_ipc::cmd::ipcserver_socketbinder::SPEC,
        s6rs_ipc::cmd::ipcserver_socketbinder::run,
    )
}
