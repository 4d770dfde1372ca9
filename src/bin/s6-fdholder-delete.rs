fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_fdholder::cmd::fdholder_delete::SPEC, s6rs_fdholder::cmd::fdholder_delete::run)
}
