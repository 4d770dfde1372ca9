//! POSIX extended regular expressions, as glibc's `regcomp(REG_EXTENDED | REG_NOSUB)` reads
//! them in the C locale, rewritten into the syntax of the `regex` crate and compiled as byte
//! regexes with Unicode off. [`Flags::newline`] stands for `REG_NEWLINE`.
//!
//! What the two dialects spell differently is rewritten, so these behave as with glibc:
//! literals (bytes of 0x80 and above are single literal bytes), `.`, anchors,
//! `* + ? {m,n} {,n}`, alternation, groups, the GNU escapes `\w \W \s \S \b \B \< \> \` \'`,
//! an escaped ordinary character meaning itself (`\d` is `d`, `\.` is `.`), and bracket
//! expressions parsed with POSIX rules (a leading `]` is literal, `\` is literal inside,
//! `[:class:]` with the twelve POSIX class names, single-character `[=c=]` and `[.c.]`)
//! and re-emitted as escaped bytes, so the regex crate's nested classes and `&&`/`--`/`~~`
//! set operators never apply.
//!
//! Remaining differences, all in corners POSIX leaves undefined or that glibc extends:
//!
//! * back-references (`\1`..`\9`, a glibc extension) are refused;
//! * multi-character collating elements and equivalence classes (`[.ch.]`) are refused;
//! * `(?flags)` groups, an error for glibc, are accepted as the regex crate's inline flags;
//! * a repetition operator with nothing to repeat (`*a`) is an error rather than a literal,
//!   and a repetition applied to an anchor or another repetition follows the regex crate's
//!   rules where glibc's differ (such patterns are errors or undefined in POSIX);
//! * the regex crate finds leftmost-first matches, POSIX leftmost-longest: only the spans of
//!   matches differ, never whether a subject matches.

use std::fmt;

use regex::bytes::{Regex, RegexBuilder};

/// Compilation options, the `regcomp` flags that change what a pattern means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `REG_NEWLINE`: `.` and non-matching bracket expressions never match `\n`, and `^`
    /// and `$` also match just after and just before a `\n`. Without it `\n` is an
    /// ordinary byte and the anchors stand only at the two ends of the subject.
    pub newline: bool,
}

/// Why a pattern was refused; the text is for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The POSIX character classes, as both dialects spell them. The regex crate knows more
/// (`word`, `ascii`), which glibc refuses.
const CLASSES: &[&str] = &[
    "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper",
    "xdigit",
];

/// The largest interval bound glibc accepts (`RE_DUP_MAX`).
const RE_DUP_MAX: u32 = 0x7fff;

/// The most memory a compiled pattern may take: patterns are compiled once at start-up, and
/// a generous limit keeps big alternations (long lists of words) working as they do with
/// glibc.
pub const SIZE_LIMIT: usize = 64 << 20;

/// Compiles an ERE given as raw bytes (a command-line word) into a byte regex.
pub fn compile(pat: &[u8], flags: Flags) -> Result<Regex, Error> {
    compile_within(pat, flags, SIZE_LIMIT)
}

/// [`compile`] with another bound on the compiled program's size. The fuzz harness uses a
/// small one: a pattern that unrolls to megabytes (`(...){30000}`) is then refused at once
/// instead of being built for up to a second, which kept the fuzzer's rate low.
pub fn compile_within(pat: &[u8], flags: Flags, size_limit: usize) -> Result<Regex, Error> {
    let src = translate(pat, flags)?;
    RegexBuilder::new(&src)
        .unicode(false)
        .dot_matches_new_line(!flags.newline)
        .multi_line(flags.newline)
        .size_limit(size_limit)
        .build()
        .map_err(|e| Error(e.to_string()))
}

fn err<T>(msg: &str) -> Result<T, Error> {
    Err(Error(msg.into()))
}

