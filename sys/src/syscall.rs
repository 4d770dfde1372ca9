//! The one place raw libc calls are turned into `io::Result`.

/// Calls a libc function and maps a `-1` return into `io::Error::last_os_error()`.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: every call site passes pointers to live, correctly sized buffers or
        // NUL-terminated strings, and plain integers otherwise.
        #[allow(unused_unsafe)]
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}
