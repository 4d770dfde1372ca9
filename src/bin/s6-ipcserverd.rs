fn main() -> ! {
    s6rs_sys::cli::main("s6-ipcserverd", s6rs_access::cmd::ipcserverd::run)
}
