//! Local time with glibc's semantics, without libc: real s6 is a glibc program, and its
//! `localtime_r`/`gmtime_r` are what s6-tai64nlocal and s6-log's `T` print. musl's differ
//! (it ignores the leap-second records of "right/" zones, among others), and our programs
//! are static musl binaries, so we choose the zone and apply it as glibc 2.36 does.
//!
//! Zone choice, as glibc's `tzset`: `TZ` unset means `/etc/localtime`; empty means the
//! `Universal` zone file; one leading `:` is dropped; a name is a file (absolute, or under
//! `TZDIR`, default `/usr/share/zoneinfo`); failing that, a POSIX TZ string; failing that
//! (or for an unloadable `/etc/localtime`), UTC. glibc reads `TZ` once per process for
//! `localtime_r`, and so does [`process`].
//!
//! The reference is glibc's `time/tzset.c`, `time/tzfile.c` and `time/offtime.c` on the
//! 2.36 stable branch, which is what Debian 12 ships, checked by experiment against it.
//! Where glibc's result depends on memory it reads out of bounds (a month outside 1..=12
//! left by a failed TZ-string parse), on its call history (a zone file whose footer names
//! DST without rules, which zic never writes: glibc then swaps in `posixrules` midway),
//! or where glibc aborts, this module cannot follow it and says so where it happens.

mod posix;
mod tzif;

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::sync::OnceLock;

use posix::Rules;
use tzif::TzFile;

/// glibc's `TZDEFAULT`.
const TZDEFAULT: &[u8] = b"/etc/localtime";
/// glibc's `TZDIR`.
const TZDIR: &[u8] = b"/usr/share/zoneinfo";
/// The most read from a zone file: real ones are a few kB, and glibc reads only what the
/// header announces, so a huge or endless file must not be slurped.
const MAX_FILE: u64 = 16 << 20;

/// A broken-down time, as the fields of C's `struct tm` that a timestamp shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    /// The full year (`tm_year + 1900`).
    pub year: i64,
    /// 1 to 12.
    pub mon: u8,
    /// 1 to 31.
    pub mday: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub min: u8,
    /// 0 to 59, or 60 (and more for consecutive ones) on a leap second of a "right/" zone.
    pub sec: u8,
}

/// A time zone: the rules `localtime_r` and `gmtime_r` apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone(Source);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    /// A POSIX TZ string (UTC is the empty one).
    Rules(Rules),
    /// A zone file, with its leap seconds if any.
    File(TzFile),
}

/// The process's zone, chosen from `TZ` and `TZDIR` on first use and kept, as glibc's
/// `localtime_r` does: a program that changes `TZ` later does not see the change.
pub fn process() -> &'static Zone {
    static ZONE: OnceLock<Zone> = OnceLock::new();
    ZONE.get_or_init(|| Zone::select(std::env::var_os("TZ").as_deref(), std::env::var_os("TZDIR").as_deref()))
}

impl Zone {
    /// UTC without leap seconds.
    pub fn utc() -> Zone {
        Zone(Source::Rules(Rules::fixed(0)))
    }

    /// The zone glibc would use with these values of `TZ` and `TZDIR` (`None`: unset).
    pub fn select(tz: Option<&OsStr>, tzdir: Option<&OsStr>) -> Zone {
        let tzdir = match tzdir.map(OsStr::as_bytes) {
            Some(d) if !d.is_empty() => d,
            _ => TZDIR,
        };
        let name = match tz.map(OsStr::as_bytes) {
            None => TZDEFAULT,
            Some(b"") => b"Universal",
            Some(v) => v,
        };
        let name = name.strip_prefix(b":").unwrap_or(name);
        if !name.is_empty() {
            if let Some(f) = load(name, tzdir) {
                return Zone(Source::File(f));
            }
        }
        if name.is_empty() || name == TZDEFAULT {
            return Zone::utc();
        }
        Zone::from_rules(posix::parse(name), || load(b"posixrules", tzdir))
    }

    /// The zone a TZif file's bytes describe, or `None` where glibc rejects the file.
    /// `size` is what `fstat` reports for the file (see [`TzFile::parse`]).
    pub fn from_tzif(data: &[u8], size: u64) -> Option<Zone> {
        TzFile::parse(data, size).map(|f| Zone(Source::File(f)))
    }

