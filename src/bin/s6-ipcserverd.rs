fn main() -> ! {
    s6rs_sys::cli::main(&s6rs::composed::ipcserverd::SPEC, s6rs::composed::ipcserverd::run)
}
