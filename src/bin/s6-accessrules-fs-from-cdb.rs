fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_access::cmd::accessrules_fs_from_cdb::SPEC,
        s6rs_access::cmd::accessrules_fs_from_cdb::run,
    )
}
