fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_supervise::cmd::usertree_maker::SPEC, s6rs_supervise::cmd::usertree_maker::run)
}
