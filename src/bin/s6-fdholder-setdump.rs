fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_fdholder::cmd::fdholder_setdump::SPEC,
        s6rs_fdholder::cmd::fdholder_setdump::run,
    )
}
