fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::fghack::SPEC, s6rs_supervise::cmd::fghack::run)
}
