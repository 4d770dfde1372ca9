//! Fifodirs: directories where listeners create named fifos and notifiers write event bytes
//! into every one of them (FORMATS.md §2; upstream ftrigw/ftrigr).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use s6rs_sys::fd;
use s6rs_sys::tai::Tain;

/// Prefix of a listener fifo's name, once it is live.
pub const PREFIX: &[u8] = b"ftrig1:@";
/// Length of a live listener fifo's name: `ftrig1:@<24 hex>:<6 chars>`.
pub const NAME_LEN: usize = 39;

fn is_listener(name: &[u8]) -> bool {
    name.len() == NAME_LEN && name.starts_with(PREFIX)
}

/// Creates a fifodir (skalibs `ftrigw_fifodir_make`): `mkdir 0700` with umask 0; an existing
/// one must belong to our real uid and is left alone unless `force`. Then a group-restricted
/// mode 03730 with `gid`, or public 01733 without.
pub fn make(path: &Path, gid: Option<u32>, force: bool) -> io::Result<()> {
    let old = fd::umask(0);
    let made = std::fs::create_dir(path);
    fd::umask(old);
    match made {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let md = std::fs::metadata(path)?;
            // Ownership first, as upstream: someone else's file is EACCES whatever it is.
            if md.uid() != s6rs_sys::proc::uid() {
                return Err(io::Error::from_raw_os_error(libc::EACCES));
            }
            if !md.is_dir() {
                return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
            }
            if !force {
                return Ok(());
            }
        }
        Err(e) => return Err(e),
    }
    match gid {
        Some(g) => {
            std::os::unix::fs::chown(path, None, Some(g))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o3730))
        }
        None => std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o1733)),
    }
}

/// Sends `event` to every listener in `dir` (skalibs `ftrigw_notifyb`): one write per fifo;
/// fifos without a reader are removed; a full fifo loses the event. Returns how many
/// listeners got it.
pub fn notify(dir: &Path, event: &[u8]) -> io::Result<usize> {
    let mut count = 0;
    for ent in std::fs::read_dir(dir)? {
        let ent = ent?;
        let name = ent.file_name();
        if !is_listener(name.as_bytes()) {
            continue;
        }
        let p = ent.path();
        let f = match fd::open_write_nb(&p) {
            Ok(f) => f,
            Err(e) => {
                if e.raw_os_error() == Some(libc::ENXIO) {
                    let _ = std::fs::remove_file(&p);
                }
                continue;
            }
        };
        // A single write of the whole event, as upstream does.
        match fd::write(f.as_fd(), event) {
            Ok(n) if n == event.len() => count += 1,
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {
                let _ = std::fs::remove_file(&p);
            }
            _ => {}
        }
    }
    Ok(count)
}

/// Removes listener fifos whose reader is gone (the fixed 2.15 `ftrigw_clean`, which looks
/// at every 39-character name starting with `ftrig1`).
pub fn clean(dir: &Path) -> io::Result<()> {
    for ent in std::fs::read_dir(dir)? {
        let ent = ent?;
        let name = ent.file_name();
        if name.len() != NAME_LEN || !name.as_bytes().starts_with(b"ftrig1") {
            continue;
        }
        if let Err(e) = fd::open_write_nb(&ent.path()) {
            if e.raw_os_error() == Some(libc::ENXIO) {
                let _ = std::fs::remove_file(ent.path());
            }
        }
    }
    Ok(())
}

/// skalibs' `random_name` alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz-_0123456789abcdef";

fn random_suffix() -> io::Result<[u8; 6]> {
    let mut raw = [0u8; 6];
    // SAFETY: raw is a writable 6-byte buffer.
    let n = unsafe { libc::getrandom(raw.as_mut_ptr().cast(), raw.len(), 0) };
    if n != raw.len() as isize {
        return Err(io::Error::last_os_error());
    }
    Ok(raw.map(|b| ALPHABET[usize::from(b & 63)]))
}

/// A subscription to a fifodir: a named fifo we read events from. It is removed on drop.
#[derive(Debug)]
pub struct Listener {
    path: PathBuf,
    read: File,
    _write: File,
}

impl Listener {
    /// Creates `DIR/.ftrig1:@<now>:XXXXXX` (mode 0622 under umask 0, as 2.15 does, so that
    /// non-root notifiers can write), opens it, then renames it live.
    pub fn subscribe(dir: &Path) -> io::Result<Listener> {
        loop {
            let mut name = b".ftrig1:".to_vec();
            name.extend_from_slice(Tain::now().label().as_bytes());
            name.push(b':');
            name.extend_from_slice(&random_suffix()?);
            let tmp = dir.join(std::ffi::OsStr::from_bytes(&name));
            let old = fd::umask(0);
            let made = fd::mkfifo(&tmp, 0o622);
            fd::umask(old);
            match made {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
            let opened = fd::open_read_nb(&tmp).and_then(|r| Ok((r, fd::open_write_nb(&tmp)?)));
            let (read, write) = match opened {
                Ok(p) => p,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            };
            let path = dir.join(std::ffi::OsStr::from_bytes(&name[1..]));
            if let Err(e) = std::fs::rename(&tmp, &path) {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            return Ok(Listener { path, read, _write: write });
        }
    }

    /// Reads whatever event bytes are available into `buf` (non-blocking: 0 when none).
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match fd::read(self.read.as_fd(), buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            r => r,
        }
    }

    /// The fifo's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_notify_unsubscribe() {
        let dir = std::env::temp_dir().join(format!("s6rs-fifodir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        make(&dir, None, false).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o1733);
        let l = Listener::subscribe(&dir).unwrap();
        let name = l.path().file_name().unwrap().as_bytes().to_vec();
        assert_eq!(name.len(), NAME_LEN);
        assert!(name.starts_with(PREFIX));
        assert_eq!(notify(&dir, b"ud").unwrap(), 1);
        let mut buf = [0u8; 16];
        assert_eq!(l.read(&mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"ud");
        drop(l);
        assert_eq!(notify(&dir, b"x").unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn clean_removes_only_readerless_listeners() {
        let dir = std::env::temp_dir().join(format!("s6rs-fifodir-clean-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        make(&dir, Some(0), false).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o3730);
        let live = Listener::subscribe(&dir).unwrap();
        let stale = dir.join("ftrig1:@400000006b04da63357c621b:s_6QAe");
        fd::mkfifo(&stale, 0o600).unwrap();
        let other = dir.join("ftrig1-not-a-listener");
        fd::mkfifo(&other, 0o600).unwrap();
        clean(&dir).unwrap();
        assert!(live.path().exists());
        assert!(!stale.exists());
        assert!(other.exists());
        drop(live);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
