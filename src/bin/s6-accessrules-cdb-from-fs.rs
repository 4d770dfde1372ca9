fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_access::cmd::accessrules_cdb_from_fs::SPEC,
        s6rs_access::cmd::accessrules_cdb_from_fs::run,
    )
}
