//! TZif zone files (RFC 8536, versions 1 to 4) read as glibc 2.36's `tzfile.c` reads them:
//! the 64-bit block when the version byte is not NUL, its footer TZ string for instants
//! from the last transition on, and its leap-second records. A file glibc would reject
//! (short, bad magic, out-of-range indices, a 64-bit block without room for a footer) is
//! rejected here too, so the caller falls back the same way.

use super::posix::{self, Rules};

/// A local time type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Type {
    /// Seconds east of UTC.
    offset: i32,
    is_dst: bool,
    /// Transition times of this type are in standard time (used only by `posixrules`).
    is_std: bool,
    /// Transition times of this type are in UT (used only by `posixrules`).
    is_ut: bool,
}

/// A leap-second record: from `at` on, `corr` seconds are inserted in total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Leap {
    at: i64,
    corr: i32,
}

/// A loaded zone file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TzFile {
    transitions: Vec<i64>,
    type_idx: Vec<u8>,
    types: Vec<Type>,
    leaps: Vec<Leap>,
    footer: Option<Rules>,
    /// The type before the first transition: glibc takes the first non-DST type.
    before: usize,
}

/// Reads forward through the file; reads past the end fail like a short `fread`.
struct Reader<'a> {
    data: &'a [u8],
    pos: u64,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64) -> Option<&'a [u8]> {
        let start = usize::try_from(self.pos).ok()?;
        let end = start.checked_add(usize::try_from(n).ok()?)?;
        let b = self.data.get(start..end)?;
        self.pos = end as u64;
        Some(b)
    }

    /// A big-endian signed time of `width` bytes.
    fn time(&mut self, width: u64) -> Option<i64> {
        let b = self.take(width)?;
        Some(match *b {
            [a, b, c, d] => i64::from(i32::from_be_bytes([a, b, c, d])),
            _ => i64::from_be_bytes(b.try_into().ok()?),
        })
    }

    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// The six header counts, in file order: UT flags, standard flags, leap records,
/// transitions, types, name bytes.
struct Counts {
    isut: u64,
    isstd: u64,
    leaps: u64,
    times: u64,
    types: u64,
    chars: u64,
}

fn header(r: &mut Reader) -> Option<(u8, Counts)> {
    let h = r.take(44)?;
    if &h[..4] != b"TZif" {
        return None;
    }
    // glibc reads each count as a signed int and widens it to size_t.
    let c = |i: usize| {
        i32::from_be_bytes([h[20 + 4 * i], h[21 + 4 * i], h[22 + 4 * i], h[23 + 4 * i]]) as i64 as u64
    };
    let counts = Counts { isut: c(0), isstd: c(1), leaps: c(2), times: c(3), types: c(4), chars: c(5) };
    if counts.isstd > counts.types || counts.isut > counts.types {
        return None;
    }
    Some((h[4], counts))
}

impl TzFile {
    /// Parses a zone file's bytes; `size` is what `fstat` reports for it (glibc sizes
    /// the footer from it, so a FIFO or device reports 0 and loses its 64-bit data).
    pub(super) fn parse(data: &[u8], size: u64) -> Option<TzFile> {
        let mut r = Reader { data, pos: 0 };
        let (version, mut n) = header(&mut r)?;
        let mut width = 4;
        if version != 0 {
            // Skip the 32-bit block with glibc's size_t arithmetic and a signed seek.
            let skip = n
                .times
                .wrapping_mul(5)
                .wrapping_add(n.types.wrapping_mul(6))
                .wrapping_add(n.chars)
                .wrapping_add(n.leaps.wrapping_mul(8))
                .wrapping_add(n.isstd)
                .wrapping_add(n.isut) as i64;
            r.pos = u64::try_from((r.pos as i64).checked_add(skip)?).ok()?;
            n = header(&mut r)?.1;
            width = 8;
        }
        let footer_len = if width == 8 { Some(footer_len(&n, size.checked_sub(r.pos)?)?) } else { None };

        let times = r.take(n.times.checked_mul(width)?)?;
        let type_idx = r.take(n.times)?.to_vec();
        if type_idx.iter().any(|&i| u64::from(i) >= n.types) {
            return None;
        }
        let mut tr = Reader { data: times, pos: 0 };
        let transitions = (0..n.times).map(|_| tr.time(width)).collect::<Option<Vec<_>>>()?;
        // Bounded by the file before anything is allocated from a count.
        let mut tt = Reader { data: r.take(n.types.checked_mul(6)?)?, pos: 0 };
        let mut types = Vec::with_capacity(n.types as usize);
        for _ in 0..n.types {
            let offset = tt.i32()?;
            let [is_dst, idx] = *tt.take(2)? else { return None };
            if is_dst > 1 || u64::from(idx) > n.chars {
                return None;
            }
            types.push(Type { offset, is_dst: is_dst == 1, is_std: false, is_ut: false });
        }
        r.take(n.chars)?;
        let mut lr = Reader { data: r.take(n.leaps.checked_mul(width + 4)?)?, pos: 0 };
        let leaps = (0..n.leaps)
            .map(|_| Some(Leap { at: lr.time(width)?, corr: lr.i32()? }))
            .collect::<Option<_>>()?;
        for (t, &b) in types.iter_mut().zip(r.take(n.isstd)?) {
            t.is_std = b != 0;
        }
        for (t, &b) in types.iter_mut().zip(r.take(n.isut)?) {
            t.is_ut = b != 0;
        }
        let footer = footer_len.and_then(|len| {
            // A footer that does not start with a newline or is cut short is ignored,
            // not fatal; its last byte (the closing newline) is never read.
            if r.take(1)? != b"\n" {
                return None;
            }
            let spec = r.take(len - 1)?;
            let spec = spec.split(|&b| b == 0).next().unwrap_or(&[]);
            // A footer naming DST without rules makes glibc load `posixrules` in the
            // middle of a lookup and keep it for later calls, so results depend on call
            // order. zic never writes one; such a footer keeps its parsed (US) rules here.
            (!spec.is_empty()).then(|| posix::parse(spec).rules)
        });
        let before = types.iter().position(|t| !t.is_dst).unwrap_or(0);
        Some(TzFile { transitions, type_idx, types, leaps, footer, before })
    }

