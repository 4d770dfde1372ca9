fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_fdholder::cmd::fdholder_daemon::SPEC, s6rs_fdholder::cmd::fdholder_daemon::run)
}
