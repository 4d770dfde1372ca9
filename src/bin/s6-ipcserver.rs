fn main() -> ! {
    s6rs_sys::cli::main(&s6rs::composed::ipcserver::SPEC, s6rs::composed::ipcserver::run)
}
