fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_access::cmd::ipcserver_access::SPEC, s6rs_access::cmd::ipcserver_access::run)
}