    /// The zone of a POSIX TZ string, as [`Zone::select`] falls back to it: a string naming
    /// DST without rules takes its transitions from `posixrules`, the bytes of that zone
    /// file when there is one. The pure half of [`Zone::select`].
    pub fn from_tz_string(tz: &[u8], posixrules: Option<&[u8]>) -> Zone {
        Zone::from_rules(posix::parse(tz), || posixrules.and_then(|d| TzFile::parse(d, d.len() as u64)))
    }

    fn from_rules(parsed: posix::Parsed, posixrules: impl FnOnce() -> Option<TzFile>) -> Zone {
        if let Some((std, dst)) = parsed.wants_posixrules {
            if let Some(f) = posixrules().and_then(|f| f.with_offsets(std, dst)) {
                return Zone(Source::File(f));
            }
        }
        Zone(Source::Rules(parsed.rules))
    }

    /// `localtime_r`: `t` in this zone, or `None` when the year does not fit C's `int`.
    pub fn local(&self, t: i64) -> Option<Tm> {
        match &self.0 {
            Source::Rules(r) => offtime(t, i64::from(r.offset_at(t, utc_year(t)?)), 0),
            Source::File(f) => {
                let offset = f.offset_at(t, utc_year);
                let (corr, hit) = f.leap(t);
                offtime(t, i64::from(offset) - i64::from(corr), hit)
            }
        }
    }

    /// `gmtime_r`: `t` in UTC. glibc still applies the zone file's leap seconds here, so
    /// under a "right/" zone this is true UTC, with second 60.
    pub fn gmt(&self, t: i64) -> Option<Tm> {
        match &self.0 {
            Source::Rules(_) => offtime(t, 0, 0),
            Source::File(f) => {
                let (corr, hit) = f.leap(t);
                offtime(t, -i64::from(corr), hit)
            }
        }
    }
}

/// Loads the zone file `name`, relative to `tzdir` unless absolute.
fn load(name: &[u8], tzdir: &[u8]) -> Option<TzFile> {
    let path = if name.starts_with(b"/") { name.to_vec() } else { [tzdir, b"/", name].concat() };
    let f = std::fs::File::open(OsStr::from_bytes(&path)).ok()?;
    let size = f.metadata().ok()?.len();
    let mut data = Vec::new();
    f.take(MAX_FILE).read_to_end(&mut data).ok()?;
    TzFile::parse(&data, size)
}

/// The UTC calendar year of `t` as glibc hands it to the TZ-string rules: an `int`,
/// `1900 + tm_year`, which wraps for the largest years.
fn utc_year(t: i64) -> Option<i32> {
    let tm = offtime(t, 0, 0)?;
    Some(((tm.year - 1900) as i32).wrapping_add(1900))
}

/// glibc's `__offtime`: `t + offset` in the proleptic Gregorian calendar, plus `extra`
/// leap seconds on the seconds field; `None` when `tm_year` would overflow an `int`.
fn offtime(t: i64, offset: i64, extra: u8) -> Option<Tm> {
    const DAY: i64 = 86_400;
    // Split first, as glibc does, so that t + offset cannot overflow.
    let rem = t % DAY + offset;
    let days = t / DAY + rem.div_euclid(DAY);
    let rem = rem.rem_euclid(DAY);
    let (year, mon, mday) = civil_from_days(days);
    i32::try_from(year - 1900).ok()?;
    Some(Tm {
        year,
        mon,
        mday,
        hour: (rem / 3600) as u8,
        min: (rem % 3600 / 60) as u8,
        sec: ((rem % 60) as u8).saturating_add(extra),
    })
}

