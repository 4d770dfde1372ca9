fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_fdholder::cmd::fdholder_list::SPEC, s6rs_fdholder::cmd::fdholder_list::run)
}
