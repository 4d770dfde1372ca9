//! POSIX TZ strings (`std offset [dst [offset] [,rule,rule]]`) read and applied the way
//! glibc 2.36's `tzset.c` does, quirks included: real s6 is a glibc program, and what it
//! prints for a malformed or unusual string is whatever glibc's parser left behind.
//!
//! glibc parses into two rule slots that start zeroed and are filled as far as parsing
//! gets; a failure midway keeps what was already written and still uses both slots. So
//! this parser mirrors that state machine field by field instead of validating the
//! string as a whole (e.g. `JST-9,M3.2.0,M11.1.0` has no DST name, yet glibc applies the
//! rules with a DST offset of zero).

/// How a rule names its day of the year.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Kind {
    /// `n`: zero-based day of the year, counting February 29.
    #[default]
    Zero,
    /// `Jn`: one-based day of the year, never counting February 29.
    Julian,
    /// `Mm.w.d`: day `d` of week `w` of month `m`.
    Month,
}

/// One of glibc's two `tz_rule` slots: slot 0 holds standard time and the change to
/// DST, slot 1 daylight time and the change back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Rule {
    kind: Kind,
    m: u16,
    n: u16,
    d: u16,
    /// Local time of day of the change, in seconds (may be negative or beyond a day).
    secs: i32,
    /// Seconds east of UTC.
    offset: i32,
}

/// A parsed TZ string: glibc's two rule slots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Rules([Rule; 2]);

/// What [`parse`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Parsed {
    /// The rules as glibc holds them when no rule file is substituted.
    pub rules: Rules,
    /// The standard and DST offsets when the string names a DST zone without rules:
    /// glibc then takes the rules from the `posixrules` zone file if it can load one.
    pub wants_posixrules: Option<(i32, i32)>,
}

/// Cumulative days before each month, as glibc's `__mon_yday[2][13]`: common years, then
/// leap years. Kept flat because glibc indexes across the row boundary for out-of-range
/// months left by a failed parse.
const MON_YDAY: [u16; 26] = [
    0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365, //
    0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366,
];

