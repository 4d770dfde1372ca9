//! Typed accessors for the files of a service directory (upstream doc/servicedir.html).
//!
//! Files are read when they are needed, never cached, so an edit takes effect at the next
//! transition; a missing file means the default. Garbage is reported to the caller, which
//! warns and uses the default, so a typo never takes a service down.

use std::io;
use std::path::Path;

/// What reading a small configuration file gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Setting<T> {
    /// The file is absent.
    Absent,
    /// The file holds a valid value.
    Value(T),
    /// The file exists but its content is not valid.
    Invalid(String),
}

/// How much of a setting file is looked at: these files hold one short word, and a
/// supervisor must not be made to swallow a huge file.
const MAX_READ: usize = 64;

/// Reads the start of `dir/name` (at most [`MAX_READ`] bytes): `None` when it is absent.
/// The open is non-blocking, so a fifo put there cannot hang a supervisor.
fn head(dir: &Path, name: &str, buf: &mut [u8; MAX_READ]) -> io::Result<Option<usize>> {
    let f = match s6rs_sys::fd::open_read_nb(&dir.join(name)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut len = 0;
    while len < buf.len() {
        match s6rs_sys::fd::read(std::os::fd::AsFd::as_fd(&f), &mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(Some(len))
}

/// Reads the first line of `dir/name` (within its first [`MAX_READ`] bytes), trimmed of
/// surrounding whitespace.
fn first_line(dir: &Path, name: &str) -> io::Result<Option<String>> {
    let mut buf = [0u8; MAX_READ];
    let Some(len) = head(dir, name, &mut buf)? else { return Ok(None) };
    let line = buf[..len].split(|&c| c == b'\n').next().unwrap_or(&[]);
    Ok(Some(String::from_utf8_lossy(line).trim().to_owned()))
}

/// Reads a file that must be there and empty to turn something on (blanks allowed), such
/// as `notify-socket`: `Invalid` with the start of what it holds otherwise.
pub fn empty_file(dir: &Path, name: &str) -> io::Result<Setting<()>> {
    let mut buf = [0u8; MAX_READ];
    let Some(len) = head(dir, name, &mut buf)? else { return Ok(Setting::Absent) };
    let text = String::from_utf8_lossy(&buf[..len]);
    Ok(match text.trim() {
        "" => Setting::Value(()),
        s => Setting::Invalid(s.to_owned()),
    })
}

/// Reads an unsigned integer file such as `notification-fd`, `timeout-kill` or
/// `max-death-tally`.
pub fn uint(dir: &Path, name: &str) -> io::Result<Setting<u64>> {
    Ok(match first_line(dir, name)? {
        None => Setting::Absent,
        Some(s) => match s6rs_sys::cli::parse_uint::<u64>(&s) {
            Some(n) => Setting::Value(n),
            None => Setting::Invalid(s),
        },
    })
}

/// Reads a signal file such as `down-signal` or `reload-signal` (a name or a number).
pub fn signal(dir: &Path, name: &str) -> io::Result<Setting<i32>> {
    Ok(match first_line(dir, name)? {
        None => Setting::Absent,
        Some(s) => match s6rs_sys::sig::parse(&s) {
            Some(n) => Setting::Value(n),
            None => Setting::Invalid(s),
        },
    })
}

/// Whether `dir/name` exists (flag files such as `down`, `flag-newpidns`).
pub fn flag(dir: &Path, name: &str) -> io::Result<bool> {
    match std::fs::symlink_metadata(dir.join(name)) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        let d = std::env::temp_dir().join(format!("s6rs-svcdir-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("notification-fd"), "3\n").unwrap();
        std::fs::write(d.join("timeout-kill"), "abc\n").unwrap();
        std::fs::write(d.join("down-signal"), "SIGHUP\n").unwrap();
        assert_eq!(uint(&d, "notification-fd").unwrap(), Setting::Value(3));
        assert_eq!(uint(&d, "timeout-kill").unwrap(), Setting::Invalid("abc".into()));
        assert_eq!(uint(&d, "max-death-tally").unwrap(), Setting::Absent);
        assert_eq!(signal(&d, "down-signal").unwrap(), Setting::Value(libc::SIGHUP));
        assert!(flag(&d, "down-signal").unwrap());
        assert!(!flag(&d, "down").unwrap());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