    /// glibc's `__tzfile_default`: a TZ string naming a DST zone without rules takes the
    /// transitions of the `posixrules` file, shifted to the string's offsets. glibc keeps
    /// that file's footer unchanged, so past its last transition its own offsets return.
    pub(super) fn with_offsets(mut self, std: i32, dst: i32) -> Option<TzFile> {
        if self.types.len() < 2 {
            return None;
        }
        let (rule_std, rule_dst) = self.rule_offsets();
        let mut is_dst = false;
        for (t, idx) in self.transitions.iter_mut().zip(self.type_idx.iter_mut()) {
            let ty = self.types[usize::from(*idx)];
            *idx = u8::from(ty.is_dst);
            if !ty.is_ut {
                let shift = if is_dst && !ty.is_std {
                    dst.wrapping_sub(rule_dst)
                } else {
                    std.wrapping_sub(rule_std)
                };
                *t = t.wrapping_add(i64::from(shift));
            }
            is_dst = ty.is_dst;
        }
        self.types.truncate(2);
        self.types[0] = Type { offset: std, is_dst: false, ..self.types[0] };
        self.types[1] = Type { offset: dst, is_dst: true, ..self.types[1] };
        self.before = 0;
        Some(self)
    }

    /// glibc's `rule_stdoff` and `rule_dstoff` as a fresh process has them after loading
    /// this file: the offset of the last standard-time transition, and 0. glibc's 2.36
    /// stable branch (Debian 12's glibc) no longer computes `rule_dstoff` for a file with
    /// transitions (the fix for bug 29951), so it keeps its initial 0, and the DST ends of
    /// a `posixrules`-derived zone move by the whole DST offset.
    fn rule_offsets(&self) -> (i32, i32) {
        if self.transitions.is_empty() {
            let o = self.types.first().map_or(0, |t| t.offset);
            return (o, o);
        }
        let std = self.type_idx.iter().rev().map(|&i| self.types[usize::from(i)]).find(|t| !t.is_dst);
        (std.map_or(0, |t| t.offset), 0)
    }

    /// The offset east of UTC at `t` (the zone's own time scale, leap seconds included
    /// for "right/" zones). `utc_year` gives the calendar year glibc passes to the
    /// footer rules, or `None` when that year overflows (then the last type holds).
    pub(super) fn offset_at(&self, t: i64, utc_year: impl FnOnce(i64) -> Option<i32>) -> i32 {
        let k = match (self.transitions.first(), self.transitions.last()) {
            (Some(&first), Some(&last)) if t >= first => {
                if t >= last {
                    if let Some(rules) = &self.footer {
                        if let Some(year) = utc_year(t) {
                            return rules.offset_at(t, year);
                        }
                    }
                    self.transitions.len() - 1
                } else {
                    self.search(t) - 1
                }
            }
            // No type at all only in a file glibc would read garbage for: say UTC.
            _ => return self.types.get(self.before).map_or(0, |ty| ty.offset),
        };
        self.types[usize::from(self.type_idx[k])].offset
    }

    /// The index of the first transition after `t`, given `first <= t < last`, found as
    /// glibc does: a guess assuming two changes a year, then a linear scan when within
    /// ten transitions, else a binary search. Any search agrees on a sorted table; this
    /// one also agrees with glibc on a corrupt, unsorted one. Always in `1..len`.
    fn search(&self, t: i64) -> usize {
        let tr = &self.transitions;
        let n = tr.len();
        let (mut lo, mut hi) = (0, n - 1);
        let back = (tr[n - 1].wrapping_sub(t) / 15_778_476) as u64;
        if back < n as u64 {
            let mut i = n - 1 - back as usize;
            if t < tr[i] {
                if i < 10 || t >= tr[i - 10] {
                    // Stops by i = 1 at the latest, since tr[0] <= t.
                    while t < tr[i - 1] {
                        i -= 1;
                    }
                    return i;
                }
                hi = i - 10;
            } else {
                if i + 10 >= n || t < tr[i + 10] {
                    // Stops by n - 1 at the latest, since t < tr[n - 1].
                    while t >= tr[i] {
                        i += 1;
                    }
                    return i;
                }
                lo = i + 10;
            }
        }
        while lo + 1 < hi {
            let i = (lo + hi) / 2;
            if t < tr[i] {
                hi = i;
            } else {
                lo = i;
            }
        }
        hi
    }

