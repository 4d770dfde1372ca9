//! `supervise/status`: the 35-byte state record s6-supervise rewrites atomically on every
//! change and every s6 client reads (FORMATS.md §1.2; upstream `s6_svstatus_t`).

use std::io;
use std::path::Path;

use s6rs_sys::fd::replace_file;
use s6rs_sys::tai::Tain;

/// Size of the packed record.
pub const SIZE: usize = 35;

const PAUSED: u8 = 1;
const FINISHING: u8 = 2;
const WANTUP: u8 = 4;
const READY: u8 = 8;

/// A service's state as s6-supervise publishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    /// Time of the last up/down transition.
    pub stamp: Tain,
    /// Time of the last readiness transition.
    pub readystamp: Tain,
    /// Pid of `./run` (or of `./finish` while it runs); 0 when nothing runs.
    pub pid: u64,
    /// Raw wait status of the last `./run` death, truncated to 16 bits.
    pub wstat: u16,
    /// The service is stopped by `p`.
    pub paused: bool,
    /// `./finish` is running.
    pub finishing: bool,
    /// The supervisor wants the service up.
    pub wantup: bool,
    /// Ready (up and notified, or down and finish done).
    pub ready: bool,
}

impl Status {
    /// The 35 bytes as s6 writes them.
    pub fn pack(&self) -> [u8; SIZE] {
        let mut b = [0u8; SIZE];
        b[0..12].copy_from_slice(&self.stamp.pack());
        b[12..24].copy_from_slice(&self.readystamp.pack());
        b[24..32].copy_from_slice(&self.pid.to_be_bytes());
        b[32..34].copy_from_slice(&self.wstat.to_be_bytes());
        b[34] = (u8::from(self.paused) * PAUSED)
            | (u8::from(self.finishing) * FINISHING)
            | (u8::from(self.wantup) * WANTUP)
            | (u8::from(self.ready) * READY);
        b
    }

    /// Reads a record; fewer than 35 bytes is an error, extra bytes are ignored.
    pub fn unpack(b: &[u8]) -> Option<Status> {
        if b.len() < SIZE {
            return None;
        }
        let t = |o: usize| {
            let mut a = [0u8; 12];
            a.copy_from_slice(&b[o..o + 12]);
            Tain::unpack(&a)
        };
        let mut pid = [0u8; 8];
        pid.copy_from_slice(&b[24..32]);
        let flags = b[34];
        Some(Status {
            stamp: t(0),
            readystamp: t(12),
            pid: u64::from_be_bytes(pid),
            wstat: u16::from_be_bytes([b[32], b[33]]),
            paused: flags & PAUSED != 0,
            finishing: flags & FINISHING != 0,
            wantup: flags & WANTUP != 0,
            ready: flags & READY != 0,
        })
    }

    /// Up, as clients see it: a pid and no finish script running.
    pub fn is_up(&self) -> bool {
        self.pid != 0 && !self.finishing
    }

    /// Reads `DIR/supervise/status`. A short file reads as EPIPE, as upstream reports it.
    pub fn read(servicedir: &Path) -> io::Result<Status> {
        let data = std::fs::read(servicedir.join("supervise/status"))?;
        Status::unpack(&data).ok_or_else(|| io::Error::from_raw_os_error(libc::EPIPE))
    }

    /// Atomically replaces `DIR/supervise/status` (relative to the current directory when
    /// `servicedir` is `.`).
    pub fn write(&self, servicedir: &Path) -> io::Result<()> {
        replace_file(&servicedir.join("supervise/status"), &self.pack())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn golden_up_ready() {
        // Captured from real s6-supervise 2.11.3.2: up and ready via notification-fd.
        let b = hex("40000000 6b04da7d 097034c9 40000000 6b04da7d 1b79e761 00000000 0000729d 0000 0c");
        let st = Status::unpack(&b).unwrap();
        assert_eq!(st.pid, 0x729d);
        assert!(st.wantup && st.ready && !st.paused && !st.finishing);
        assert!(st.is_up());
        assert_eq!(st.stamp.label(), "@400000006b04da7d097034c9");
        assert_eq!(st.pack().to_vec(), b);
    }

    #[test]
    fn golden_finishing_and_permafail() {
        let b = hex("40000000 6b04da7e 099ccf0d 40000000 6b04da7d 1b79e761 00000000 000072a2 000f 06");
        let st = Status::unpack(&b).unwrap();
        assert!(st.finishing && st.wantup && !st.is_up());
        assert_eq!(st.wstat, 15);
        assert_eq!(st.pack().to_vec(), b);
        let b = hex("40000000 6b04da7e 099ccf0d 40000000 6b04da7f 09c3331d 00000000 00000000 000f 08");
        let st = Status::unpack(&b).unwrap();
        assert!(!st.wantup && st.ready && st.pid == 0);
        assert_eq!(st.pack().to_vec(), b);
    }

    #[test]
    fn short_record_rejected_long_accepted() {
        assert!(Status::unpack(&[0u8; 34]).is_none());
        assert!(Status::unpack(&[0u8; 40]).is_some());
    }
}
