//! `supervise/death_tally`: 14-byte records of recent deaths, oldest first (FORMATS.md §1.3;
//! upstream `s6_dtally_t`).

use std::io;
use std::path::Path;

use s6rs_sys::tai::Tain;

/// Size of one packed record.
pub const SIZE: usize = 14;
/// Default number of records kept (`max-death-tally` absent).
pub const DEFAULT_MAX: usize = 100;
/// Upper bound on `max-death-tally`.
pub const MAX: usize = 4096;

/// One recorded death.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Death {
    /// When `./run` died.
    pub stamp: Tain,
    /// The exit code, or 128 + signal.
    pub exitcode: u8,
    /// The signal number, or 0.
    pub sig: u8,
}

impl Death {
    /// The 14 bytes of a record.
    pub fn pack(&self) -> [u8; SIZE] {
        let mut b = [0u8; SIZE];
        b[..12].copy_from_slice(&self.stamp.pack());
        b[12] = self.exitcode;
        b[13] = self.sig;
        b
    }

    /// Reads one record.
    pub fn unpack(b: &[u8; SIZE]) -> Death {
        let mut t = [0u8; 12];
        t.copy_from_slice(&b[..12]);
        Death { stamp: Tain::unpack(&t), exitcode: b[12], sig: b[13] }
    }

    /// The record for a wait status.
    pub fn from_wstat(stamp: Tain, wstat: i32) -> Death {
        let ws = s6rs_sys::exec::WaitStatus(wstat);
        match ws.signal() {
            Some(s) => Death { stamp, exitcode: (128 + s).min(255) as u8, sig: s as u8 },
            None => Death { stamp, exitcode: ws.exit_code().unwrap_or(0) as u8, sig: 0 },
        }
    }
}

/// Parses a whole tally; `None` if its size is not a multiple of 14 (corrupt).
#[allow(clippy::manual_is_multiple_of)] // is_multiple_of needs Rust 1.87; we support 1.80
pub fn unpack_all(data: &[u8]) -> Option<Vec<Death>> {
    // `is_multiple_of` is newer than the workspace's rust-version (1.80).
    #[allow(clippy::manual_is_multiple_of)]
    if data.len() % SIZE != 0 {
        return None;
    }
    Some(data.chunks_exact(SIZE).map(|c| Death::unpack(c.try_into().unwrap_or(&[0; SIZE]))).collect())
}

/// The tally file of a service directory.
pub fn path(servicedir: &Path) -> std::path::PathBuf {
    servicedir.join("supervise/death_tally")
}

/// Reads the last `max` records. A missing or corrupt file is truncated to empty, as
/// upstream's reader does.
pub fn read(servicedir: &Path, max: usize) -> io::Result<Vec<Death>> {
    let p = path(servicedir);
    let data = match std::fs::read(&p) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            truncate(servicedir)?;
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    match unpack_all(&data) {
        Some(mut v) => {
            let skip = v.len().saturating_sub(max);
            v.drain(..skip);
            Ok(v)
        }
        None => {
            truncate(servicedir)?;
            Ok(Vec::new())
        }
    }
}

/// Truncates (or creates) the tally file, mode 0666 under the umask.
pub fn truncate(servicedir: &Path) -> io::Result<()> {
    s6rs_sys::fd::open_trunc(&path(servicedir)).map(drop)
}

/// Appends a death keeping only the last `max` records, rewriting the file atomically.
pub fn append(servicedir: &Path, death: Death, max: usize) -> io::Result<()> {
    if max == 0 {
        return Ok(());
    }
    let mut v = read(servicedir, max.saturating_sub(1))?;
    v.push(death);
    let mut out = Vec::with_capacity(v.len() * SIZE);
    for d in &v {
        out.extend_from_slice(&d.pack());
    }
    s6rs_sys::fd::replace_file(&path(servicedir), &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_from_wait_status() {
        let t = Tain { sec: 0x4000_0000_6b04_da7e, nano: 1 };
        let d = Death::from_wstat(t, libc::SIGTERM);
        assert_eq!((d.exitcode, d.sig), (0x8f, 0x0f));
        let d = Death::from_wstat(t, libc::SIGKILL);
        assert_eq!((d.exitcode, d.sig), (0x89, 0x09));
        let d = Death::from_wstat(t, 3 << 8);
        assert_eq!((d.exitcode, d.sig), (3, 0));
        let b = d.pack();
        assert_eq!(&b[..8], &[0x40, 0, 0, 0, 0x6b, 0x04, 0xda, 0x7e]);
        assert_eq!(Death::unpack(&b), d);
    }

    #[test]
    fn corrupt_sizes_rejected() {
        assert!(unpack_all(&[0u8; 15]).is_none());
        assert_eq!(unpack_all(&[0u8; 28]).map(|v| v.len()), Some(2));
    }
}