/// A NUL-terminated view: reading past the end yields 0, as C would see the terminator.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn at(&self, i: usize) -> u8 {
        self.0.get(i).copied().unwrap_or(0)
    }

    /// scanf's `%hu` at `i`: optional white space and sign, then digits, converted by
    /// `strtoul` and truncated to 16 bits (so `-5` is 65531, as glibc stores it).
    fn scan_hu(&self, mut i: usize) -> Option<(u16, usize)> {
        while matches!(self.at(i), b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            i += 1;
        }
        let neg = self.at(i) == b'-';
        if matches!(self.at(i), b'+' | b'-') {
            i += 1;
        }
        let start = i;
        let mut v: u64 = 0;
        let mut overflow = false;
        while self.at(i).is_ascii_digit() {
            let digit = u64::from(self.at(i) - b'0');
            match v.checked_mul(10).and_then(|x| x.checked_add(digit)) {
                Some(x) => v = x,
                None => overflow = true,
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        // strtoul saturates on overflow, and negates in unsigned arithmetic otherwise.
        let v = if overflow {
            u64::MAX
        } else if neg {
            v.wrapping_neg()
        } else {
            v
        };
        Some((v as u16, i))
    }

    /// `sscanf(s, "%hu%n:%hu%n:%hu%n", ...)`: stores each field it converts, leaving the
    /// others as they were, and returns the conversion count and the length consumed up
    /// to the last converted field.
    fn scan_hms(&self, i: usize, f: &mut [u16; 3]) -> (usize, usize) {
        let (mut count, mut consumed, mut j) = (0, 0, i);
        for (k, field) in f.iter_mut().enumerate() {
            if k > 0 {
                if self.at(j) != b':' {
                    break;
                }
                j += 1;
            }
            let Some((v, end)) = self.scan_hu(j) else { break };
            *field = v;
            count += 1;
            consumed = end - i;
            j = end;
        }
        (count, consumed)
    }
}

/// Parses a TZ string as glibc's `__tzset_parse_tz`. The string ends at its first NUL.
pub(super) fn parse(s: &[u8]) -> Parsed {
    let s = Cursor(s.split(|&b| b == 0).next().unwrap_or(&[]));
    let mut r = [Rule::default(); 2];
    let mut p = 0;
    let mut wants_posixrules = None;
    if parse_name(&s, &mut p) && parse_offset(&s, &mut p, 0, &mut r) {
        if s.at(p) != 0 {
            if parse_name(&s, &mut p) {
                parse_offset(&s, &mut p, 1, &mut r);
                if s.at(p) == 0 || (s.at(p) == b',' && s.at(p + 1) == 0) {
                    wants_posixrules = Some((r[0].offset, r[1].offset));
                }
            }
            // glibc goes on to the rules even when the DST name did not parse.
            if parse_rule(&s, &mut p, 0, &mut r[0]) {
                parse_rule(&s, &mut p, 1, &mut r[1]);
            }
        } else {
            r[1].offset = r[0].offset;
        }
    }
    Parsed { rules: Rules(r), wants_posixrules }
}

/// A name: three or more ASCII letters, or `<...>` holding three or more of
/// letters, digits, `+` and `-`.
fn parse_name(s: &Cursor, p: &mut usize) -> bool {
    let mut q = *p;
    while s.at(q).is_ascii_alphabetic() {
        q += 1;
    }
    if q - *p >= 3 {
        *p = q;
        return true;
    }
    if s.at(*p) != b'<' {
        return false;
    }
    let start = *p + 1;
    let mut q = start;
    while matches!(s.at(q), b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'+' | b'-') {
        q += 1;
    }
    if s.at(q) != b'>' || q - start < 3 {
        return false;
    }
    *p = q + 1;
    true
}

/// An offset, `[+-]hh[:mm[:ss]]` west of UTC, each field clamped (hours to 24, minutes
/// and seconds to 59). A missing DST offset means one hour ahead of standard time.
fn parse_offset(s: &Cursor, p: &mut usize, which: usize, r: &mut [Rule; 2]) -> bool {
    let c = s.at(*p);
    if which == 0 && !matches!(c, b'+' | b'-' | b'0'..=b'9') {
        return false;
    }
    let sign: i32 = if c == b'-' { 1 } else { -1 };
    if matches!(c, b'+' | b'-') {
        *p += 1;
    }
    let mut f = [0u16; 3];
    let (count, consumed) = s.scan_hms(*p, &mut f);
    if count > 0 {
        let [hh, mm, ss] = f.map(i32::from);
        r[which].offset = sign * (ss.min(59) + mm.min(59) * 60 + hh.min(24) * 3600);
    } else if which == 0 {
        r[0].offset = 0;
        return false;
    } else {
        r[1].offset = r[0].offset + 3600;
    }
    *p += consumed;
    true
}

/// A rule `,date[/time]`. On failure the fields already stored stay, as in glibc.
fn parse_rule(s: &Cursor, p: &mut usize, which: usize, tzr: &mut Rule) -> bool {
    let mut q = *p + usize::from(s.at(*p) == b',');
    let c = s.at(q);
    if c == b'J' || c.is_ascii_digit() {
        tzr.kind = if c == b'J' { Kind::Julian } else { Kind::Zero };
        if c == b'J' {
            q += 1;
            if !s.at(q).is_ascii_digit() {
                return false;
            }
        }
        let mut d: u64 = 0;
        while s.at(q).is_ascii_digit() {
            d = d.saturating_mul(10).saturating_add(u64::from(s.at(q) - b'0'));
            q += 1;
        }
        if d > 365 || (tzr.kind == Kind::Julian && d == 0) {
            return false;
        }
        tzr.d = d as u16;
    } else if c == b'M' {
        tzr.kind = Kind::Month;
        let mut f = [tzr.m, tzr.n, tzr.d];
        let mut count = 0;
        let mut j = q + 1;
        for (k, field) in f.iter_mut().enumerate() {
            if k > 0 {
                if s.at(j) != b'.' {
                    break;
                }
                j += 1;
            }
            let Some((v, end)) = s.scan_hu(j) else { break };
            *field = v;
            count += 1;
            j = end;
        }
        [tzr.m, tzr.n, tzr.d] = f;
        if count != 3 || !(1..=12).contains(&tzr.m) || !(1..=5).contains(&tzr.n) || tzr.d > 6 {
            return false;
        }
        q = j;
    } else if c == 0 {
        // The US rules, glibc's default when a DST zone comes without any.
        tzr.kind = Kind::Month;
        (tzr.m, tzr.n, tzr.d) = if which == 0 { (3, 2, 0) } else { (11, 1, 0) };
    } else {
        return false;
    }
    match s.at(q) {
        0 | b',' => tzr.secs = 2 * 3600,
        b'/' => {
            q += 1;
            if s.at(q) == 0 {
                return false;
            }
            let negative = s.at(q) == b'-';
            q += usize::from(negative);
            let mut f = [2u16, 0, 0];
            let (_, consumed) = s.scan_hms(q, &mut f);
            q += consumed;
            let [hh, mm, ss] = f.map(i32::from);
            let secs = hh * 3600 + mm * 60 + ss;
            tzr.secs = if negative { -secs } else { secs };
        }
        _ => return false,
    }
    *p = q;
    true
}

/// C's `__isleap`, with C's truncating remainder (as Rust's `%`).
fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

impl Rule {
    /// The UTC instant of this rule's change in `year`, as glibc's `compute_change`,
    /// including its 32-bit day count (which wraps past year 5 million) and its use of
    /// 1970 for every earlier year.
    fn change(&self, year: i32) -> i64 {
        const DAY: i64 = 86_400;
        let mut t: i64 = if year > 1970 {
            let y1 = year - 1;
            let days = (year - 1970)
                .wrapping_mul(365)
                .wrapping_add(y1 / 4 - 1970 / 4)
                .wrapping_sub(y1 / 100 - 1970 / 100)
                .wrapping_add(y1 / 400 - 1970 / 400);
            i64::from(days) * DAY
        } else {
            0
        };
        match self.kind {
            Kind::Julian => {
                t += (i64::from(self.d) - 1) * DAY;
                if self.d >= 60 && is_leap(year) {
                    t += DAY;
                }
            }
            Kind::Zero => t += i64::from(self.d) * DAY,
            Kind::Month => {
                // Only a failed parse leaves a month outside 1..=12. glibc then reads
                // past its row, or past the whole table, whose neighbours in memory
                // cannot be reproduced: count those as 0.
                let i = usize::from(is_leap(year)) * 13 + usize::from(self.m);
                let before = MON_YDAY.get(i.wrapping_sub(1)).map_or(0, |&x| i32::from(x));
                let through = MON_YDAY.get(i).map_or(0, |&x| i32::from(x));
                t += i64::from(before) * DAY;
                // Zeller's congruence: the weekday of the first of the month.
                let m = i32::from(self.m);
                let m1 = (m + 9) % 12 + 1;
                let yy0 = if m <= 2 { year.wrapping_sub(1) } else { year };
                let (yy1, yy2) = (yy0 / 100, yy0 % 100);
                let mut dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
                if dow < 0 {
                    dow += 7;
                }
                let mut d = i32::from(self.d) - dow;
                if d < 0 {
                    d += 7;
                }
                for _ in 1..self.n {
                    if d + 7 >= through - before {
                        break;
                    }
                    d += 7;
                }
                t += i64::from(d) * DAY;
            }
        }
        t - i64::from(self.offset) + i64::from(self.secs)
    }
}

impl Rules {
    /// The offset east of UTC at `t`, whose UTC calendar year is `year` (glibc's
    /// `__tz_compute`: both changes are computed for that year, and a DST period that
    /// wraps the year end is told apart by the change order).
    pub(super) fn offset_at(&self, t: i64, year: i32) -> i32 {
        let [std, dst] = &self.0;
        let (on, off) = (std.change(year), dst.change(year));
        let is_dst = if on > off { t < off || t >= on } else { t >= on && t < off };
        if is_dst {
            dst.offset
        } else {
            std.offset
        }
    }

    /// A fixed offset east of UTC, with no DST.
    pub(super) fn fixed(offset: i32) -> Rules {
        let r = Rule { offset, ..Rule::default() };
        Rules([r, r])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(s: &str) -> Rules {
        parse(s.as_bytes()).rules
    }

    #[test]
    fn scanf_hu_keeps_glibc_truncation() {
        let c = Cursor(b" 5 -5 +7 99999999999999999999999 x");
        assert_eq!(c.scan_hu(0), Some((5, 2)));
        assert_eq!(c.scan_hu(2), Some((65531, 5)));
        assert_eq!(c.scan_hu(5), Some((7, 8)));
        assert_eq!(c.scan_hu(8), Some((65535, 32)));
        assert_eq!(c.scan_hu(32), None);
    }

    #[test]
    fn offsets_are_clamped_and_signed_west() {
        assert_eq!(rules("JST-9"), Rules::fixed(9 * 3600));
        assert_eq!(rules("XXX-25"), Rules::fixed(24 * 3600));
        assert_eq!(rules("<+0330>-3:30"), Rules::fixed(3 * 3600 + 1800));
        assert_eq!(rules("ABC+1:99:99"), Rules::fixed(-(3600 + 59 * 60 + 59)));
    }

    #[test]
    fn unparsable_strings_leave_utc() {
        for s in ["", "garbage", "AB5", "<AB>5", "EST", "EST+", "/tmp/x", ":UTC"] {
            let p = parse(s.as_bytes());
            assert_eq!(p.rules, Rules::default(), "{s}");
            assert_eq!(p.wants_posixrules, None, "{s}");
        }
    }

    #[test]
    fn dst_without_rules_asks_for_posixrules() {
        assert_eq!(parse(b"XYZ3ABC").wants_posixrules, Some((-3 * 3600, -2 * 3600)));
        assert_eq!(parse(b"XYZ3ABC2,").wants_posixrules, Some((-3 * 3600, -2 * 3600)));
        assert_eq!(parse(b"XYZ3ABC,M3.2.0,M11.1.0").wants_posixrules, None);
    }

    #[test]
    fn us_rules_change_at_two_local() {
        let r = rules("EST5EDT,M3.2.0,M11.1.0");
        // 2024-03-10 07:00 UTC and 2024-11-03 06:00 UTC.
        assert_eq!(r.0[0].change(2024), 1710054000);
        assert_eq!(r.0[1].change(2024), 1730613600);
        assert_eq!(r.offset_at(1710053999, 2024), -5 * 3600);
        assert_eq!(r.offset_at(1710054000, 2024), -4 * 3600);
        assert_eq!(r.offset_at(1730613600, 2024), -5 * 3600);
    }
}
