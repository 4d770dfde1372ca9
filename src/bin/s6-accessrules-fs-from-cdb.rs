fn main() -> ! {
    s6rs_sys::cli::main("s6-accessrules-fs-from-cdb", s6rs_access::cmd::accessrules_fs_from_cdb::run)
}
