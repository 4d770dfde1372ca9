fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_supervise::cmd::instance_delete::SPEC,
        s6rs_supervise::cmd::instance_delete::run,
    )
}
