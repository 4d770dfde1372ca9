//! s6-accessrules-fs-from-cdb: decompile a rules cdb into a rules directory.
//! Upstream page: `s6-accessrules-fs-from-cdb.html`; FORMATS.md §7.2.
//!
//! DIR must not exist. Each record `CLASS/RULE` becomes the directory `DIR/CLASS/RULE`
//! (directories are made with mode 02755 regardless of the umask, as upstream makes them)
//! holding an empty `allow` or `deny`, an `env/` with one file per variable (`value\n`, or
//! empty to unset) and an `exec` file. On any failure DIR is removed.
//!
//! One deliberate difference: a record whose key or variable name would make us write
//! outside DIR (an absolute key, an empty, `.` or `..` component, a variable name with a
//! `/`) is invalid data here. s6-accessrules-cdb-from-fs never writes such records.

use std::ffi::OsString;
use std::fs::DirBuilder;
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use s6rs_sys::cli::{show, Fatal, Spec};

use crate::cdbfile::Cdb;
use crate::fs::concat;
use crate::rules::{MAX_ENV, MAX_EXEC};

/// The command line: no options, as upstream.
pub const SPEC: Spec = Spec {
    name: "s6-accessrules-fs-from-cdb",
    operands: "dir cdbfile",
    about: "Turns the access rules cdb file cdbfile back into a rules directory dir, which must not exist.",
    doc: "s6-accessrules-fs-from-cdb.html",
    flags: &[],
};

/// The longest record value upstream's decompiler accepts.
const MAX_RECORD: usize = 8201;

/// Why a record could not be written out.
enum Failure {
    /// The record is not access-rules data.
    Invalid,
    /// A file-system operation failed.
    Fatal(Fatal),
}

impl From<Fatal> for Failure {
    fn from(f: Fatal) -> Failure {
        Failure::Fatal(f)
    }
}

fn unable(what: &str, path: &Path, e: &io::Error) -> Fatal {
    Fatal::sys(format_args!("{what} {}", path.display()), e)
}

/// `mkdir(path, 02755)` with a zero umask; an existing entry is accepted.
fn mkdir(path: &Path) -> io::Result<()> {
    let old = s6rs_sys::fd::umask(0);
    let res = DirBuilder::new().mode(0o2755).create(path);
    s6rs_sys::fd::umask(old);
    match res {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        r => r,
    }
}

/// Creates or truncates `path` and writes `data` into it (skalibs `open_trunc` + write:
/// mode 0666 under the umask, no fsync).
fn write_file(path: &Path, data: &[&[u8]], what: &str) -> Result<(), Fatal> {
    let mut f = s6rs_sys::fd::open_trunc(path)
        .map_err(|e| unable(if data.is_empty() { "open_trunc" } else { what }, path, &e))?;
    for part in data {
        f.write_all(part).map_err(|e| unable(what, path, &e))?;
    }
    Ok(())
}

/// Whether `key` names a directory strictly inside the target.
fn safe_key(key: &[u8]) -> bool {
    !key.is_empty() && key.split(|&b| b == b'/').all(|c| !c.is_empty() && c != b"." && c != b"..")
}

/// Writes the `env/` directory of a rule.
fn write_env(envdir: &Path, env: &[u8]) -> Result<(), Failure> {
    mkdir(envdir).map_err(|e| unable("mkdir", envdir, &e))?;
    if env.last() != Some(&0) {
        return Err(Failure::Invalid);
    }
    for item in env[..env.len() - 1].split(|&b| b == 0) {
        let (name, value) = match item.iter().position(|&b| b == b'=') {
            Some(eq) => (&item[..eq], Some(&item[eq + 1..])),
            None => (item, None),
        };
        if name.is_empty() || name.contains(&b'/') || name == b"." || name == b".." {
            return Err(Failure::Invalid);
        }
        let file = concat(envdir, name);
        match value {
            Some(v) => write_file(&file, &[v, b"\n"], "openwritenclose_unsafe")?,
            None => write_file(&file, &[], "open_trunc")?,
        }
    }
    Ok(())
}

/// Writes one record under `base`.
fn record(base: &Path, key: &[u8], data: &[u8]) -> Result<(), Failure> {
    if data.is_empty() || data.len() > MAX_RECORD || !safe_key(key) {
        return Err(Failure::Invalid);
    }
    let rule = concat(base, key);
    // Each component in turn, as `mkdir -p` would.
    let mut at = base.as_os_str().as_bytes().len() + 1;
    for comp in key.split(|&b| b == b'/') {
        at += comp.len();
        let prefix = PathBuf::from(OsString::from_vec(rule.as_os_str().as_bytes()[..at].to_vec()));
        mkdir(&prefix).map_err(|e| unable("mkdir", &prefix, &e))?;
        at += 1;
    }
    match data[0] {
        b'A' => write_file(&rule.join("allow"), &[], "open_trunc")?,
        b'D' => write_file(&rule.join("deny"), &[], "open_trunc")?,
        _ => {}
    }
    if data.len() < 3 {
        return Ok(());
    }
    let envlen = usize::from(u16::from_be_bytes([data[1], data[2]]));
    if envlen > MAX_ENV || 5 + envlen > data.len() {
        return Err(Failure::Invalid);
    }
    let execlen = usize::from(u16::from_be_bytes([data[3 + envlen], data[4 + envlen]]));
    if execlen > MAX_EXEC || 5 + envlen + execlen != data.len() {
        return Err(Failure::Invalid);
    }
    if envlen > 0 {
        write_env(&rule.join("env"), &data[3..3 + envlen])?;
    }
    if execlen > 0 {
        write_file(&rule.join("exec"), &[&data[5 + envlen..]], "openwritenclose_unsafe")?;
    }
    Ok(())
}

/// Writes every record of `cdb` under the existing directory `base`.
fn decompile(cdb: &Cdb, base: &Path, cdbname: &str) -> Result<(), Fatal> {
    for rec in cdb.records() {
        let (key, data) = rec.map_err(|_| Fatal::new(111, "unable to cdb_traverse_next: invalid cdb"))?;
        match record(base, key, data) {
            Ok(()) => {}
            Err(Failure::Fatal(f)) => return Err(f),
            Err(Failure::Invalid) => {
                return Err(Fatal::new(
                    111,
                    format!("unable to handle cdb record: {cdbname} does not contain valid accessrules data"),
                ))
            }
        }
    }
    Ok(())
}

/// Runs s6-accessrules-fs-from-cdb.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    // Upstream parses no options: the two operands are taken as they are.
    let [dir, cdbfile, ..] = &args[..] else {
        return Err(SPEC.usage_error());
    };
    let cdb = Cdb::open(Path::new(cdbfile)).map_err(|e| Fatal::sys("cdb_init", &e))?;
    let base = Path::new(dir);
    let old = s6rs_sys::fd::umask(0);
    let made = DirBuilder::new().mode(0o2755).create(base);
    s6rs_sys::fd::umask(old);
    made.map_err(|e| unable("mkdir", base, &e))?;
    let res = decompile(&cdb, base, &show(cdbfile));
    if res.is_err() {
        let _ = std::fs::remove_dir_all(base);
    }
    res.map(|()| 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside() {
        for good in [&b"uid/0"[..], b"ip4/10.0.0.0_8", b"x"] {
            assert!(safe_key(good));
        }
        for bad in [&b""[..], b"/etc", b"uid/../..", b"uid//0", b"uid/.", b"uid/0/"] {
            assert!(!safe_key(bad), "{bad:?}");
        }
    }
}
