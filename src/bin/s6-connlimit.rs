fn main() -> ! {
    s6rs_sys::cli::main("s6-connlimit", s6rs_access::cmd::connlimit::run)
}
