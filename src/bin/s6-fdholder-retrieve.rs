fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_fdholder::cmd::fdholder_retrieve::SPEC,
        s6rs_fdholder::cmd::fdholder_retrieve::run,
    )
}
