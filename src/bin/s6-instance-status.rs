fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_supervise::cmd::instance_status::SPEC,
        s6rs_supervise::cmd::instance_status::run,
    )
}