/// Rewrites an ERE into `regex` crate syntax, for [`compile`] to build with byte-regex,
/// Unicode-off settings. What POSIX leaves to the regex engine to refuse (an unbalanced
/// group, a bad interval such as `{2,1}`) may pass here and fail in the build.
pub fn translate(pat: &[u8], flags: Flags) -> Result<String, Error> {
    let mut out = String::with_capacity(pat.len() * 2);
    let mut i = 0;
    while i < pat.len() {
        let c = pat[i];
        match c {
            b'\\' => {
                let Some(&n) = pat.get(i + 1) else { return err("trailing backslash") };
                i += 2;
                match n {
                    // GNU extensions glibc accepts in EREs; the regex crate has the same ones.
                    b'w' | b'W' | b's' | b'S' | b'b' | b'B' | b'<' | b'>' => {
                        out.push('\\');
                        out.push(n as char);
                    }
                    b'`' => out.push_str("\\A"),
                    b'\'' => out.push_str("\\z"),
                    b'1'..=b'9' => return err("back-references are not supported"),
                    // Any other escaped character stands for itself (`\d` is a `d` for glibc).
                    _ => byte_escape(n, &mut out),
                }
                continue;
            }
            b'[' => {
                i = bracket(pat, i + 1, flags, &mut out)?;
                continue;
            }
            b'{' => {
                let Some(close) = pat[i..].iter().position(|&b| b == b'}') else { return err("unmatched {") };
                let body = &pat[i + 1..i + close];
                if !body.iter().all(|&b| b.is_ascii_digit() || b == b',') {
                    return err("bad interval");
                }
                // glibc refuses a bound above RE_DUP_MAX (REG_ESIZE). Passing one on would
                // have the regex crate unroll it up to its size limit: seconds of start-up.
                let too_big = |n: &[u8]| {
                    n.iter().fold(0u32, |v, &d| (v * 10 + u32::from(d - b'0')).min(RE_DUP_MAX + 1))
                        > RE_DUP_MAX
                };
                if body.split(|&b| b == b',').any(too_big) {
                    return err("interval bound too large");
                }
                out.push('{');
                // glibc accepts `{,n}` for "at most n"; the regex crate wants `{0,n}`.
                if body.first() == Some(&b',') {
                    out.push('0');
                }
                out.extend(body.iter().map(|&b| b as char));
                out.push('}');
                i += close + 1;
                continue;
            }
            // Literal for POSIX, syntax (or reserved) for the regex crate.
            b'#' | b'&' | b'-' | b'~' | b']' | b'}' => byte_escape(c, &mut out),
            // A literal space stays a space: the regex crate's verbose mode is never enabled.
            0x20..0x7f => out.push(c as char),
            _ => byte_escape(c, &mut out),
        }
        i += 1;
    }
    Ok(out)
}

/// Emits `b` as a literal byte, whatever it means to the regex crate.
fn byte_escape(b: u8, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(out, "\\x{b:02X}");
}

/// One element inside a bracket expression, at `pat[j..]`: a literal byte or a
/// single-character collating element / equivalence class. Returns the byte and the next
/// index, or `None` when the element is a character class.
fn bracket_char(pat: &[u8], j: usize) -> Result<Option<(u8, usize)>, Error> {
    let b = pat[j];
    if b == b'[' {
        if let Some(&d @ (b':' | b'=' | b'.')) = pat.get(j + 1) {
            let body = j + 2;
            let Some(end) = pat[body..].windows(2).position(|w| w[0] == d && w[1] == b']') else {
                return err("unterminated bracket element");
            };
            if d == b':' {
                return Ok(None);
            }
            // An equivalence class or collating element of one character is that character
            // in the C locale.
            let [c] = pat[body..body + end] else {
                return err("multi-character collating elements are not supported");
            };
            return Ok(Some((c, body + end + 2)));
        }
    }
    Ok(Some((b, j + 1)))
}

