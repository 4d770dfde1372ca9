fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_fdholder::cmd::fdholder_store::SPEC, s6rs_fdholder::cmd::fdholder_store::run)
}