/// Year, month and day of `days` since 1970-01-01 (Howard Hinnant's `civil_from_days`,
/// exact over all of `i64 / 86400`).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    //! Every expected time below was printed by glibc 2.36 (Debian 12) `localtime_r` and
    //! `gmtime_r` under the same `TZ`, with tzdata 2025b, not computed by this code.

    use super::*;

    /// `(t, localtime_r, gmtime_r)`, "-" for a NULL result.
    type Row = (i64, &'static str, &'static str);

    fn show(tm: Option<Tm>) -> String {
        tm.map_or("-".into(), |t| {
            format!("{}-{:02}-{:02} {:02}:{:02}:{:02}", t.year, t.mon, t.mday, t.hour, t.min, t.sec)
        })
    }

    fn check(zone: &Zone, what: &str, rows: &[Row]) {
        for &(t, local, gmt) in rows {
            assert_eq!(show(zone.local(t)), local, "localtime {what} {t}");
            assert_eq!(show(zone.gmt(t)), gmt, "gmtime {what} {t}");
        }
    }

    fn check_tz(tz: &str, rows: &[Row]) {
        check(&Zone::select(Some(OsStr::new(tz)), None), &format!("TZ={tz:?}"), rows);
    }

    fn zoneinfo() -> bool {
        let there = std::path::Path::new("/usr/share/zoneinfo/right/UTC").exists();
        if !there {
            eprintln!("tzdata with right/ zones is not installed: zone-file cases skipped");
        }
        there
    }

    #[test]
    fn utc_and_the_int_year_limit() {
        for tz in ["UTC", "", "garbage", "No/Such_Zone", ":", "::"] {
            check_tz(
                tz,
                &[
                    (-1, "1969-12-31 23:59:59", "1969-12-31 23:59:59"),
                    (1_000_000_000, "2001-09-09 01:46:40", "2001-09-09 01:46:40"),
                ],
            );
        }
        check(
            &Zone::utc(),
            "utc",
            &[
                (-4611686018427387904, "-", "-"),
                (-67768040609740800, "-2147481748-01-01 00:00:00", "-2147481748-01-01 00:00:00"),
                (-67768040609740801, "-", "-"),
                (0, "1970-01-01 00:00:00", "1970-01-01 00:00:00"),
                (4102444800, "2100-01-01 00:00:00", "2100-01-01 00:00:00"),
                (13569465600, "2400-01-01 00:00:00", "2400-01-01 00:00:00"),
                (67768036191676799, "2147485547-12-31 23:59:59", "2147485547-12-31 23:59:59"),
                (67768036191676800, "-", "-"),
                (i64::MAX, "-", "-"),
            ],
        );
    }

    #[test]
    fn zone_files_with_dst_and_footer_rules() {
        if !zoneinfo() {
            return;
        }
        check_tz(
            "Europe/Paris",
            &[
                // Before the first transition: local mean time, +0:09:21.
                (-3000000000, "1874-12-07 18:49:21", "1874-12-07 18:40:00"),
                (-2486592562, "1891-03-15 23:59:59", "1891-03-15 23:50:38"),
                (-2486592561, "1891-03-16 00:00:00", "1891-03-15 23:50:39"),
                (-1, "1970-01-01 00:59:59", "1969-12-31 23:59:59"),
                (1711846799, "2024-03-31 01:59:59", "2024-03-31 00:59:59"),
                (1711846800, "2024-03-31 03:00:00", "2024-03-31 01:00:00"),
                (1729990799, "2024-10-27 02:59:59", "2024-10-27 00:59:59"),
                (1729990800, "2024-10-27 02:00:00", "2024-10-27 01:00:00"),
                // Past the last transition: the footer's rules.
                (4118000000, "2100-06-30 02:53:20", "2100-06-30 00:53:20"),
                (13586745600, "2400-07-19 02:00:00", "2400-07-19 00:00:00"),
            ],
        );
        check_tz(
            "America/New_York",
            &[
                (-2717650801, "1883-11-18 12:03:57", "1883-11-18 16:59:59"),
                (0, "1969-12-31 19:00:00", "1970-01-01 00:00:00"),
                (1710053999, "2024-03-10 01:59:59", "2024-03-10 06:59:59"),
                (1710054000, "2024-03-10 03:00:00", "2024-03-10 07:00:00"),
                (1730613599, "2024-11-03 01:59:59", "2024-11-03 05:59:59"),
                (1730613600, "2024-11-03 01:00:00", "2024-11-03 06:00:00"),
                (4118000000, "2100-06-29 20:53:20", "2100-06-30 00:53:20"),
                (13569465600, "2399-12-31 19:00:00", "2400-01-01 00:00:00"),
            ],
        );
        check_tz(
            "Asia/Kolkata",
            &[
                (-3000000000, "1874-12-08 00:01:10", "1874-12-07 18:40:00"),
                (1000000000, "2001-09-09 07:16:40", "2001-09-09 01:46:40"),
                (4118000000, "2100-06-30 06:23:20", "2100-06-30 00:53:20"),
            ],
        );
        check_tz(
            "Australia/Lord_Howe",
            &[
                (-2364114981, "1895-01-31 23:59:59", "1895-01-31 13:23:39"),
                // A 30-minute DST.
                (1554562799, "2019-04-07 01:59:59", "2019-04-06 14:59:59"),
                (1554562800, "2019-04-07 01:30:00", "2019-04-06 15:00:00"),
                (1570289399, "2019-10-06 01:59:59", "2019-10-05 15:29:59"),
                (1570289400, "2019-10-06 02:30:00", "2019-10-05 15:30:00"),
                (4105900800, "2100-02-10 11:00:00", "2100-02-10 00:00:00"),
                (4118000000, "2100-06-30 11:23:20", "2100-06-30 00:53:20"),
            ],
        );
        check_tz(
            "Pacific/Chatham",
            &[
                (-3192437629, "1868-11-01 23:59:59", "1868-11-01 11:46:11"),
                (1554559199, "2019-04-07 03:44:59", "2019-04-06 13:59:59"),
                (1554559200, "2019-04-07 02:45:00", "2019-04-06 14:00:00"),
                (1569679199, "2019-09-29 02:44:59", "2019-09-28 13:59:59"),
                (1569679200, "2019-09-29 03:45:00", "2019-09-28 14:00:00"),
                (4105900800, "2100-02-10 13:45:00", "2100-02-10 00:00:00"),
            ],
        );
        check_tz(
            "America/Sao_Paulo",
            &[
                (1541300399, "2018-11-03 23:59:59", "2018-11-04 02:59:59"),
                (1541300400, "2018-11-04 01:00:00", "2018-11-04 03:00:00"),
                (1550368799, "2019-02-16 23:59:59", "2019-02-17 01:59:59"),
                (1550368800, "2019-02-16 23:00:00", "2019-02-17 02:00:00"),
                (4105900800, "2100-02-09 21:00:00", "2100-02-10 00:00:00"),
            ],
        );
    }

    #[test]
    fn right_zones_show_leap_seconds_in_both_calls() {
        if !zoneinfo() {
            return;
        }
        check_tz(
            "right/UTC",
            &[
                (78796799, "1972-06-30 23:59:59", "1972-06-30 23:59:59"),
                (78796800, "1972-06-30 23:59:60", "1972-06-30 23:59:60"),
                (78796801, "1972-07-01 00:00:00", "1972-07-01 00:00:00"),
                (1483228825, "2016-12-31 23:59:59", "2016-12-31 23:59:59"),
                (1483228826, "2016-12-31 23:59:60", "2016-12-31 23:59:60"),
                (1483228827, "2017-01-01 00:00:00", "2017-01-01 00:00:00"),
                (4102444800, "2099-12-31 23:59:33", "2099-12-31 23:59:33"),
            ],
        );
        check_tz(
            "right/Europe/Paris",
            &[
                (78796800, "1972-07-01 00:59:60", "1972-06-30 23:59:60"),
                (1483228825, "2017-01-01 00:59:59", "2016-12-31 23:59:59"),
                (1483228826, "2017-01-01 00:59:60", "2016-12-31 23:59:60"),
                (1483228827, "2017-01-01 01:00:00", "2017-01-01 00:00:00"),
                // The file stops at the leap table's expiry with an empty footer, so
                // the last type (summer time) holds forever.
                (1782604826, "2026-06-28 01:59:59", "2026-06-27 23:59:59"),
                (1782604827, "2026-06-28 02:00:00", "2026-06-28 00:00:00"),
                (4118000000, "2100-06-30 02:52:53", "2100-06-30 00:52:53"),
            ],
        );
    }

    #[test]
    fn posix_strings() {
        check_tz(
            "EST5EDT,M3.2.0,M11.1.0",
            &[
                // glibc computes the rules of any year before 1971 as of 1970-01-01.
                (-300000000, "1960-06-29 13:40:00", "1960-06-29 18:40:00"),
                (1710053999, "2024-03-10 01:59:59", "2024-03-10 06:59:59"),
                (1710054000, "2024-03-10 03:00:00", "2024-03-10 07:00:00"),
                (1730613599, "2024-11-03 01:59:59", "2024-11-03 05:59:59"),
                (1730613600, "2024-11-03 01:00:00", "2024-11-03 06:00:00"),
                (4118000000, "2100-06-29 20:53:20", "2100-06-30 00:53:20"),
            ],
        );
        check_tz("<+0330>-3:30", &[(0, "1970-01-01 03:30:00", "1970-01-01 00:00:00")]);
        check_tz(
            "CET-1CEST,M3.5.0,M10.5.0/3",
            &[
                (1711846799, "2024-03-31 01:59:59", "2024-03-31 00:59:59"),
                (1711846800, "2024-03-31 03:00:00", "2024-03-31 01:00:00"),
                (1729990799, "2024-10-27 02:59:59", "2024-10-27 00:59:59"),
                (1729990800, "2024-10-27 02:00:00", "2024-10-27 01:00:00"),
            ],
        );
        check_tz(
            "AEST-10AEDT,M10.1.0,M4.1.0/3",
            &[
                (1712419199, "2024-04-07 02:59:59", "2024-04-06 15:59:59"),
                (1712419200, "2024-04-07 02:00:00", "2024-04-06 16:00:00"),
                (1727971199, "2024-10-04 01:59:59", "2024-10-03 15:59:59"),
                (1727971200, "2024-10-04 02:00:00", "2024-10-03 16:00:00"),
            ],
        );
        check_tz("JST-9", &[(1000000000, "2001-09-09 10:46:40", "2001-09-09 01:46:40")]);
        // Hours are clamped to 24, not refused.
        check_tz("XXX-25", &[(0, "1970-01-02 00:00:00", "1970-01-01 00:00:00")]);
        // No DST name, so the DST slot keeps offset 0 and the rules still apply.
        check_tz(
            "JST-9,M3.2.0,M11.1.0",
            &[
                (1000000000, "2001-09-09 01:46:40", "2001-09-09 01:46:40"),
                (1010000000, "2002-01-03 04:33:20", "2002-01-02 19:33:20"),
            ],
        );
        // A stray ':' stops parsing after the offset: the zeroed rules make "DST"
        // (offset 0) start five hours into each UTC year.
        check_tz(
            "EST5:",
            &[
                (1000000000, "2001-09-09 01:46:40", "2001-09-09 01:46:40"),
                (1009846000, "2001-12-31 19:46:40", "2002-01-01 00:46:40"),
                (1009860000, "2001-12-31 23:40:00", "2002-01-01 04:40:00"),
            ],
        );
    }

    #[test]
    fn dst_without_rules_borrows_posixrules() {
        if !std::path::Path::new("/usr/share/zoneinfo/posixrules").exists() {
            return;
        }
        // posixrules is New York here: its 1983 transitions shifted to these offsets
        // (the DST end by the whole DST offset, as Debian's glibc does), then its own
        // footer, with New York's offsets, after 2037.
        check_tz(
            "XYZ3ABC",
            &[
                (436330000, "1983-10-30 00:46:40", "1983-10-30 02:46:40"),
                (436340000, "1983-10-30 02:33:20", "1983-10-30 05:33:20"),
                (2200000000, "2039-09-18 19:06:40", "2039-09-18 23:06:40"),
            ],
        );
    }

    #[test]
    fn selection_follows_glibc() {
        if !zoneinfo() {
            return;
        }
        let sel = |tz: Option<&str>, dir: Option<&str>| Zone::select(tz.map(OsStr::new), dir.map(OsStr::new));
        let paris = sel(Some("Europe/Paris"), None);
        assert_eq!(sel(Some(":Europe/Paris"), None), paris);
        assert_eq!(sel(Some("/usr/share/zoneinfo/Europe/Paris"), None), paris);
        assert_eq!(sel(Some("Europe/Paris"), Some("")), paris);
        assert_eq!(sel(Some("Paris"), Some("/usr/share/zoneinfo/Europe")), paris);
        assert_eq!(
            sel(Some("Europe/Paris"), Some("/usr/share/zoneinfo/right")),
            sel(Some("right/Europe/Paris"), None)
        );
        // Not found under TZDIR: "Europe/Paris" is no valid TZ string either, so UTC.
        assert_eq!(sel(Some("Europe/Paris"), Some("/nonexistent")), Zone::utc());
        assert_eq!(sel(Some("Europe"), None), Zone::utc());
        // Empty means the Universal file; unset means /etc/localtime, UTC if missing.
        assert_eq!(sel(Some(""), None), sel(Some("Universal"), None));
        assert_eq!(sel(None, None), sel(Some("/etc/localtime"), None));
        assert_eq!(sel(Some(""), Some("/nonexistent")), Zone::utc());
        assert_eq!(sel(Some("/dev/null"), None), Zone::utc());
    }

    /// A TZif file: `version` 0 for a version-1 file, else both blocks and `footer`.
    fn tzif(
        version: u8,
        trans: &[(i64, u8)],
        types: &[(i32, bool)],
        leaps: &[(i64, i32)],
        footer: &[u8],
    ) -> Vec<u8> {
        let names = b"AAA\0";
        let block = |w: usize| {
            let time =
                |t: i64| if w == 4 { (t as i32).to_be_bytes().to_vec() } else { t.to_be_bytes().to_vec() };
            let mut b: Vec<u8> = trans.iter().flat_map(|&(t, _)| time(t)).collect();
            b.extend(trans.iter().map(|&(_, i)| i));
            for &(o, d) in types {
                b.extend(o.to_be_bytes());
                b.extend([u8::from(d), 0]);
            }
            b.extend(names);
            for &(a, c) in leaps {
                b.extend(time(a));
                b.extend(c.to_be_bytes());
            }
            b
        };
        let header = |v: u8| {
            let mut h = b"TZif".to_vec();
            h.push(v);
            h.extend([0; 15]);
            for n in [0, 0, leaps.len(), trans.len(), types.len(), names.len()] {
                h.extend((n as i32).to_be_bytes());
            }
            h
        };
        let mut f = header(version);
        f.extend(block(4));
        if version != 0 {
            f.extend(header(version));
            f.extend(block(8));
            f.extend(footer);
        }
        f
    }

    fn file_zone(data: &[u8]) -> Zone {
        Zone(Source::File(TzFile::parse(data, data.len() as u64).expect("valid TZif")))
    }

    #[test]
    fn leap_records_as_glibc_applies_them() {
        // Two consecutive insertions, then a removal.
        let z =
            file_zone(&tzif(b'4', &[], &[(0, false)], &[(100, 1), (201, 2), (202, 3), (500, 2)], b"\n\n"));
        check(
            &z,
            "leaps",
            &[
                (99, "1970-01-01 00:01:39", "1970-01-01 00:01:39"),
                (100, "1970-01-01 00:01:40", "1970-01-01 00:01:40"),
                (101, "1970-01-01 00:01:40", "1970-01-01 00:01:40"),
                (201, "1970-01-01 00:03:20", "1970-01-01 00:03:20"),
                (202, "1970-01-01 00:03:21", "1970-01-01 00:03:21"),
                (203, "1970-01-01 00:03:20", "1970-01-01 00:03:20"),
                (499, "1970-01-01 00:08:16", "1970-01-01 00:08:16"),
                (500, "1970-01-01 00:08:18", "1970-01-01 00:08:18"),
            ],
        );
    }

    #[test]
    fn version_1_and_all_dst_files() {
        let v1 = file_zone(&tzif(0, &[(0, 1), (1000000, 0)], &[(3600, false), (7200, true)], &[], b""));
        check(
            &v1,
            "v1",
            &[
                (-1, "1970-01-01 00:59:59", "1969-12-31 23:59:59"),
                (0, "1970-01-01 02:00:00", "1970-01-01 00:00:00"),
                (999999, "1970-01-12 15:46:39", "1970-01-12 13:46:39"),
                (4102444800, "2100-01-01 01:00:00", "2100-01-01 00:00:00"),
            ],
        );
        let all_dst =
            file_zone(&tzif(b'3', &[(1000, 1)], &[(7200, true), (10800, true)], &[], b"\n<+03>-3\n"));
        check(
            &all_dst,
            "all DST",
            &[
                (999, "1970-01-01 02:16:39", "1970-01-01 00:16:39"),
                (1000, "1970-01-01 03:16:40", "1970-01-01 00:16:40"),
                (4102444800, "2100-01-01 03:00:00", "2100-01-01 00:00:00"),
            ],
        );
    }

    #[test]
    fn unsorted_transitions_searched_as_glibc_does() {
        let mut times: Vec<i64> = (0..40).map(|k| k * 1_000_000).collect();
        times.swap(5, 30);
        times.swap(12, 13);
        let trans: Vec<(i64, u8)> = times.iter().enumerate().map(|(k, &t)| (t, k as u8 % 2)).collect();
        let z = file_zone(&tzif(b'2', &trans, &[(3600, false), (7200, true)], &[], b"\n\n"));
        // Offsets in hours glibc gives at k * 1e6 + 5e5; a binary search over the
        // table would differ at k = 7, 9, 21, 23, 25 and 27.
        let hours = [
            1, 2, 1, 2, 1, 1, 1, 2, 1, 2, 1, 2, 2, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 1, 1, 2,
            1, 2, 1, 2, 1, 2, 1,
        ];
        for (k, h) in hours.into_iter().enumerate() {
            let t = k as i64 * 1_000_000 + 500_000;
            assert_eq!(z.local(t), offtime(t, h * 3600, 0), "k = {k}");
        }
    }
}
