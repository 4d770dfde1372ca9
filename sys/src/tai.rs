//! TAI64N timestamps (`Tain`), as skalibs packs them on disk and on the wire, and their
//! `@`-prefixed hex labels.
//!
//! The system clock is taken to be UTC (skalibs' default build), so a wall-clock instant
//! becomes TAI by adding 10 s plus the leap seconds of the built-in table.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2^62`: the offset skalibs adds to TAI seconds in TAI64 labels.
pub const TAI_MAGIC: u64 = 1 << 62;

/// Unix times at which the TAI-UTC offset grew by one second (from 10 s at 1972).
const LEAPS: [u64; 27] = [
    78796800, 94694400, 126230400, 157766400, 189302400, 220924800, 252460800, 283996800, 315532800,
    362793600, 394329600, 425865600, 489024000, 567993600, 631152000, 662688000, 709948800, 741484800,
    773020800, 820454400, 867715200, 915148800, 1136073600, 1230768000, 1341100800, 1435708800, 1483228800,
];

/// A TAI64N instant: label seconds (`2^62 + TAI seconds`) and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tain {
    /// Seconds, already including the `2^62` offset.
    pub sec: u64,
    /// Nanoseconds, 0..1_000_000_000 (a label parsed from input may carry more, up to
    /// 2^32 - 1: it is kept, as skalibs keeps it, for the formatter to deal with).
    pub nano: u32,
}

impl Tain {
    /// The current wall-clock time as TAI64N.
    pub fn now() -> Tain {
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Tain::from_unix(d.as_secs(), d.subsec_nanos())
    }

    /// Converts Unix (UTC) seconds and nanoseconds to TAI64N.
    pub fn from_unix(secs: u64, nano: u32) -> Tain {
        let leaps = LEAPS.iter().filter(|&&l| l <= secs).count() as u64;
        Tain { sec: TAI_MAGIC + secs + 10 + leaps, nano }
    }

    /// Converts back to Unix (UTC) seconds and nanoseconds. Inverse of [`Tain::from_unix`].
    /// Labels whose TAI seconds do not fit an `i64` (below `2^62` or from `2^62 + 2^63` on)
    /// wrap, as they do in skalibs' 64-bit arithmetic.
    pub fn to_unix(self) -> (i64, u32) {
        let tai = (self.sec.wrapping_sub(TAI_MAGIC) as i64).wrapping_sub(10);
        let mut unix = tai;
        for (i, &l) in LEAPS.iter().enumerate() {
            // Entry i takes effect at TAI time l + i + 1 (relative to the 10 s base).
            if tai > l as i64 + i as i64 {
                unix = tai - (i as i64 + 1);
            }
        }
        (unix, self.nano)
    }

    /// The 12 packed bytes: u64 BE seconds then u32 BE nanoseconds.
    pub fn pack(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&self.sec.to_be_bytes());
        b[8..].copy_from_slice(&self.nano.to_be_bytes());
        b
    }

    /// Reads 12 packed bytes.
    pub fn unpack(b: &[u8; 12]) -> Tain {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        let mut n = [0u8; 4];
        n.copy_from_slice(&b[8..]);
        Tain { sec: u64::from_be_bytes(s), nano: u32::from_be_bytes(n) }
    }

    /// The 25-character label `@` + 24 lowercase hex digits.
    pub fn label(self) -> String {
        String::from_utf8_lossy(&self.label_bytes()).into_owned()
    }

    /// The label as bytes, without allocating (for per-line use in loggers).
    pub fn label_bytes(self) -> [u8; 25] {
        let mut out = [0u8; 25];
        out[0] = b'@';
        for (i, b) in self.pack().into_iter().enumerate() {
            out[1 + 2 * i] = HEX[usize::from(b >> 4)];
            out[2 + 2 * i] = HEX[usize::from(b & 15)];
        }
        out
    }

    /// UTC seconds since the Unix epoch as skalibs' `utc_from_tai` computes them, and whether
    /// the instant is itself an inserted leap second (shown as second 60). `None` for labels
    /// before the epoch of the TAI scale (seconds below `2^62 + 10`).
    pub fn utc(self) -> Option<(u64, bool)> {
        let tai = self.sec.checked_sub(TAI_MAGIC)?.checked_sub(10)?;
        // skalibs keeps the table in this scale: entry i is the Unix time plus i.
        let mut skipped = 0u64;
        let mut hit = false;
        for (i, &l) in LEAPS.iter().enumerate() {
            let entry = l + i as u64;
            if tai < entry {
                break;
            }
            if tai == entry {
                hit = true;
            } else {
                skipped += 1;
            }
        }
        Some((tai - skipped, hit))
    }

    /// Parses a label at the start of `s` (`@` then exactly 24 hex digits, either case).
    /// Nanoseconds of 10^9 or more are accepted as they are, as skalibs does.
    pub fn parse_label(s: &[u8]) -> Option<Tain> {
        if s.len() < 25 || s[0] != b'@' {
            return None;
        }
        let mut b = [0u8; 12];
        for (i, out) in b.iter_mut().enumerate() {
            let hi = hexval(s[1 + 2 * i])?;
            let lo = hexval(s[2 + 2 * i])?;
            *out = hi << 4 | lo;
        }
        Some(Tain::unpack(&b))
    }

    /// `self + d`, saturating.
    #[allow(clippy::should_implement_trait)] // saturating, unlike what `+` promises
    pub fn add(self, d: Duration) -> Tain {
        let mut nano = u64::from(self.nano) + u64::from(d.subsec_nanos());
        let mut sec = self.sec.saturating_add(d.as_secs());
        if nano >= 1_000_000_000 {
            nano -= 1_000_000_000;
            sec = sec.saturating_add(1);
        }
        Tain { sec, nano: nano as u32 }
    }

    /// How long ago `self` was, as seen from `now`; zero if `self` is in the future.
    pub fn elapsed_at(self, now: Tain) -> Duration {
        if now <= self {
            return Duration::ZERO;
        }
        let (mut sec, nano) = if now.nano >= self.nano {
            (now.sec - self.sec, now.nano - self.nano)
        } else {
            (now.sec - self.sec - 1, now.nano + 1_000_000_000 - self.nano)
        };
        if nano >= 1_000_000_000 {
            sec += 1;
        }
        Duration::new(sec, nano % 1_000_000_000)
    }
}

