fn main() -> ! {
    s6rs_sys::cli::main("s6-ipcserver-access", s6rs_access::cmd::ipcserver_access::run)
}