    /// The leap-second correction at `t` and how many inserted seconds `t` falls on
    /// (glibc's search: the last record at or before `t`; a hit is an exact match on a
    /// record that adds a second, extended over immediately preceding consecutive ones).
    pub(super) fn leap(&self, t: i64) -> (i32, u8) {
        let Some(i) = self.leaps.iter().rposition(|l| t >= l.at) else { return (0, 0) };
        let l = self.leaps[i];
        let prev = if i == 0 { 0 } else { self.leaps[i - 1].corr };
        let mut hit = 0u8;
        if t == l.at && l.corr > prev {
            hit = 1;
            let mut j = i;
            while j > 0
                && self.leaps[j].at == self.leaps[j - 1].at.wrapping_add(1)
                && self.leaps[j].corr == self.leaps[j - 1].corr.wrapping_add(1)
            {
                hit = hit.saturating_add(1);
                j -= 1;
            }
        }
        (l.corr, hit)
    }
}

/// Room for the footer as glibc computes it (`tzspec_len`: the footer's bytes less its
/// final newline), or `None` where glibc rejects the whole file. `rem` is the file size
/// past the second header.
fn footer_len(n: &Counts, rem: u64) -> Option<u64> {
    let data = n.times.wrapping_mul(9).wrapping_add(n.types.wrapping_mul(6)).wrapping_add(n.chars);
    let mut len = rem.checked_sub(data)?;
    if n.leaps > u64::MAX / 12 {
        return None;
    }
    len = len.checked_sub(n.leaps * 12)?;
    len = len.checked_sub(n.isstd)?;
    if len == 0 || len - 1 < n.isut {
        return None;
    }
    len -= n.isut + 1;
    (len > 0).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exercises every lookup path of a parsed file.
    fn exercise(f: &TzFile) {
        for t in [i64::MIN, -1 << 40, -1, 0, 78796800, 1_700_000_000, 1 << 40, i64::MAX] {
            let _ = f.offset_at(t, |_| Some(2024));
            let _ = f.leap(t);
        }
        for &t in f.transitions.iter().chain(f.leaps.iter().map(|l| &l.at)) {
            for d in [-1, 0, 1] {
                let _ = f.offset_at(t.wrapping_add(d), |_| Some(2024));
            }
        }
    }

    #[test]
    fn truncated_or_corrupt_files_never_panic() {
        for name in ["Europe/Paris", "right/Europe/Paris", "Australia/Lord_Howe"] {
            let Ok(d) = std::fs::read(format!("/usr/share/zoneinfo/{name}")) else { continue };
            exercise(&TzFile::parse(&d, d.len() as u64).expect(name));
            for n in 0..d.len() {
                if let Some(f) = TzFile::parse(&d[..n], n as u64) {
                    exercise(&f);
                }
            }
            // A 64-bit block needs a newline and one more byte after its data (glibc
            // drops the last byte unread); without them glibc rejects the whole file.
            let end = d.len() - 1 - d[..d.len() - 1].iter().rposition(|&b| b == b'\n').unwrap() + 1;
            let data_end = d.len() - end;
            assert!(TzFile::parse(&d[..data_end], data_end as u64).is_none());
            assert!(TzFile::parse(&d[..data_end + 1], data_end as u64 + 1).is_none());
            assert!(
                TzFile::parse(&d[..data_end + 2], data_end as u64 + 2).is_some_and(|f| f.footer.is_none())
            );
            // And glibc trusts fstat's size: a pipe (size 0) loses its 64-bit data.
            assert!(TzFile::parse(&d, 0).is_none());
            let mut x = 0x2545_f491_4f6c_dd1d_u64;
            for _ in 0..3000 {
                let mut c = d.clone();
                for _ in 0..1 + x % 4 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let i = (x >> 8) as usize % c.len();
                    c[i] = x as u8;
                }
                if let Some(f) = TzFile::parse(&c, c.len() as u64) {
                    exercise(&f);
                }
            }
        }
    }

    #[test]
    fn huge_counts_are_refused_without_allocating() {
        let mut h = b"TZif2".to_vec();
        h.extend([0; 15]);
        for count in [
            [0, 0, 0, -1, 1, 4],
            [0, 0, 0, i32::MAX, 1, 4],
            [0, 0, i32::MAX, 0, 1, 4],
            [0, 0, 0, 0, i32::MAX, 4],
        ] {
            let mut f = h.clone();
            for n in count {
                f.extend(n.to_be_bytes());
            }
            f.extend([0; 64]);
            assert_eq!(TzFile::parse(&f, f.len() as u64), None, "{count:?}");
        }
    }
}
