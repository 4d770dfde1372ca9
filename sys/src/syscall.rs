//! Raw libc calls turned into `io::Result`, for the process-start routine (`exec`) until its
//! calls move to `nix` like the rest of the crate's. Elsewhere, what nix has no form for is
//! called raw in one function with its own `// SAFETY:` line.

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
