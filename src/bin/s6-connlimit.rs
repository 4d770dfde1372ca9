fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_access::cmd::connlimit::SPEC, s6rs_access::cmd::connlimit::run)
}
