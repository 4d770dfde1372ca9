fn main() -> ! {
    s6rs_sys::cli::main("s6-cleanfifodir", s6rs_supervise::cmd::cleanfifodir::run)
}
