fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_fdholder::cmd::fdholder_listenfds::SPEC,
        s6rs_fdholder::cmd::fdholder_listenfds::run,
    )
}
