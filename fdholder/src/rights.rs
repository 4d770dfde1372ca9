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
//!
//! The daemon builds rights at every connection, and building a regex costs far more than
//! the rest of the connection; so it keeps the regexes it built in a [`RegexCache`], keyed
//! by pattern: the rules are still read at every connection, and a changed pattern is
//! simply a new key.

use std::rc::Rc;

use regex::bytes::Regex;
use s6rs_sys::ere::{self, Flags};
use s6rs_sys::exec::EnvMod;

/// A client's rights.
#[derive(Debug, Clone, Default)]
pub struct Rights {
    /// Ids it may store and delete.
    pub store: Option<Rc<Regex>>,
    /// Ids it may retrieve.
    pub retrieve: Option<Rc<Regex>>,
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

fn allows(re: &Option<Rc<Regex>>, id: &[u8]) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(id))
}

/// How many distinct patterns a [`RegexCache`] keeps (a rules directory rarely has more
/// than a few; past this, the oldest is dropped).
const CACHE_SLOTS: usize = 16;

/// Regexes already built, by pattern. A regex is shared (`Rc`), not cloned: a clone of a
/// `Regex` starts with an empty matching cache, which would cost a rebuild at the first
/// match of every connection.
#[derive(Debug, Default)]
pub struct RegexCache {
    /// Most recently used last.
    slots: Vec<(Vec<u8>, Rc<Regex>)>,
}

impl RegexCache {
    /// The regex for `pat`, built on first use.
    fn get(&mut self, pat: &[u8]) -> Result<Rc<Regex>, ere::Error> {
        if let Some(i) = self.slots.iter().position(|(p, _)| p == pat) {
            let hit = self.slots.remove(i);
            let re = Rc::clone(&hit.1);
            self.slots.push(hit);
            return Ok(re);
        }
        let re = Rc::new(ere::compile(pat, Flags::default())?);
        if self.slots.len() == CACHE_SLOTS {
            self.slots.remove(0);
        }
        self.slots.push((pat.to_vec(), Rc::clone(&re)));
        Ok(re)
    }
}

impl Rights {
    /// The rights given by a rule's environment changes, in the rule's order (the first
    /// setting of a variable counts, as in s6).
    pub fn from_env(env: &[EnvMod]) -> Result<Rights, BadRegex> {
        Rights::from_env_cached(env, &mut RegexCache::default())
    }

    /// [`Rights::from_env`], taking the regexes from `cache` (and adding new ones to it).
    pub fn from_env_cached(env: &[EnvMod], cache: &mut RegexCache) -> Result<Rights, BadRegex> {
        let mut r = Rights::default();
        let (mut seen_store, mut seen_retrieve) = (false, false);
        for (name, value) in env {
            let Some(value) = value else { continue };
            let Some(name) = name.to_str() else { continue };
            let mut compile = |var: &'static str| {
                use std::os::unix::ffi::OsStrExt;
                cache.get(value.as_bytes()).map_err(|e| BadRegex {
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

    #[test]
    fn the_cache_shares_a_pattern_and_stays_bounded() {
        let mut cache = RegexCache::default();
        let e = env(&[("S6_FDHOLDER_STORE_REGEX", Some("^a")), ("S6_FDHOLDER_RETRIEVE_REGEX", Some("^a"))]);
        let r1 = Rights::from_env_cached(&e, &mut cache).unwrap();
        let r2 = Rights::from_env_cached(&e, &mut cache).unwrap();
        assert!(Rc::ptr_eq(r1.store.as_ref().unwrap(), r2.retrieve.as_ref().unwrap()));
        assert_eq!(cache.slots.len(), 1);
        // A changed pattern is a new key, so a rules change takes effect at once.
        let r3 =
            Rights::from_env_cached(&env(&[("S6_FDHOLDER_STORE_REGEX", Some("^b"))]), &mut cache).unwrap();
        assert!(r3.may_store(b"b") && !r3.may_store(b"a"));
        assert!(
            Rights::from_env_cached(&env(&[("S6_FDHOLDER_STORE_REGEX", Some("a("))]), &mut cache).is_err()
        );
        for i in 0..40 {
            cache.get(format!("x{i}").as_bytes()).unwrap();
        }
        assert_eq!(cache.slots.len(), CACHE_SLOTS);
        assert_eq!(cache.slots.last().unwrap().0, b"x39");
    }
}
