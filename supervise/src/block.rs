//! execline's block encoding, as s6-svlisten and s6-ftrig-listen read their first block
//! (execline `el_semicolon`, s6's `s6_compat_el_semicolon`).
//!
//! execlineb turns `{ a b } prog` into the words `" a" " b" "" prog`: each word of the
//! block gets a leading space, and an empty word ends the block. Readers strip that one
//! space. A word without it is accepted as it is, unless `EXECLINE_STRICT` says otherwise:
//! 1 warns about it, 2 or more makes it fatal (exit 100).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use s6rs_sys::cli::{self, Fatal};

/// The strictness level from `EXECLINE_STRICT` (0 when unset or not a number).
pub(crate) fn strict_level() -> u32 {
    std::env::var("EXECLINE_STRICT").ok().and_then(|s| cli::parse_uint(&s)).unwrap_or(0)
}

/// A block read from the front of a word list.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Block {
    /// The block's words, with their leading space removed.
    pub words: Vec<OsString>,
    /// Index of the terminating empty word; `None` when the list ends first.
    pub end: Option<usize>,
}

/// Reads the first block of `args` (block number 1 for messages) at strictness `strict`.
pub(crate) fn semicolon(args: &[OsString], strict: u32) -> Result<Block, Fatal> {
    let mut words = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let b = a.as_bytes();
        match b.first() {
            None => return Ok(Block { words, end: Some(i) }),
            Some(b' ') => words.push(OsStr::from_bytes(&b[1..]).to_owned()),
            Some(_) => {
                if strict > 0 {
                    let msg = format!("unquoted argument {} at block 1 position {i}", cli::show(a));
                    if strict >= 2 {
                        return Err(Fatal::bad(msg));
                    }
                    cli::warn(msg);
                }
                words.push(a.clone());
            }
        }
    }
    Ok(Block { words, end: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    use s6rs_sys::testing::args;

    #[test]
    fn strips_one_space_and_stops_at_empty_word() {
        let b = semicolon(&args(&[" a", "b", "  c", "", "prog", ""]), 0).unwrap();
        assert_eq!(b.words, args(&["a", "b", " c"]));
        assert_eq!(b.end, Some(3));
        let b = semicolon(&args(&["", "prog"]), 0).unwrap();
        assert!(b.words.is_empty());
        assert_eq!(b.end, Some(0));
    }

    #[test]
    fn unterminated_block() {
        let b = semicolon(&args(&[" a", " b"]), 0).unwrap();
        assert_eq!(b.end, None);
        assert_eq!(b.words.len(), 2);
    }

    #[test]
    fn strict_mode() {
        assert!(semicolon(&args(&[" a", "b", ""]), 1).is_ok());
        let e = semicolon(&args(&[" a", "b", ""]), 2).unwrap_err();
        assert_eq!(e.code, 100);
        assert_eq!(e.msg, "unquoted argument b at block 1 position 1");
        assert!(semicolon(&args(&[" a", " b", ""]), 2).is_ok());
    }
}
