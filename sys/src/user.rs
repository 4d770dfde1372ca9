//! The account databases (`getpwuid`, `getgrnam`, `getgrgid`), through their reentrant
//! variants so that no static libc buffer is shared.
//!
//! Each lookup distinguishes "no such entry" (`Ok(None)`) from a failure to read the
//! database (`Err`), because s6 programs report them differently.

use std::ffi::{CStr, CString};
use std::io;

/// Runs a `get*_r` call with a buffer that grows on ERANGE. `call` returns the function's
/// error number and whether it found an entry.
fn with_buffer<T>(mut call: impl FnMut(&mut [u8]) -> (i32, Option<T>)) -> io::Result<Option<T>> {
    let mut size = 1024;
    loop {
        let mut buf = vec![0u8; size];
        match call(&mut buf) {
            (0, found) => return Ok(found),
            (libc::ERANGE, _) if size < 1 << 20 => size *= 4,
            // glibc reports "not found" as ENOENT/ESRCH/EBADF/EPERM on some backends.
            (libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM, _) => return Ok(None),
            (e, _) => return Err(io::Error::from_raw_os_error(e)),
        }
    }
}

/// The gid of the group named `name`.
pub fn group_gid(name: &str) -> io::Result<Option<u32>> {
    let cname = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    with_buffer(|buf| {
        // SAFETY: group is plain data; all-zero is a valid value to be filled in.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer refers to live storage of the stated size for the call.
        let rc = unsafe {
            libc::getgrnam_r(cname.as_ptr(), &mut gr, buf.as_mut_ptr().cast(), buf.len(), &mut res)
        };
        (rc, (!res.is_null()).then_some(gr.gr_gid))
    })
}

/// The name of group `gid`.
pub fn group_name(gid: u32) -> io::Result<Option<String>> {
    with_buffer(|buf| {
        // SAFETY: group is plain data; all-zero is a valid value to be filled in.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer refers to live storage of the stated size for the call.
        let rc = unsafe { libc::getgrgid_r(gid, &mut gr, buf.as_mut_ptr().cast(), buf.len(), &mut res) };
        if res.is_null() || gr.gr_name.is_null() {
            return (rc, None);
        }
        // SAFETY: on success gr_name points to a NUL-terminated string inside buf.
        let name = unsafe { CStr::from_ptr(gr.gr_name) }.to_string_lossy().into_owned();
        (rc, Some(name))
    })
}

/// The primary gid of user `uid`.
pub fn user_gid(uid: u32) -> io::Result<Option<u32>> {
    with_buffer(|buf| {
        // SAFETY: passwd is plain data; all-zero is a valid value to be filled in.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer refers to live storage of the stated size for the call.
        let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr().cast(), buf.len(), &mut res) };
        (rc, (!res.is_null()).then_some(pw.pw_gid))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_entries() {
        assert_eq!(group_gid("root").unwrap(), Some(0));
        assert_eq!(group_name(0).unwrap().as_deref(), Some("root"));
        assert_eq!(user_gid(0).unwrap(), Some(0));
        assert_eq!(group_gid("no-such-group-s6rs").unwrap(), None);
        assert_eq!(group_name(3_999_999_999).unwrap(), None);
        assert_eq!(user_gid(3_999_999_999).unwrap(), None);
    }
}
