fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_fdholder::cmd::fdholderd::SPEC, s6rs_fdholder::cmd::fdholderd::run)
}
