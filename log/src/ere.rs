//! POSIX extended regular expressions (as glibc's `regcomp` reads them with `REG_EXTENDED |
//! REG_NOSUB | REG_NEWLINE` in the C locale) rewritten into the syntax of the `regex` crate,
//! compiled as byte regexes with Unicode off. The differences that remain are listed in the
//! documentation of [`crate::script`].

use regex::bytes::{Regex, RegexBuilder};

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EreError(pub String);

/// Compiles an ERE given as raw bytes (a command-line word) into a byte regex.
pub fn compile(pat: &[u8]) -> Result<Regex, EreError> {
    let src = translate(pat)?;
    RegexBuilder::new(&src)
        .unicode(false)
        // Regexes are compiled once at start-up; a generous limit keeps big alternations
        // (long lists of words) working as they do with glibc.
        .size_limit(64 << 20)
        .build()
        .map_err(|e| EreError(e.to_string()))
}

/// Characters that are syntax in the `regex` crate outside a bracket expression.
fn is_meta(c: u8) -> bool {
    matches!(
        c,
        b'\\'
            | b'.'
            | b'+'
            | b'*'
            | b'?'
            | b'('
            | b')'
            | b'|'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'^'
            | b'$'
            | b'#'
            | b'&'
            | b'-'
            | b'~'
    )
}

fn push_literal(out: &mut String, c: u8) {
    if !(0x20..0x7f).contains(&c) {
        out.push_str(&format!("\\x{c:02x}"));
    } else {
        if is_meta(c) {
            out.push('\\');
        }
        out.push(c as char);
    }
}

/// Rewrites an ERE into `regex` crate syntax.
pub fn translate(pat: &[u8]) -> Result<String, EreError> {
    let mut out = String::with_capacity(pat.len() + 8);
    let mut i = 0;
    while i < pat.len() {
        let c = pat[i];
        match c {
            b'\\' => {
                let Some(&n) = pat.get(i + 1) else {
                    return Err(EreError("trailing backslash".into()));
                };
                i += 2;
                match n {
                    // GNU extensions glibc accepts in EREs; the regex crate has the same ones.
                    b'w' | b'W' | b's' | b'S' | b'b' | b'B' | b'<' | b'>' => {
                        out.push('\\');
                        out.push(n as char);
                    }
                    b'`' => out.push_str("\\A"),
                    b'\'' => out.push_str("\\z"),
                    b'1'..=b'9' => return Err(EreError("back-references are not supported".into())),
                    // Any other escaped character stands for itself (`\d` is a `d` for glibc).
                    _ => push_literal(&mut out, n),
                }
                continue;
            }
            b'[' => {
                i = bracket(pat, i, &mut out)?;
                continue;
            }
            b'{' => {
                let close =
                    pat[i..].iter().position(|&b| b == b'}').ok_or_else(|| EreError("unmatched {".into()))?;
                let body = &pat[i + 1..i + close];
                if !body.iter().all(|&b| b.is_ascii_digit() || b == b',') {
                    return Err(EreError("bad interval".into()));
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
            b'#' | b'&' | b'-' | b'~' | b']' | b'}' => {
                out.push('\\');
                out.push(c as char);
            }
            // A literal space stays a space: the regex crate's verbose mode is never enabled.
            _ if !(0x20..0x7f).contains(&c) => push_literal(&mut out, c),
            _ => out.push(c as char),
        }
        i += 1;
    }
    Ok(out)
}

/// Translates the bracket expression starting at `pat[start] == '['`; returns the index
/// after its closing `]`.
fn bracket(pat: &[u8], start: usize, out: &mut String) -> Result<usize, EreError> {
    let unclosed = || EreError("unmatched [".into());
    let mut i = start + 1;
    out.push('[');
    if pat.get(i) == Some(&b'^') {
        out.push('^');
        i += 1;
    }
    let first = i;
    loop {
        let &c = pat.get(i).ok_or_else(unclosed)?;
        match c {
            b']' if i != first => {
                out.push(']');
                return Ok(i + 1);
            }
            b'[' if matches!(pat.get(i + 1), Some(b':' | b'=' | b'.')) => {
                let kind = pat[i + 1];
                let body = i + 2;
                let end = (body..pat.len().saturating_sub(1))
                    .find(|&j| pat[j] == kind && pat[j + 1] == b']')
                    .ok_or_else(unclosed)?;
                let name = &pat[body..end];
                if kind == b':' {
                    out.push_str("[:");
                    out.push_str(std::str::from_utf8(name).map_err(|_| EreError("bad class".into()))?);
                    out.push_str(":]");
                } else if name.len() == 1 {
                    // An equivalence class or collating element of one character is that
                    // character in the C locale.
                    class_literal(out, name[0]);
                } else {
                    return Err(EreError("multi-character collating elements are not supported".into()));
                }
                i = end + 2;
                continue;
            }
            b'-' => {
                // A range dash stays; a dash first, last, or doubled is a literal.
                let last = pat.get(i + 1) == Some(&b']');
                if i == first || last || out.ends_with('-') {
                    out.push_str("\\-");
                } else {
                    out.push('-');
                }
            }
            _ => class_literal(out, c),
        }
        i += 1;
    }
}

fn class_literal(out: &mut String, c: u8) {
    match c {
        // In a POSIX bracket expression a backslash is an ordinary character, and these are
        // set operators or nesting for the regex crate.
        b'\\' | b'[' | b']' | b'&' | b'~' | b'^' | b'-' => {
            out.push('\\');
            out.push(c as char);
        }
        _ if !(0x20..0x7f).contains(&c) => out.push_str(&format!("\\x{c:02x}")),
        _ => out.push(c as char),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pat: &str, line: &[u8]) -> bool {
        compile(pat.as_bytes()).unwrap().is_match(line)
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
    }

    #[test]
    fn refused_patterns() {
        assert!(compile(b"a(").is_err());
        assert!(compile(b"*a").is_err());
        assert!(compile(b"[abc").is_err());
        assert!(compile(b"a\\").is_err());
        assert!(compile(b"(a)\\1").is_err());
    }
}
