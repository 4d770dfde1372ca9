fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_supervise::cmd::notify_socket_from_fd::SPEC,
        s6rs_supervise::cmd::notify_socket_from_fd::run,
    )
}
