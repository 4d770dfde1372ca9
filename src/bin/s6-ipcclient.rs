fn main() -> ! {
    s6rs_sys::cli::main(&s6rs_ipc::cmd::ipcclient::SPEC, s6rs_ipc::cmd::ipcclient::run)
}
