fn main() -> ! {
    s6rs_sys::cli::main("s6-ipcclient", s6rs_ipc::cmd::ipcclient::run)
}
