//! s6-accessrules-cdb-from-fs: compile a rules directory into a cdb file.
//! Upstream page: `s6-accessrules-cdb-from-fs.html`; FORMATS.md §7.2.
//!
//! Every non-dot entry of DIR must be a directory (a class: `uid`, `gid`, `ip4`...); every
//! non-dot entry in a class is a rule, stored under the key `CLASS/RULE` if it has `allow`
//! (then with its `env/` and `exec`) or `deny`, and skipped otherwise. Records are added
//! in directory order, so the file is byte-identical to real s6's from the same directory.
//! The cdb is written to `CDBFILE:s6-accessrules-cdb-from-fs:XXXXXX` (mode 0600), fsynced,
//! given `-m` mode if asked, and renamed over CDBFILE; on failure the temporary file is
//! removed.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use s6rs_sys::cli::{show, warn, Fatal, Flag, Show, Spec};

use crate::cdb::{encode_allow, DENY};
use crate::cdbfile::Writer;
use crate::fs::{concat, read_upto};
use crate::rules::{encode_env, MAX_EXEC};

/// The command line, with 2.15's long option.
pub const SPEC: Spec = Spec {
    name: "s6-accessrules-cdb-from-fs",
    operands: "cdbfile dir",
    about: "Compiles the access rules directory dir into the cdb file cdbfile, replacing it atomically.",
    doc: "s6-accessrules-cdb-from-fs.html",
    flags: &[
        Flag::arg('m', "mode", Show::Own, "give cdbfile this mode, in octal (default 0600)").long("mode")
    ],
};
const SUFFIX: &str = ":s6-accessrules-cdb-from-fs:XXXXXX";

/// The largest environment s6-accessrules-cdb-from-fs stores: upstream checks `> 4100`, a
/// little above what readers accept (4096), and we keep its limit so that the same
/// directories compile, or fail, with both. (Upstream appends a stale errno text to its
/// "too big" message; we do not.)
const MAX_ENV_COMPILED: usize = 4100;

fn absent(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::EACCES))
}

fn unable(what: impl std::fmt::Display, path: &Path, e: &std::io::Error) -> Fatal {
    Fatal::sys(format_args!("{what} {}", path.display()), e)
}

/// Non-dot entry names of `dir`, in directory order.
fn entries(dir: &Path) -> Result<Vec<OsString>, Fatal> {
    let rd = std::fs::read_dir(dir).map_err(|e| unable("opendir", dir, &e))?;
    let mut names = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| unable("readdir", dir, &e))?;
        let name = ent.file_name();
        if name.as_bytes().first() != Some(&b'.') {
            names.push(name);
        }
    }
    Ok(names)
}

/// The value for one rule directory, `None` if it is neither allow nor deny.
fn rule_value(rule: &Path) -> Result<Option<Vec<u8>>, Fatal> {
    let allow = rule.join("allow");
    if let Err(e) = s6rs_sys::fd::access_exists(&allow) {
        if !absent(&e) {
            return Err(unable("access", &allow, &e));
        }
        let deny = rule.join("deny");
        return match s6rs_sys::fd::access_exists(&deny) {
            Ok(()) => Ok(Some(DENY.to_vec())),
            Err(e) if absent(&e) => Ok(None),
            Err(e) => Err(unable("access", &deny, &e)),
        };
    }
    let envdir = rule.join("env");
    let env = match s6rs_sys::envdir::read(&envdir, &crate::fs::ENVDIR) {
        Ok(mods) => encode_env(&mods),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Vec::new(),
        Err(e) => return Err(unable("envdir", &envdir, &e)),
    };
    if env.len() > MAX_ENV_COMPILED {
        return Err(Fatal::bad(format!("{} too big", envdir.display())));
    }
    let execfile = rule.join("exec");
    let exec = match read_upto(&execfile, MAX_EXEC) {
        Ok(exec) => exec,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Vec::new(),
        Err(e) => return Err(unable("openreadnclose", &execfile, &e)),
    };
    if exec.len() == MAX_EXEC {
        warn(format_args!("possibly truncated file {}", execfile.display()));
    }
    let value = encode_allow(&env, &exec).map_err(|e| Fatal::sys("cdbmake_add", &e))?;
    Ok(Some(value))
}

/// Compiles the rules directory `dir` into cdb bytes.
pub fn compile(dir: &Path) -> Result<Vec<u8>, Fatal> {
    let mut w = Writer::new();
    for class in entries(dir)? {
        let classdir = concat(dir, class.as_bytes());
        for rule in entries(&classdir)? {
            let mut key = class.as_bytes().to_vec();
            key.push(b'/');
            key.extend_from_slice(rule.as_bytes());
            if let Some(value) = rule_value(&concat(dir, &key))? {
                w.add(&key, &value).map_err(|e| Fatal::sys("cdbmake_add", &e))?;
            }
        }
    }
    w.finish().map_err(|e| Fatal::sys("cdb_make_finish", &e))
}

/// Writes `bytes` into the new temporary file, syncs it and sets its mode.
fn write_tmp(file: &mut std::fs::File, tmp: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), Fatal> {
    file.write_all(bytes).map_err(|e| Fatal::sys("cdb_make_finish", &e))?;
    file.sync_all().map_err(|e| Fatal::sys("fd_sync", &e))?;
    if let Some(m) = mode {
        std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(m))
            .map_err(|e| unable("chmod", tmp, &e))?;
    }
    Ok(())
}

/// Runs s6-accessrules-cdb-from-fs.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut mode = None;
    let mut g = SPEC.getopt(&args);
    while let Some(o) = g.next_long() {
        let o = o.map_err(|b| b.fatal(&SPEC.usage()))?;
        if o.c == 'm' {
            let bad = || Fatal::bad("mode needs to be an unsigned integer (in octal)");
            let s = o.arg_str();
            if s.is_empty() || !s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Err(bad());
            }
            mode = Some(u32::from_str_radix(s, 8).map_err(|_| bad())?);
        }
    }
    let [cdbfile, dir, ..] = g.operands() else {
        return Err(SPEC.usage_error());
    };
    let mut template = cdbfile.clone();
    template.push(SUFFIX);
    let (mut file, tmp) = s6rs_sys::fd::mkstemp(Path::new(&template))
        .map_err(|e| unable("mkstemp", Path::new(&template), &e))?;
    let res = compile(Path::new(dir)).and_then(|bytes| write_tmp(&mut file, &tmp, &bytes, mode));
    drop(file);
    let res = res.and_then(|()| {
        std::fs::rename(&tmp, cdbfile)
            .map_err(|e| Fatal::sys(format_args!("rename {} to {}", tmp.display(), show(cdbfile)), &e))
    });
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res.map(|()| 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    use s6rs_sys::testing::args;

    #[test]
    fn bad_mode_and_usage() {
        let f = run(args(&["-m", "9", "a", "b"])).unwrap_err();
        assert_eq!((f.code, f.msg.as_str()), (100, "mode needs to be an unsigned integer (in octal)"));
        let f = run(args(&["--mode=", "a", "b"])).unwrap_err();
        assert_eq!(f.code, 100);
        let f = run(args(&["a"])).unwrap_err();
        assert!(f.usage);
        let f = run(args(&["--bogus", "a", "b"])).unwrap_err();
        assert_eq!(f.msg, "unrecognized boolean option: --bogus");
    }
}
