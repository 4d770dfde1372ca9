//! Syslog priority prefixes (`<N>`) turned into `facility.priority: `, for ucspilogd and
//! s6-socklog. The names are glibc's `facilitynames` and `prioritynames` tables (what s6
//! uses when built against glibc, as Debian's is), the first name listed for a value
//! winning: so `<4>` is `kern.warn`, `<86>` is `authpriv.info`, `<192>` is `mark.emerg`.

/// Facility names by code (`code << 3` is the facility value).
const FACILITIES: &[(u32, &str)] = &[
    (0, "kern"),
    (1, "user"),
    (2, "mail"),
    (3, "daemon"),
    (4, "auth"),
    (5, "syslog"),
    (6, "lpr"),
    (7, "news"),
    (8, "uucp"),
    (9, "cron"),
    (10, "authpriv"),
    (11, "ftp"),
    (16, "local0"),
    (17, "local1"),
    (18, "local2"),
    (19, "local3"),
    (20, "local4"),
    (21, "local5"),
    (22, "local6"),
    (23, "local7"),
    // glibc's internal "mark" facility, LOG_NFACILITIES.
    (24, "mark"),
];

/// Priority names by value (0..7).
const PRIORITIES: [&str; 8] = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];

/// A decoded `<N>` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Code {
    /// The facility name (`unknown` when it has none).
    pub facility: &'static str,
    /// The priority name.
    pub priority: &'static str,
    /// How many bytes of the line the `<N>` covers.
    pub len: usize,
}

impl Code {
    /// Appends the replacement text, `facility.priority: `.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.facility.as_bytes());
        out.push(b'.');
        out.extend_from_slice(self.priority.as_bytes());
        out.extend_from_slice(b": ");
    }
}

/// If `line` starts with `<N>` (decimal, fitting in 32 bits), decodes it.
pub(crate) fn decode(line: &[u8]) -> Option<Code> {
    if line.first() != Some(&b'<') {
        return None;
    }
    let mut value: u32 = 0;
    let mut digits = 0;
    for &c in &line[1..] {
        if !c.is_ascii_digit() {
            break;
        }
        // skalibs' uint_scan stops before a digit that would overflow.
        let Some(v) = value.checked_mul(10).and_then(|v| v.checked_add(u32::from(c - b'0'))) else { break };
        value = v;
        digits += 1;
    }
    if digits == 0 || line.get(1 + digits) != Some(&b'>') {
        return None;
    }
    let fac = (value & 0x3f8) >> 3;
    let facility = FACILITIES.iter().find(|(c, _)| *c == fac).map_or("unknown", |(_, n)| n);
    Some(Code { facility, priority: PRIORITIES[(value & 7) as usize], len: digits + 2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<(String, usize)> {
        decode(s.as_bytes()).map(|c| {
            let mut out = Vec::new();
            c.write_to(&mut out);
            (String::from_utf8(out).unwrap(), c.len)
        })
    }

    #[test]
    fn names_as_real_ucspilogd_prints_them() {
        assert_eq!(d("<12>a"), Some(("user.warn: ".into(), 4)));
        assert_eq!(d("<86>hi"), Some(("authpriv.info: ".into(), 4)));
        assert_eq!(d("<192>b"), Some(("mark.emerg: ".into(), 5)));
        assert_eq!(d("<88>c"), Some(("ftp.emerg: ".into(), 4)));
        assert_eq!(d("<105>b"), Some(("unknown.alert: ".into(), 5)));
        assert_eq!(d("<200>e"), Some(("unknown.emerg: ".into(), 5)));
        assert_eq!(d("<1024>h"), Some(("kern.emerg: ".into(), 6)));
        assert_eq!(d("<191>c"), Some(("local7.debug: ".into(), 5)));
    }

    #[test]
    fn not_a_priority() {
        assert_eq!(d("<x>f"), None);
        assert_eq!(d("<>f"), None);
        assert_eq!(d("<12"), None);
        assert_eq!(d("<4294967296>e"), None);
        assert_eq!(d("x<12>"), None);
        assert_eq!(d("<4294967295>e").map(|x| x.1), Some(12));
    }
}
