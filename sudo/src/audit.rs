//! **s6-rs extension: the audit trail of `s6-sudod --audit`.** With the option, s6-sudod
//! writes one line on stderr per request (which a supervised service sends to its
//! s6-log), as `s6-sudod: info: ` followed by:
//!
//! * `uid U gid G pid P: spawned: ARGV` when the program starts;
//! * `uid U gid G pid P: exited N` or `uid U gid G pid P: killed by SIGNAME` when it ends
//!   (a second line);
//! * `uid U gid G pid P: client hung up: sent SIGTERM and SIGCONT` when the client goes
//!   away first and the program is stopped (without `-d`; with `-d` the end line follows
//!   when it exits);
//! * `uid U gid G: refused: REASON: ARGV` when a request is refused before anything is
//!   spawned (policy, malformed request, empty command).
//!
//! U and G are the client's, from `IPCREMOTEEUID` and `IPCREMOTEEGID`, which the
//! super-server sets (`?` when unset). ARGV is the full command line, server arguments
//! then client arguments, each word quoted for a POSIX shell when it needs quoting:
//! `'...'` for printable ASCII, `$'...'` with `\xHH` escapes when a word holds control
//! characters or bytes above 0x7e, so that a line is always one line of plain text.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;

/// Quotes one word for a shell, only if it needs it (see the module doc).
pub fn quote(word: &[u8]) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b);
    if !word.is_empty() && word.iter().all(|&b| plain(b)) {
        return String::from_utf8_lossy(word).into_owned();
    }
    if word.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        let mut out = String::with_capacity(word.len() + 2);
        out.push('\'');
        for &b in word {
            if b == b'\'' {
                out.push_str("'\\''");
            } else {
                out.push(b as char);
            }
        }
        out.push('\'');
        return out;
    }
    let mut out = String::from("$'");
    for &b in word {
        match b {
            b'\'' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('\'');
    out
}

/// A command line, each word quoted as needed, separated by spaces.
pub fn argv<S: AsRef<[u8]>>(words: &[S]) -> String {
    words.iter().map(|w| quote(w.as_ref())).collect::<Vec<_>>().join(" ")
}

/// Who asked: the client's ids as the super-server exported them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// `IPCREMOTEEUID`, or `?`.
    pub uid: String,
    /// `IPCREMOTEEGID`, or `?`.
    pub gid: String,
}

impl Client {
    /// The ids from this process's environment.
    pub fn from_env() -> Client {
        let get = |n: &str| {
            std::env::var_os(n)
                .filter(|v| !v.is_empty())
                .map(|v: OsString| quote(v.as_bytes()))
                .unwrap_or_else(|| "?".into())
        };
        Client { uid: get("IPCREMOTEEUID"), gid: get("IPCREMOTEEGID") }
    }

    /// The line for a refused request.
    pub fn refused(&self, reason: &str, argv_text: &str) -> String {
        format!("uid {} gid {}: refused: {reason}: {argv_text}", self.uid, self.gid)
    }

    /// The line for a spawned program.
    pub fn spawned(&self, pid: i32, argv_text: &str) -> String {
        format!("uid {} gid {} pid {pid}: spawned: {argv_text}", self.uid, self.gid)
    }

    /// The line for a program's end, from its raw wait status.
    pub fn ended(&self, pid: i32, wstat: i32) -> String {
        let how = if libc::WIFSIGNALED(wstat) {
            let sig = libc::WTERMSIG(wstat);
            format!("killed by {}", s6rs_sys::sig::name(sig).unwrap_or_else(|| format!("signal {sig}")))
        } else {
            format!("exited {}", libc::WEXITSTATUS(wstat))
        };
        format!("uid {} gid {} pid {pid}: {how}", self.uid, self.gid)
    }

    /// The line for a client that hung up while its program ran.
    pub fn hung_up(&self, pid: i32) -> String {
        format!("uid {} gid {} pid {pid}: client hung up: sent SIGTERM and SIGCONT", self.uid, self.gid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote(b"s6-svc"), "s6-svc");
        assert_eq!(quote(b"/run/service/ticker"), "/run/service/ticker");
        assert_eq!(quote(b""), "''");
        assert_eq!(quote(b"a b"), "'a b'");
        assert_eq!(quote(b"it's"), "'it'\\''s'");
        assert_eq!(quote(b"$HOME;rm"), "'$HOME;rm'");
        assert_eq!(quote(b"a\nb"), "$'a\\x0ab'");
        assert_eq!(quote(b"\x1b[31m'\\"), "$'\\x1b[31m\\'\\\\'");
        assert_eq!(quote("é".as_bytes()), "$'\\xc3\\xa9'");
        assert_eq!(argv(&["s6-svc", "-r", "a dir"]), "s6-svc -r 'a dir'");
    }

    #[test]
    fn lines() {
        let c = Client { uid: "1000".into(), gid: "100".into() };
        assert_eq!(c.spawned(42, "true"), "uid 1000 gid 100 pid 42: spawned: true");
        assert_eq!(c.ended(42, 3 << 8), "uid 1000 gid 100 pid 42: exited 3");
        assert_eq!(c.ended(42, libc::SIGTERM), "uid 1000 gid 100 pid 42: killed by SIGTERM");
        assert_eq!(c.refused("no", "x"), "uid 1000 gid 100: refused: no: x");
        assert_eq!(c.hung_up(42), "uid 1000 gid 100 pid 42: client hung up: sent SIGTERM and SIGCONT");
    }
}
