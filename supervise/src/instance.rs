//! Dynamically instanced services (upstream doc/instances.html): the on-disk layout the
//! s6-instance-* programs share, the instance-name rule, the check that the instance
//! supervisor runs, and the recursive copy and removal of instance directories.
//!
//! The layout is upstream's, so that real s6's tools and ours work on each other's
//! instanced services: a service directory `SVC` whose `run` starts an s6-svscan on
//! `SVC/instance`; `SVC/template/`, the service directory every instance copies;
//! `SVC/instances/NAME/`, the copy for instance NAME; and `SVC/instance/NAME`, a symlink to
//! `../instances/NAME` (relative, as upstream makes it) in the nested scan directory.
//! s6-supervise gives the instance's name to `run` as `$1` and to `finish` as `$3`.
//!
//! Instance names follow upstream's rule (not empty, no leading `.`, no space, tab, form
//! feed, carriage return or newline), and s6-rs also refuses a `/` and names longer than
//! the nested s6-svscan accepts (251 bytes, its default `-L`): upstream takes them and then
//! fails later (an instance inside another instance's directory, or a supervisor that never
//! starts and a wait that never ends).

use std::ffi::OsStr;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use s6rs_sys::cli::{show, Fatal};

/// The longest instance name: the nested s6-svscan's default `name_max`.
pub(crate) const NAME_MAX: usize = 251;

/// Checks an instance name (exit 100 `invalid instance name` when refused).
pub(crate) fn check_name(name: &OsStr) -> Result<(), Fatal> {
    let b = name.as_bytes();
    let bad =
        b.is_empty() || b[0] == b'.' || b.len() > NAME_MAX || b.iter().any(|c| b" \t\x0c\r\n/".contains(c));
    if bad {
        return Err(Fatal::bad("invalid instance name"));
    }
    Ok(())
}

/// The operands of s6-instance-control and -status, after their options (`args`, the
/// whole command line, ends with `operands`): the options to pass on, the instanced
/// service and the instance name, each checked.
pub(crate) fn split_operands<'a>(
    args: &'a [std::ffi::OsString],
    operands: &'a [std::ffi::OsString],
    usage: Fatal,
) -> Result<(&'a [std::ffi::OsString], &'a OsStr, &'a OsStr), Fatal> {
    let [svc, name, ..] = operands else { return Err(usage) };
    if svc.is_empty() {
        return Err(Fatal::bad("invalid service name"));
    }
    check_name(name)?;
    Ok((&args[..args.len() - operands.len()], svc, name))
}

/// Execs our `prog` (s6-svc, s6-svstat) with `options` on the instance's service directory.
pub(crate) fn exec_on(prog: &str, options: &[std::ffi::OsString], svc: &OsStr, name: &OsStr) -> Fatal {
    let mut argv = vec![s6rs_sys::exec::sibling(prog).into_os_string()];
    argv.extend(options.iter().cloned());
    argv.push(service_dir(svc, name).into_os_string());
    s6rs_sys::exec::chainload(&argv, &[])
}

/// `SVC/instance`: the nested scan directory.
pub(crate) fn scandir(svc: &OsStr) -> PathBuf {
    Path::new(svc).join("instance")
}

/// `SVC/instances/NAME`: the instance's own copy of the template.
pub(crate) fn copy_dir(svc: &OsStr, name: &OsStr) -> PathBuf {
    Path::new(svc).join("instances").join(name)
}

/// `SVC/instance/NAME`: the instance's service directory as its supervisor sees it.
pub(crate) fn service_dir(svc: &OsStr, name: &OsStr) -> PathBuf {
    scandir(svc).join(name)
}

/// Makes sure the instance supervisor (an s6-svscan on `SVC/instance`) runs: exit 100 for
/// an empty path, 111 when `SVC/instance` or its lock cannot be looked at (never started),
/// 1 when nobody holds the lock (upstream `s6_instance_chdirservice`, without the chdir).
pub(crate) fn check_running(svc: &OsStr) -> Result<(), Fatal> {
    if svc.is_empty() {
        return Err(Fatal::bad("invalid service path"));
    }
    let dir = scandir(svc);
    let shown = show(dir.as_os_str()).into_owned();
    match std::fs::metadata(&dir) {
        Ok(md) if md.is_dir() => {}
        Ok(_) => {
            let e = io::Error::from_raw_os_error(libc::ENOTDIR);
            return Err(Fatal::sys(format_args!("chdir to {shown}"), &e));
        }
        Err(e) => return Err(Fatal::sys(format_args!("chdir to {shown}"), &e)),
    }
    let lock = format!("{shown}/.s6-svscan/lock");
    let f = s6rs_sys::fd::open_read_nb(Path::new(&lock))
        .map_err(|e| Fatal::sys(format_args!("open {lock}"), &e))?;
    let held = s6rs_sys::lock::is_locked(f.as_fd())
        .map_err(|e| Fatal::sys(format_args!("check lock on {lock}"), &e))?;
    if !held {
        return Err(Fatal::new(1, format!("instanced service not running on {}", show(svc))));
    }
    Ok(())
}