/// Translates the bracket expression whose body starts at `pat[start]` (just after `[`);
/// returns the index after its closing `]`.
fn bracket(pat: &[u8], start: usize, flags: Flags, out: &mut String) -> Result<usize, Error> {
    let mut j = start;
    out.push('[');
    if pat.get(j) == Some(&b'^') {
        out.push('^');
        if flags.newline {
            out.push_str("\\n");
        }
        j += 1;
    }
    let mut first = true;
    loop {
        let Some(&b) = pat.get(j) else { return err("unterminated bracket expression") };
        if b == b']' && !first {
            out.push(']');
            return Ok(j + 1);
        }
        first = false;
        // A `-` after an element makes a range, unless it is the last thing before `]`.
        let dash_follows = |k: usize| pat.get(k) == Some(&b'-') && pat.get(k + 1).is_some_and(|&c| c != b']');
        match bracket_char(pat, j)? {
            None => {
                let body = j + 2;
                let end = pat[body..].windows(2).position(|w| w == b":]").unwrap_or(0);
                let name = std::str::from_utf8(&pat[body..body + end]).unwrap_or("");
                if !CLASSES.contains(&name) {
                    return Err(Error(format!("unknown character class {name:?}")));
                }
                out.push_str("[:");
                out.push_str(name);
                out.push_str(":]");
                j = body + end + 2;
                if dash_follows(j) {
                    return err("character class as a range start");
                }
            }
            Some((lo, next)) => {
                j = next;
                byte_escape(lo, out);
                if dash_follows(j) {
                    let Some((hi, after)) = bracket_char(pat, j + 1)? else {
                        return err("character class as a range end");
                    };
                    if hi < lo {
                        return err("invalid range end");
                    }
                    out.push('-');
                    byte_escape(hi, out);
                    j = after;
                    if dash_follows(j) {
                        return err("range end as a range start");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: Flags = Flags { newline: true };
    const BYTES: Flags = Flags { newline: false };

    /// Matches as s6-log does (`REG_NEWLINE`).
    fn m(pat: &str, line: &[u8]) -> bool {
        compile(pat.as_bytes(), LINE).unwrap().is_match(line)
    }

    /// Matches as the ftrig listeners do (no `REG_NEWLINE`).
    fn mb(ere: &str, s: &[u8]) -> bool {
        compile(ere.as_bytes(), BYTES).unwrap().is_match(s)
    }

    fn compile_ere(ere: &[u8]) -> Result<Regex, Error> {
        compile(ere, BYTES)
    }

    #[test]
    fn plain_patterns_match_like_glibc() {
        assert!(m("level=(ERROR|WARN)", b"ts level=WARN msg"));
        assert!(!m("level=(ERROR|WARN)", b"ts level=INFO msg"));
        assert!(m("^STAT", b"STAT ok"));
        assert!(!m("^STAT", b"x STAT"));
        assert!(m("fatal:$", b"it was fatal:"));
        assert!(m("", b"anything"));
        assert!(m("a.c", b"abc"));
        assert!(m("a{2,3}", b"aaa"));
        assert!(m("a{,2}b", b"b"));
        assert!(m("[[:digit:]]+", b"x9"));
        assert!(m("\\<word\\>", b"a word here"));
        assert!(!m("\\<word\\>", b"swordfish"));
    }

    #[test]
    fn bytes_are_not_unicode() {
        assert!(m("^.$", b"\xff"));
        assert!(m("\u{e9}", "caf\u{e9}".as_bytes()));
        assert!(m("^...$", "\u{e9}x".as_bytes()));
    }

    #[test]
    fn bracket_quirks() {
        // A backslash inside brackets is literal in POSIX.
        assert!(m("[\\.]", b"\\"));
        assert!(m("[\\.]", b"."));
        assert!(m("[]a]", b"]"));
        assert!(m("[^]a]", b"b"));
        assert!(!m("[^]a]", b"]"));
        assert!(m("[a&&b]", b"&"));
        assert!(m("[[]", b"["));
        assert!(m("[a-]", b"-"));
        assert!(m("[-a]", b"-"));
        assert!(m("[a-c]", b"b"));
        assert!(m("[[=e=]]", b"e"));
        assert!(m("[~]", b"~"));
    }

    #[test]
    fn escapes() {
        // Unknown escapes are the character itself.
        assert!(m("\\d", b"d"));
        assert!(!m("\\d", b"1"));
        assert!(m("a\\.b", b"a.b"));
        assert!(!m("a\\.b", b"axb"));
        assert!(m("\\`a", b"ab"));
        assert!(m("b\\'", b"ab"));
        assert!(m("#&~-", b"#&~-"));
        assert!(m("a]}", b"a]}"));
    }

    #[test]
    fn refused_patterns() {
        assert!(compile(b"a(", LINE).is_err());
        assert!(compile(b"*a", LINE).is_err());
        assert!(compile(b"[abc", LINE).is_err());
        assert!(compile(b"a\\", LINE).is_err());
        assert!(compile(b"(a)\\1", LINE).is_err());
    }

    #[test]
    fn interval_bounds_above_re_dup_max_are_refused_quickly() {
        // Found by the ere fuzz target: `(|ZZZZZZZ\x84\x8f$){677772}` took 12 s to be
        // refused (the regex crate unrolls the group up to its size limit). glibc refuses
        // any bound above RE_DUP_MAX (32767) at once.
        let start = std::time::Instant::now();
        for p in [&b"(|ZZZZZZZ\x84\x8f$){677772}"[..], b"a{32768}", b"a{1,32768}", b"a{,99999999999}"] {
            assert!(compile(p, LINE).is_err(), "{}", String::from_utf8_lossy(p));
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        assert!(m("^a{2,32767}$", b"aaa"));
        assert!(m("^a{0000000000003}$", b"aaa"));
    }

    #[test]
    fn ere_basics_and_anchors() {
        assert!(mb("[DuUdOx]", b"sU"));
        assert!(!mb("[DuUdOx]", b"s"));
        assert!(mb("ab+c", b"xabbbc"));
        assert!(mb("^s", b"su"));
        assert!(!mb("^u", b"su"));
        assert!(mb("u$", b"su"));
        assert!(mb("a.b", b"a\nb"));
        assert!(mb("a.b", b"a\xffb"));
        assert!(mb("(ab|cd){2}", b"abcd"));
        assert!(mb("", b""));
    }

    #[test]
    fn ere_brackets_follow_posix() {
        assert!(mb("[]a]", b"]"));
        assert!(mb("[^]a]", b"b"));
        assert!(!mb("[^]a]", b"]"));
        assert!(mb("[\\]", b"\\"));
        assert!(mb("[a&&b]", b"&"));
        assert!(mb("[a-]", b"-"));
        assert!(compile_ere(b"[a--]").is_err());
        assert!(mb("[!--]", b","));
        assert!(mb("[[:digit:]x]", b"7"));
        assert!(mb("[[=e=]]", b"e"));
        assert!(mb("[[.-.]a]", b"-"));
        assert!(mb("[[]", b"["));
        assert!(mb("[a-c]", b"b"));
        assert!(!mb("[a-c]", b"d"));
        assert!(compile_ere(b"[z-a]").is_err());
        assert!(compile_ere(b"[[:nope:]]").is_err());
        assert!(compile_ere(b"[abc").is_err());
        assert!(compile_ere(b"[[.ab.]]").is_err());
    }

    #[test]
    fn ere_escapes_and_high_bytes() {
        assert!(mb("a\\.b", b"a.b"));
        assert!(!mb("a\\.b", b"axb"));
        assert!(mb("\\w", b"_"));
        assert!(mb("\\<ab\\>", b"x ab y"));
        assert!(mb("\u{e9}", "caf\u{e9}".as_bytes()));
        assert!(compile_ere(b"\xe9").unwrap().is_match(b"\xe9"));
        assert!(compile_ere(b"a\\").is_err());
    }

    #[test]
    fn newline_flag() {
        // Without REG_NEWLINE a newline is an ordinary byte.
        assert!(mb("a[^x]b", b"a\nb"));
        assert!(!mb("^b", b"a\nb"));
        assert!(!mb("a$", b"a\nb"));
        // With it, lines are separate subjects for `.`, `[^...]` and the anchors.
        assert!(!m("a.b", b"a\nb"));
        assert!(!m("a[^x]b", b"a\nb"));
        assert!(m("a[^x]b", b"ayb"));
        assert!(m("^b", b"a\nb"));
        assert!(m("a$", b"a\nb"));
        assert!(!m("\\`b", b"a\nb"));
    }

    #[test]
    fn glibc_corners_agree_in_both_modes() {
        // Checked against glibc regcomp: glibc's letter escapes, `{,n}`, brackets in a class.
        for f in [LINE, BYTES] {
            let c = |p: &[u8]| compile(p, f);
            assert!(c(b"\\d").unwrap().is_match(b"d"));
            assert!(c(b"a{,2}b").unwrap().is_match(b"b"));
            assert!(c(b"[\xe9]").unwrap().is_match(b"\xe9"));
            assert!(c(b"[[:alpha:][:digit:]]").unwrap().is_match(b"5"));
            for bad in [
                &b"a{"[..],
                b"a{x}",
                b"[[:word:]]",
                b"[[:digit:]-z]",
                b"[a-[:digit:]]",
                b"[a-c-e]",
                b"[[:digit",
            ] {
                assert!(c(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
            }
        }
    }
}
