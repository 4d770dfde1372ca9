fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_access::cmd::ipcserverd::SPEC, s6rs_access::cmd::ipcserverd::run)
}
