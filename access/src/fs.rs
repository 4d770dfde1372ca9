//! The filesystem rules database (libs6 `s6_accessrules_backend_fs`): the rule for key `K`
//! is the directory `RULESDIR/K`.
//!
//! * `allow`, if readable (`access(R_OK)`), allows; then `env/` (an envdir, FORMATS.md §0.7)
//!   and `exec` (its first 4096 bytes) say what the allowed client gets;
//! * otherwise a readable `deny` denies;
//! * otherwise there is no rule for `K`.
//!
//! "Missing" means ENOENT or EACCES; any other failure (a rule that is a file, an `env`
//! that is not a directory, an unreadable `env/` entry...) is an error, so the client is
//! refused rather than judged on half a rule. So is an `env/` entry or an `exec` that is
//! not a regular file: a FIFO is refused at once, where s6 would wait for a writer (and a
//! server checking in-process would stop serving everyone meanwhile).

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::rules::{Backend, Grant, Lookup, MAX_EXEC};

/// A rules directory.
#[derive(Debug, Clone)]
pub struct FsRules {
    dir: PathBuf,
}

/// Whether an error means "this file is not there for us".
fn absent(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::EACCES))
}

/// `base` + `/` + `rest`, byte for byte (no normalisation, as s6 builds its paths).
pub(crate) fn concat(base: &Path, rest: &[u8]) -> PathBuf {
    let mut b = base.as_os_str().as_bytes().to_vec();
    b.push(b'/');
    b.extend_from_slice(rest);
    PathBuf::from(OsString::from_vec(b))
}

/// Reads at most `max` bytes of the regular file `path` (skalibs `openreadnclose`, but
/// never waiting on a FIFO: see [`s6rs_sys::fd::open_regular`]).
pub(crate) fn read_upto(path: &Path, max: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    s6rs_sys::fd::open_regular(path)?.take(max as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// How a rule's `env/` directory is read: as an envdir, regular files only.
pub(crate) const ENVDIR: s6rs_sys::envdir::Options = s6rs_sys::envdir::Options {
    verbatim: false,
    nochomp: false,
    noclamp: false,
    nullis: b'\n',
    regular_only: true,
};

impl FsRules {
    /// The database in directory `dir`. Nothing is read until a lookup.
    pub fn new(dir: impl Into<PathBuf>) -> FsRules {
        FsRules { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// `rule` (ending in `/`) + `leaf`, in the one buffer a lookup reuses for its paths.
fn leaf<'a>(buf: &'a mut Vec<u8>, base: usize, name: &[u8]) -> &'a Path {
    buf.truncate(base);
    buf.extend_from_slice(name);
    Path::new(OsStr::from_bytes(buf))
}

impl Backend for FsRules {
    fn lookup(&self, key: &[u8]) -> io::Result<Lookup> {
        let mut buf = concat(&self.dir, key).into_os_string().into_vec();
        buf.push(b'/');
        let base = buf.len();
        if let Err(e) = s6rs_sys::fd::access_readable(leaf(&mut buf, base, b"allow")) {
            if !absent(&e) {
                return Err(e);
            }
            return match s6rs_sys::fd::access_readable(leaf(&mut buf, base, b"deny")) {
                Ok(()) => Ok(Lookup::Deny),
                Err(e) if absent(&e) => Ok(Lookup::NotFound),
                Err(e) => Err(e),
            };
        }
        let env = match s6rs_sys::envdir::read(leaf(&mut buf, base, b"env"), &ENVDIR) {
            Ok(env) => env,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Vec::new(),
            Err(e) => return Err(e),
        };
        let exec = match read_upto(leaf(&mut buf, base, b"exec"), MAX_EXEC) {
            Ok(exec) => exec,
            Err(e) if absent(&e) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(Lookup::Allow(Grant { env, exec }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use s6rs_sys::testing::TempDir as Dir;

    /// A rules directory holding `entries`: files with their contents, and directories
    /// where the path ends in `/`.
    fn tree(tag: &str, entries: &[(&str, &[u8])]) -> Dir {
        let d = Dir::new(&format!("access-fs-{tag}"));
        for (path, body) in entries {
            let p = d.0.join(path);
            if path.ends_with('/') {
                std::fs::create_dir_all(p).unwrap();
            } else {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, body).unwrap();
            }
        }
        d
    }

    #[test]
    fn allow_deny_missing_and_grant() {
        let d = tree(
            "basic",
            &[
                ("uid/0/allow", b""),
                ("uid/0/env/FOO", b"bar  \nignored\n"),
                ("uid/0/env/GONE", b""),
                ("uid/0/exec", b"echo hi\n"),
                ("uid/1/deny", b""),
                ("uid/2/allow", b""),
                ("uid/2/deny", b""),
                ("uid/3/other", b""),
            ],
        );
        let r = FsRules::new(&d.0);
        let Lookup::Allow(g) = r.lookup(b"uid/0").unwrap() else { panic!() };
        let mut env = g.env.clone();
        env.sort();
        assert_eq!(env, [("FOO".into(), Some("bar".into())), ("GONE".into(), None)]);
        assert_eq!(g.exec, b"echo hi\n");
        assert_eq!(r.lookup(b"uid/1").unwrap(), Lookup::Deny);
        assert_eq!(r.lookup(b"uid/2").unwrap(), Lookup::Allow(Grant::default()));
        assert_eq!(r.lookup(b"uid/3").unwrap(), Lookup::NotFound);
        assert_eq!(r.lookup(b"uid/4").unwrap(), Lookup::NotFound);
        assert_eq!(r.lookup(b"gid/4").unwrap(), Lookup::NotFound);
    }

    #[test]
    fn broken_rules_are_errors() {
        let d = tree(
            "broken",
            &[
                ("uid/5", b"a file where a rule directory should be"),
                ("uid/6/allow", b""),
                ("uid/6/env", b"not a directory"),
                ("uid/7/allow", b""),
                ("uid/7/exec/", b""),
                ("uid/8/allow", b""),
                ("uid/8/env/SUB/", b""),
            ],
        );
        let r = FsRules::new(&d.0);
        for k in ["uid/5", "uid/6", "uid/7", "uid/8"] {
            assert!(r.lookup(k.as_bytes()).is_err(), "{k}");
        }
    }

    #[test]
    fn exec_is_clamped() {
        let d = tree("clamp", &[("uid/0/allow", b""), ("uid/0/exec", &[b'x'; 5000])]);
        let Lookup::Allow(g) = FsRules::new(&d.0).lookup(b"uid/0").unwrap() else { panic!() };
        assert_eq!(g.exec.len(), MAX_EXEC);
    }
}
