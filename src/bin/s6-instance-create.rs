fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_supervise::cmd::instance_create::SPEC,
        s6rs_supervise::cmd::instance_create::run,
    )
}
