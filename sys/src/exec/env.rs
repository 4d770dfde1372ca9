//! The environment a program starts with, and where its file is looked for.
//!
//! Environment changes apply as skalibs' `env_merge` applies them, so that a program sees
//! the same environment, byte for byte and in the same order, as under s6. The `PATH`
//! search gives the list of files the child tries in turn; it is worked out before any
//! clone or fork, so that the child only walks arrays.

use std::ffi::{CStr, OsString};
use std::os::raw::c_char;

/// One environment change: set `name` to a value, or unset it (`None`).
pub type EnvMod = (OsString, Option<OsString>);

/// The search path when the environment has no `PATH`: skalibs' default, which real s6's
/// programs use (checked against Debian's libskarnet).
pub(super) const DEFAULT_PATH: &[u8] = b"/usr/bin:/bin";

extern "C" {
    /// The C library's environment: what std::env reads and writes.
    static environ: *const *const c_char;
}

/// The current environment: the C library's NULL-terminated array of `NAME=value`
/// strings, valid as long as nothing changes the environment. s6-rs programs that spawn
/// are single-threaded and set their environment, if at all, before they start children.
pub(super) fn current() -> *const *const c_char {
    // SAFETY: reading the pointer; see above for why what it points to holds still.
    unsafe { environ }
}

/// The entries of a NULL-terminated array of C strings.
///
/// # Safety
/// `env` must be null or a NULL-terminated array that outlives the iterator.
pub(super) unsafe fn entries(env: *const *const c_char) -> impl Iterator<Item = *const c_char> {
    let mut p = env;
    std::iter::from_fn(move || {
        // SAFETY: we stop at the NULL entry, which the caller guarantees.
        let e = if p.is_null() { std::ptr::null() } else { unsafe { *p } };
        if e.is_null() {
            return None;
        }
        // SAFETY: the next entry exists, since this one was not the terminator.
        p = unsafe { p.add(1) };
        Some(e)
    })
}

/// One step of skalibs' `env_merge` on entries of any representation: the first entry for
/// `name` (as `named` tells) is removed by moving the last entry into its slot, then `new`,
/// if the change sets a value, is appended.
pub(super) fn apply<T>(vars: &mut Vec<T>, name: &[u8], new: Option<T>, named: impl Fn(&T, &[u8]) -> bool) {
    if let Some(j) = vars.iter().position(|e| named(e, name)) {
        vars.swap_remove(j);
    }
    if let Some(v) = new {
        vars.push(v);
    }
}

/// Whether the C string `e` is `NAME=...` for `name`.
///
/// # Safety
/// `e` must be a NUL-terminated string.
pub(super) unsafe fn c_named(e: *const c_char, name: &[u8]) -> bool {
    for (i, &b) in name.iter().enumerate() {
        // SAFETY: we stop at the first mismatch, and a NUL mismatches every name byte.
        if unsafe { *e.add(i) } as u8 != b {
            return false;
        }
    }
    // SAFETY: every byte before it matched a non-NUL name byte.
    unsafe { *e.add(name.len()) as u8 == b'=' }
}

/// The value of `PATH` among `env`'s entries, or [`DEFAULT_PATH`].
///
/// # Safety
/// Every entry must be a NUL-terminated string that outlives the result.
pub(super) unsafe fn path<'a>(env: impl IntoIterator<Item = *const c_char>) -> &'a [u8] {
    for e in env {
        // SAFETY: the caller's strings.
        if unsafe { c_named(e, b"PATH") } {
            // SAFETY: as above; the value starts after "PATH=".
            return unsafe { CStr::from_ptr(e.add(5)) }.to_bytes();
        }
    }
    DEFAULT_PATH
}

/// The files to try, in order, for program `prog` with search path `path`, each given to
/// `push` as parts to concatenate: `prog` itself if it has a slash (or is empty), else
/// `dir/prog` for each `dir` of the path, an empty `dir` meaning the current directory, as
/// the C library's `execvp` searches.
pub(super) fn candidates<E>(
    prog: &[u8],
    path: &[u8],
    mut push: impl FnMut(&[&[u8]]) -> Result<(), E>,
) -> Result<(), E> {
    if prog.is_empty() || prog.contains(&b'/') {
        return push(&[prog]);
    }
    for dir in path.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        push(&[dir, b"/", prog])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_named(e: &[u8], n: &[u8]) -> bool {
        e.len() > n.len() && e.starts_with(n) && e[n.len()] == b'='
    }

    #[test]
    fn merge_orders_like_skalibs_env_merge() {
        let mut vars = ["A=1", "B=2", "C=3", "D=4", "B=dup"].map(|s| s.as_bytes().to_vec()).to_vec();
        let mods: [(&str, Option<&str>); 4] =
            [("B", Some("new")), ("A", None), ("E", Some("5")), ("AB", None)];
        for (n, v) in mods {
            let new = v.map(|v| format!("{n}={v}").into_bytes());
            apply(&mut vars, n.as_bytes(), new, |e: &Vec<u8>, n| bytes_named(e, n));
        }
        let got: Vec<String> = vars.into_iter().map(|b| String::from_utf8(b).unwrap()).collect();
        // B's first slot takes the last variable, B=new goes last; A's slot takes the new
        // last (B=new); E is appended; AB matches nothing (A=... is not AB=...).
        assert_eq!(got, ["B=new", "B=dup", "C=3", "D=4", "E=5"]);
    }

    #[test]
    fn candidates_follow_the_path_or_the_slash() {
        let list = |prog: &str, path: &str| {
            let mut out = Vec::new();
            candidates::<()>(prog.as_bytes(), path.as_bytes(), |parts| {
                out.push(String::from_utf8(parts.concat()).unwrap());
                Ok(())
            })
            .unwrap();
            out
        };
        assert_eq!(list("sh", "/usr/bin:/bin"), ["/usr/bin/sh", "/bin/sh"]);
        assert_eq!(list("sh", ":/bin"), ["./sh", "/bin/sh"]);
        assert_eq!(list("./run", "/bin"), ["./run"]);
        assert_eq!(list("", "/bin"), [""]);
    }

    #[test]
    fn path_defaults_to_skalibs_default() {
        let owned = [c"HOME=/", c"PATHX=/no", c"PATH=/a:/b"];
        let mut ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        // SAFETY: a NULL-terminated array of the static C strings above.
        let all: Vec<_> = unsafe { entries(ptrs.as_ptr()) }.collect();
        assert_eq!(all.len(), 3);
        // SAFETY: as above.
        assert_eq!(unsafe { path(all.iter().copied()) }, b"/a:/b");
        assert_eq!(unsafe { path(all[..2].iter().copied()) }, DEFAULT_PATH);
        assert_eq!(unsafe { entries(std::ptr::null()) }.count(), 0);
    }
}