impl fmt::Display for Tain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_since_2017_is_37() {
        // Observed with real s6-tai64n: unix 1795480194 -> @400000006b04daa7...
        let t = Tain::from_unix(1795480194, 0);
        assert_eq!(t.sec, 0x4000_0000_6b04_daa7);
        assert_eq!(t.to_unix(), (1795480194, 0));
    }

    #[test]
    fn label_round_trip() {
        let t = Tain { sec: 0x4000_0000_6b04_da96, nano: 0x2cf0_2068 };
        assert_eq!(t.label(), "@400000006b04da962cf02068");
        assert_eq!(Tain::parse_label(b"@400000006B04DA962CF02068 rest"), Some(t));
        assert_eq!(Tain::parse_label(b"@400000006b04da962cf0206"), None);
        assert_eq!(Tain::parse_label(b"400000006b04da962cf020680"), None);
        assert_eq!(Tain::parse_label(b"@400000006b04da962cf0206g"), None);
        assert_eq!(Tain::parse_label(b"@"), None);
    }

    #[test]
    fn labels_keep_nanoseconds_past_a_second() {
        let t = Tain::parse_label(b"@40000000650000003b9aca00").unwrap();
        assert_eq!((t.sec, t.nano), (0x4000_0000_6500_0000, 1_000_000_000));
        assert_eq!(Tain::parse_label(b"@4000000065000000ffffffff").unwrap().nano, u32::MAX);
        assert_eq!(t.label(), "@40000000650000003b9aca00");
    }

    #[test]
    fn leap_boundaries_invert() {
        for &l in &LEAPS {
            for s in [l - 1, l, l + 1] {
                assert_eq!(Tain::from_unix(s, 5).to_unix(), (s as i64, 5), "unix {s}");
            }
        }
        assert_eq!(Tain::from_unix(0, 0).sec, TAI_MAGIC + 10);
    }

    #[test]
    fn to_unix_of_labels_beyond_i64_wraps_instead_of_overflowing() {
        // Found by the tai64n fuzz target: @c00000000000000000000000 (TAI seconds 2^63)
        // overflowed the subtraction of the 10 s base.
        let t = Tain::parse_label(b"@c00000000000000000000000").unwrap();
        // i64::MIN - 10 wraps to i64::MAX - 9, less the 27 leap seconds.
        assert_eq!(t.to_unix(), (i64::MAX - 36, 0));
        assert_eq!(Tain { sec: 0, nano: 1 }.to_unix(), (-(1 << 62) - 10, 1));
        assert_eq!(Tain { sec: u64::MAX, nano: 0 }.to_unix().0, -(1i64 << 62) - 11);
    }

    #[test]
    fn utc_matches_skalibs_including_the_leap_second() {
        let t = Tain::from_unix(1795480194, 7);
        assert_eq!(t.utc(), Some((1795480194, false)));
        // 2016-12-31 23:59:60 is TAI label 2^62 + 1483228800 + 36: the table entry itself.
        let leap = Tain { sec: TAI_MAGIC + 1483228826 + 10, nano: 0 };
        assert_eq!(leap.utc(), Some((1483228800, true)));
        let after = Tain { sec: TAI_MAGIC + 1483228827 + 10, nano: 0 };
        assert_eq!(after.utc(), Some((1483228800, false)));
        assert_eq!(Tain { sec: 5, nano: 0 }.utc(), None);
        assert_eq!(t.label_bytes().as_slice(), t.label().as_bytes());
    }

    #[test]
    fn pack_unpack() {
        let t = Tain { sec: 0x4000_0000_6b04_da7d, nano: 0x0970_34c9 };
        let b = t.pack();
        assert_eq!(b, [0x40, 0, 0, 0, 0x6b, 0x04, 0xda, 0x7d, 0x09, 0x70, 0x34, 0xc9]);
        assert_eq!(Tain::unpack(&b), t);
    }

    #[test]
    fn arithmetic() {
        let t = Tain { sec: 100, nano: 900_000_000 };
        let u = t.add(Duration::from_millis(200));
        assert_eq!(u, Tain { sec: 101, nano: 100_000_000 });
        assert_eq!(t.elapsed_at(u), Duration::from_millis(200));
        assert_eq!(u.elapsed_at(t), Duration::ZERO);
    }
}
