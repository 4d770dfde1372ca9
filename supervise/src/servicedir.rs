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

impl<T> Setting<T> {
    /// The value, or `default` when absent or invalid.
    pub fn or(self, default: T) -> T {
        match self {
            Setting::Value(v) => v,
            _ => default,
        }
    }
}

/// Reads the first line of `dir/name`, trimmed of surrounding whitespace.
fn first_line(dir: &Path, name: &str) -> io::Result<Option<String>> {
    match std::fs::read(dir.join(name)) {
        Ok(b) => {
            let line = b.split(|&c| c == b'\n').next().unwrap_or(&[]);
            Ok(Some(String::from_utf8_lossy(line).trim().to_owned()))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
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