/// Makes `dir` with `mode` exactly (the umask does not apply); an existing one is fine
/// when `may_exist`.
pub(crate) fn make_dir(dir: &Path, mode: u32, may_exist: bool) -> io::Result<()> {
    let old = s6rs_sys::fd::umask(0);
    let res = std::fs::DirBuilder::new().mode(mode).create(dir);
    s6rs_sys::fd::umask(old);
    match res {
        Err(e) if may_exist && e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        r => r,
    }
}

/// Copies the tree at `src` to `dst` (which must not exist), keeping modes and, where
/// permitted, owners (skalibs `hiercopy`): directories, regular files, symlinks and fifos.
/// Other file types are refused (ENOTSUP): a service directory has none.
pub(crate) fn copy_tree(src: &Path, dst: &Path) -> io::Result<()> {
    let md = std::fs::symlink_metadata(src)?;
    let ft = md.file_type();
    let mode = md.permissions().mode() & 0o7777;
    if ft.is_dir() {
        // Private while it fills, its own mode once complete.
        std::fs::DirBuilder::new().mode(0o700).create(dst)?;
        for entry in std::fs::read_dir(src)? {
            let entry = entry?;
            copy_tree(&entry.path(), &dst.join(entry.file_name()))?;
        }
    } else if ft.is_file() {
        let mut from = std::fs::File::open(src)?;
        let mut to = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(dst)?;
        io::copy(&mut from, &mut to)?;
    } else if ft.is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(src)?, dst)?;
    } else if ft.is_fifo() {
        s6rs_sys::fd::mkfifo(dst, 0o600)?;
    } else {
        return Err(io::Error::from_raw_os_error(libc::ENOTSUP));
    }
    use std::os::unix::fs::MetadataExt;
    match std::os::unix::fs::lchown(dst, Some(md.uid()), Some(md.gid())) {
        Err(e) if e.raw_os_error() != Some(libc::EPERM) => return Err(e),
        _ => {}
    }
    if !ft.is_symlink() {
        // After the chown, which clears set-id bits.
        std::fs::set_permissions(dst, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Removes `path` and everything under it, ignoring errors: a cleanup.
pub(crate) fn remove_tree(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(md) if md.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["a", "web-1", "x.y", "é", &"n".repeat(NAME_MAX)] {
            assert!(check_name(OsStr::new(good)).is_ok(), "{good}");
        }
        for bad in ["", ".a", "a b", "a\tb", "a\nb", "a\rb", "a\x0cb", "a/b", "/", &"n".repeat(NAME_MAX + 1)]
        {
            assert_eq!(check_name(OsStr::new(bad)).unwrap_err().msg, "invalid instance name", "{bad:?}");
        }
    }

    #[test]
    fn copy_keeps_modes_links_and_fifos() {
        let base = std::env::temp_dir().join(format!("s6rs-instance-copy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let src = base.join("src");
        std::fs::create_dir_all(src.join("log")).unwrap();
        std::fs::write(src.join("run"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(src.join("run"), std::fs::Permissions::from_mode(0o750)).unwrap();
        std::fs::write(src.join("log/run"), "x").unwrap();
        std::fs::set_permissions(src.join("log"), std::fs::Permissions::from_mode(0o710)).unwrap();
        std::os::unix::fs::symlink("../elsewhere", src.join("link")).unwrap();
        s6rs_sys::fd::mkfifo(&src.join("fifo"), 0o620).unwrap();
        let dst = base.join("dst");
        copy_tree(&src, &dst).unwrap();
        let mode = |p: &str| std::fs::symlink_metadata(dst.join(p)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode("run"), 0o750);
        assert_eq!(mode("log"), 0o710);
        assert_eq!(std::fs::read(dst.join("log/run")).unwrap(), b"x");
        assert_eq!(std::fs::read_link(dst.join("link")).unwrap(), Path::new("../elsewhere"));
        assert!(std::fs::symlink_metadata(dst.join("fifo")).unwrap().file_type().is_fifo());
        // The destination must not exist.
        assert_eq!(copy_tree(&src, &dst).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        remove_tree(&dst);
        assert!(!dst.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
