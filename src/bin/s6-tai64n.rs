fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_log::cmd::tai64n::SPEC, s6rs_log::cmd::tai64n::run)
}
