//! What a client may do, from the environment part of the access rule that let it in
//! (upstream doc/s6-fdholderd.html, "Rules format"; FORMATS.md §5.1).
//!
//! * `S6_FDHOLDER_STORE_REGEX`: the ids it may store and delete (retrieve-and-delete needs
//!   it too); `S6_FDHOLDER_RETRIEVE_REGEX`: the ids it may retrieve. POSIX EREs with
//!   [`s6rs_sys::ere`]'s semantics, matched unanchored. Absent means nothing matches.
//! * `S6_FDHOLDER_LIST`, `S6_FDHOLDER_GETDUMP`, `S6_FDHOLDER_SETDUMP`: set to any value
//!   (even empty) grants the right. An empty file in an `env/` directory *unsets* the
//!   variable, so it grants nothing.
//!
//! An invalid regex refuses the connection.

use regex::bytes::Regex;
use s6rs_sys::ere::{self, Flags};
use s6rs_sys::exec::EnvMod;

/// A client's rights.
#[derive(Debug, Clone, Default)]
pub struct Rights {
    /// Ids it may store and delete.
    pub store: Option<Regex>,
    /// Ids it may retrieve.
    pub retrieve: Option<Regex>,
    /// `L`.
    pub list: bool,
    /// `?`.
    pub getdump: bool,
    /// `!` and `.`.
    pub setdump: bool,
}

/// A regex variable whose value does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRegex {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// Why it does not compile.
    pub why: String,
}

const STORE: &str = "S6_FDHOLDER_STORE_REGEX";
const RETRIEVE: &str = "S6_FDHOLDER_RETRIEVE_REGEX";

fn allows(re: &Option<Regex>, id: &[u8]) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(id))
}

impl Rights {
    /// The rights given by a rule's environment changes, in the rule's order (the first
    /// setting of a variable counts, as in s6).
    pub fn from_env(env: &[EnvMod]) -> Result<Rights, BadRegex> {
        let mut r = Rights::default();
        let (mut seen_store, mut seen_retrieve) = (false, false);
        for (name, value) in env {
            let Some(value) = value else { continue };
            let Some(name) = name.to_str() else { continue };
            let compile = |var: &'static str| {
                use std::os::unix::ffi::OsStrExt;
                ere::compile(value.as_bytes(), Flags::default()).map_err(|e| BadRegex {
                    var,
                    value: value.to_string_lossy().into_owned(),
                    why: e.to_string(),
                })
            };
            match name {
                "S6_FDHOLDER_LIST" => r.list = true,
                "S6_FDHOLDER_GETDUMP" => r.getdump = true,
                "S6_FDHOLDER_SETDUMP" => r.setdump = true,
                STORE if !seen_store => {
                    seen_store = true;
                    r.store = Some(compile(STORE)?);
                }
                RETRIEVE if !seen_retrieve => {
                    seen_retrieve = true;
                    r.retrieve = Some(compile(RETRIEVE)?);
                }
                _ => {}
            }
        }
        Ok(r)
    }

    /// Whether the client may store or delete `id`.
    pub fn may_store(&self, id: &[u8]) -> bool {
        allows(&self.store, id)
    }

    /// Whether the client may retrieve `id`.
    pub fn may_retrieve(&self, id: &[u8]) -> bool {
        allows(&self.retrieve, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env(v: &[(&str, Option<&str>)]) -> Vec<EnvMod> {
        v.iter().map(|(k, v)| (OsString::from(k), v.map(OsString::from))).collect()
    }

    #[test]
    fn flags_need_a_value_and_unset_grants_nothing() {
        let r = Rights::from_env(&env(&[
            ("S6_FDHOLDER_LIST", None),
            ("S6_FDHOLDER_GETDUMP", Some("")),
            ("S6_FDHOLDER_SETDUMP", Some("1")),
        ]))
        .unwrap();
        assert!(!r.list && r.getdump && r.setdump);
        assert!(!r.may_store(b"x") && !r.may_retrieve(b"x"));
    }

    #[test]
    fn regexes_are_unanchored_eres() {
        let r = Rights::from_env(&env(&[
            ("S6_FDHOLDER_STORE_REGEX", Some("^unix:/tmp/")),
            ("S6_FDHOLDER_RETRIEVE_REGEX", Some("foo.bar")),
        ]))
        .unwrap();
        assert!(r.may_store(b"unix:/tmp/x") && !r.may_store(b"x unix:/tmp/"));
        assert!(r.may_retrieve(b"a fooXbar b") && !r.may_retrieve(b"foobar"));
    }

    #[test]
    fn an_invalid_regex_is_an_error() {
        let e = Rights::from_env(&env(&[("S6_FDHOLDER_RETRIEVE_REGEX", Some("a("))])).unwrap_err();
        assert_eq!(e.var, "S6_FDHOLDER_RETRIEVE_REGEX");
        assert_eq!(e.value, "a(");
    }
}
