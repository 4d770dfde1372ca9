//! Human-readable times for TAI64N instants, as skalibs' `localtmn_fmt` writes them:
//! `YYYY-MM-DD HH:MM:SS.nnnnnnnnn` (s6-log's `T` directive, s6-tai64nlocal).
//!
//! The TAI instant becomes UTC through skalibs' leap-second table, unless the time zone is a
//! "right/" zone (one whose clock counts leap seconds: 1972-06-30 23:59:60 exists in it), in
//! which case the zone itself handles them, exactly as skalibs decides at run time. A leap
//! second prints as second 60. The zone and its arithmetic are glibc's, through
//! [`crate::zone`], since that is what real s6's `localtime_r` and `gmtime_r` give.

use s6rs_sys::tai::Tain;

use crate::zone;

/// The longest formatted time: a 20-digit year and the fixed rest.
pub const MAX_LEN: usize = 48;

/// Formats TAI64N instants as local or GMT date and time, caching the date and time of the
/// last second seen (zone rules change only on whole seconds, so the cache is exact).
#[derive(Debug)]
pub struct Clock {
    local: bool,
    right_tz: Option<bool>,
    cached: Option<u64>,
    head: [u8; MAX_LEN],
    head_len: usize,
}

impl Clock {
    /// A formatter for local time (`local`) or GMT.
    pub fn new(local: bool) -> Clock {
        Clock { local, right_tz: None, cached: None, head: [0; MAX_LEN], head_len: 0 }
    }

    fn right_tz(&mut self) -> bool {
        *self.right_tz.get_or_insert_with(|| {
            // skalibs' test: does the zone show 1972-06-30 23:59:60?
            zone::process().local(78_796_800).is_some_and(|tm| tm.sec == 60)
        })
    }

    /// Writes the time of `t` into `out`, returning the length, or `None` when the instant
    /// cannot be converted (then the caller leaves the label as it was).
    pub fn format(&mut self, t: Tain, out: &mut [u8; MAX_LEN]) -> Option<usize> {
        if self.cached != Some(t.sec) {
            self.head_len = self.head_of(t.sec)?;
            self.cached = Some(t.sec);
        }
        let n = self.head_len;
        out[..n].copy_from_slice(&self.head[..n]);
        out[n] = b'.';
        put_digits(&mut out[n + 1..n + 10], nano_field(t.nano));
        Some(n + 10)
    }

    fn head_of(&mut self, sec: u64) -> Option<usize> {
        let (unix, leap) = if self.right_tz() {
            (Tain { sec, nano: 0 }.sec.checked_sub(s6rs_sys::tai::TAI_MAGIC + 10)?, false)
        } else {
            Tain { sec, nano: 0 }.utc()?
        };
        let unix = i64::try_from(unix).ok()? - i64::from(leap);
        let z = zone::process();
        let tm = if self.local { z.local(unix) } else { z.gmt(unix) }?;
        let h = &mut self.head;
        // skalibs prints `1900 + tm_year` as an int widened to 64 bits: past year 2^31 - 1
        // it wraps negative and prints as a 20-digit number.
        let year = ((tm.year - 1900) as i32).wrapping_add(1900);
        let mut n = put_uint(h, i64::from(year) as u64);
        h[n] = b'-';
        put_digits(&mut h[n + 1..n + 3], u64::from(tm.mon));
        h[n + 3] = b'-';
        put_digits(&mut h[n + 4..n + 6], u64::from(tm.mday));
        h[n + 6] = b' ';
        put_digits(&mut h[n + 7..n + 9], u64::from(tm.hour));
        h[n + 9] = b':';
        put_digits(&mut h[n + 10..n + 12], u64::from(tm.min));
        h[n + 12] = b':';
        put_digits(&mut h[n + 13..n + 15], u64::from(tm.sec) + u64::from(leap));
        n += 15;
        Some(n)
    }
}

/// The number shown in the 9-digit nanosecond field. A label read from input may carry
/// 10^9 or more (invalid TAI64N, but 8 hex digits allow up to 2^32 - 1): skalibs writes all
/// 10 digits and keeps the field at 9 characters, so the first 9 show and the last is
/// dropped (10^9 shows as `100000000`, 2^32 - 1 as `429496729`).
fn nano_field(nano: u32) -> u64 {
    if nano >= 1_000_000_000 {
        u64::from(nano / 10)
    } else {
        u64::from(nano)
    }
}

/// Writes `v` in decimal, zero-padded to exactly `out.len()` digits (the low digits).
fn put_digits(out: &mut [u8], mut v: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Writes `v` in decimal without padding; returns the length.
fn put_uint(out: &mut [u8], v: u64) -> usize {
    let mut digits = 1;
    let mut x = v;
    while x >= 10 {
        x /= 10;
        digits += 1;
    }
    put_digits(&mut out[..digits], v);
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(t: Tain, local: bool) -> Option<String> {
        let mut out = [0u8; MAX_LEN];
        let n = Clock::new(local).format(t, &mut out)?;
        Some(String::from_utf8(out[..n].to_vec()).unwrap())
    }

    #[test]
    fn gmt_format_and_nanoseconds() {
        // 2026-11-23 22:29:54 UTC, from a real s6-tai64n label.
        let t = Tain::parse_label(b"@400000006b04daa70970034c").unwrap();
        assert_eq!(t.to_unix().0, 1795480194);
        assert_eq!(fmt(t, false).unwrap(), "2026-11-24 00:29:54.158335820");
        let t = Tain::from_unix(0, 5);
        assert_eq!(fmt(t, false).unwrap(), "1970-01-01 00:00:00.000000005");
    }

    #[test]
    fn nanoseconds_past_a_second_show_their_first_nine_digits() {
        let sec = Tain::parse_label(b"@400000006500000000000000").unwrap().sec;
        for (nano, shown) in [
            (999_999_999, "999999999"),
            (1_000_000_000, "100000000"),
            (1_000_000_009, "100000000"),
            (2_147_483_648, "214748364"),
            (u32::MAX, "429496729"),
        ] {
            let s = fmt(Tain { sec, nano }, false).unwrap();
            assert_eq!(s, format!("2023-09-12 06:06:19.{shown}"), "{nano}");
        }
    }

    #[test]
    fn leap_second_is_second_60() {
        let leap = Tain { sec: s6rs_sys::tai::TAI_MAGIC + 1483228836, nano: 0 };
        assert_eq!(fmt(leap, false).unwrap(), "2016-12-31 23:59:60.000000000");
    }

    #[test]
    fn years_past_int_wrap_as_skalibs_prints_them() {
        // Year 2^31: real s6 prints this (and then aborts on its overflowed buffer).
        let t = Tain::parse_label(b"@40f0c29d868bfda500000007").unwrap();
        assert_eq!(fmt(t, false).unwrap(), "18446744071562067968-01-01 00:00:00.000000007");
    }

    #[test]
    fn before_the_epoch_is_refused() {
        assert_eq!(fmt(Tain { sec: 3, nano: 0 }, false), None);
    }

    #[test]
    fn cache_follows_the_second() {
        let mut c = Clock::new(false);
        let mut out = [0u8; MAX_LEN];
        let a = Tain::from_unix(60, 1);
        let n = c.format(a, &mut out).unwrap();
        assert_eq!(&out[..n], b"1970-01-01 00:01:00.000000001");
        let n = c.format(Tain::from_unix(61, 2), &mut out).unwrap();
        assert_eq!(&out[..n], b"1970-01-01 00:01:01.000000002");
    }
}
