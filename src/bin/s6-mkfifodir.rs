fn main() -> ! {
    s6rs_sys::cli::main("s6-mkfifodir", s6rs_supervise::cmd::mkfifodir::run)
}
