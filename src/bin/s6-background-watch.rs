fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_supervise::cmd::background_watch::SPEC,
        s6rs_supervise::cmd::background_watch::run,
    )
}
