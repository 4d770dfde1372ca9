fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_supervise::cmd::instance_control::SPEC,
        s6rs_supervise::cmd::instance_control::run,
    )
}
