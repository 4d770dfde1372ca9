fn main() -> ! {
    s6rs_sys::cli::main("s6-envdir", s6rs_supervise::cmd::envdir::run)
}
