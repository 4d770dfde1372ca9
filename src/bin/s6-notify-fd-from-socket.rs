fn main() -> ! {
    s6rs_sys::cli::main(
        &s6rs_supervise::cmd::notify_fd_from_socket::SPEC,
        s6rs_supervise::cmd::notify_fd_from_socket::run,
    )
}
