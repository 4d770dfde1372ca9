fn main() -> ! {
    s6rs_sys::cli::main("s6-tai64n", s6rs_log::cmd::tai64n::run)
}
