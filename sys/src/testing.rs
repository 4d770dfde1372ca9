//! Helpers for the unit tests of every crate: one argument-vector builder and one
//! self-removing scratch directory, instead of a copy in each test module.
//!
//! Compiled for sys's own tests and, through the `test-support` feature that the other
//! crates enable in their dev-dependencies, for theirs; never in a program.

use std::ffi::OsString;
use std::path::PathBuf;

/// An argument vector, as a program's `main` receives it, from string literals.
pub fn args(v: &[&str]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

/// An exec chain as text, each of our sibling programs (an absolute path ending in
/// `/s6-...`) shortened to its name, so that tests compare chains wherever the binaries are.
pub fn program_names(argv: Vec<OsString>) -> Vec<String> {
    argv.into_iter()
        .map(|a| {
            let s = a.to_string_lossy().into_owned();
            s.rsplit_once('/').filter(|(_, n)| n.starts_with("s6-")).map_or(s.clone(), |(_, n)| n.to_owned())
        })
        .collect()
}

/// A fresh directory under the system temp dir, removed with its contents on drop.
/// The name carries the process id, so concurrent test processes do not collide; `tag`
/// must be unique among the tests of one process.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/s6rs-<tag>-<pid>`, emptied first if a crashed run left it.
    /// Panics on failure: this is test code.
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("s6rs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        if let Err(e) = std::fs::create_dir_all(&p) {
            panic!("creating {}: {e}", p.display());
        }
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
