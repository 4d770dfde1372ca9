//! **s6-rs extension: an argument policy for s6-sudod.** Upstream's s6-sudod appends
//! whatever arguments the client sends to its own, so a service running
//! `s6-sudod s6-svc -r` cannot stop a client from adding flags of its own. Two variables in
//! s6-sudod's environment restrict them:
//!
//! | variable | meaning |
//! |---|---|
//! | `S6RS_SUDO_ARGS_ERE` | a POSIX extended regex (glibc's dialect, [`s6rs_sys::ere`]) that **every** client argument must match **in full** |
//! | `S6RS_SUDO_ARGS_MAX` | the most client arguments accepted (a decimal number; `0` allows none) |
//!
//! They are meant to come from the access rule that admitted the client: a rule's `env/`
//! directory, exported by `s6-ipcserver-access` (or the in-process check of our
//! s6-ipcserver, `--access-rules`/`--access-cdb`) into s6-sudod's environment, so the same
//! per-uid/gid database that decides who may connect also decides what they may ask for.
//! Names under the `S6RS_SUDO_` prefix cannot collide with any upstream variable.
//!
//! A request that breaks the policy is refused before anything is spawned, with the EPERM
//! confirmation byte, which a real s6-sudoc reports as `server answered: : Operation not
//! permitted`. The policy fails closed: a regex that does not compile or a maximum that is
//! not a number refuses every request, with a message saying which variable is wrong. An
//! empty regex is a regex: it accepts only empty arguments. Unset variables restrict
//! nothing. Neither variable is passed on to the program s6-sudod runs.

use std::fmt;

use regex::bytes::Regex;
use s6rs_sys::ere;

/// The regex every client argument must match in full.
pub const ARGS_ERE: &str = "S6RS_SUDO_ARGS_ERE";
/// The most client arguments accepted.
pub const ARGS_MAX: &str = "S6RS_SUDO_ARGS_MAX";

/// The policy's settings, as read from the environment.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The pattern as given, and its anchored compilation.
    ere: Option<(Vec<u8>, Regex)>,
    max: Option<usize>,
}

/// A policy variable that cannot be used: every request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `S6RS_SUDO_ARGS_ERE` does not compile (the compiler's reason).
    Ere(String),
    /// `S6RS_SUDO_ARGS_MAX` is not a decimal number (the value, lossily).
    Max(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Ere(why) => write!(f, "invalid {ARGS_ERE}: {why}"),
            ConfigError::Max(v) => write!(f, "invalid {ARGS_MAX}: not a number: {v:?}"),
        }
    }
}

/// Why a request breaks the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// More client arguments than allowed: (given, allowed).
    TooMany(usize, usize),
    /// This client argument (its index) does not match the regex in full.
    Arg(usize),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TooMany(n, max) => write!(f, "{n} client arguments, {ARGS_MAX} allows {max}"),
            Refusal::Arg(i) => write!(f, "client argument {} does not match {ARGS_ERE}", i + 1),
        }
    }
}

impl Policy {
    /// The policy from the two variables' values (`None`: unset).
    pub fn from_values(ere_value: Option<&[u8]>, max_value: Option<&[u8]>) -> Result<Policy, ConfigError> {
        let ere = match ere_value {
            None => None,
            Some(p) => {
                // The pattern must stand on its own before it is wrapped, or a pattern
                // such as `a)|(b` would turn the anchors into alternatives.
                let flags = ere::Flags { newline: false };
                ere::compile(p, flags).map_err(|e| ConfigError::Ere(e.0))?;
                let anchored = [&b"^("[..], p, b")$"].concat();
                Some((p.to_vec(), ere::compile(&anchored, flags).map_err(|e| ConfigError::Ere(e.0))?))
            }
        };
        let max = match max_value {
            None => None,
            Some(v) => Some(
                std::str::from_utf8(v)
                    .ok()
                    .and_then(s6rs_sys::cli::parse_uint::<usize>)
                    .ok_or_else(|| ConfigError::Max(String::from_utf8_lossy(v).into_owned()))?,
            ),
        };
        Ok(Policy { ere, max })
    }

    /// The policy from this process's environment.
    pub fn from_env() -> Result<Policy, ConfigError> {
        use std::os::unix::ffi::OsStrExt;
        let ere = std::env::var_os(ARGS_ERE);
        let max = std::env::var_os(ARGS_MAX);
        Policy::from_values(ere.as_deref().map(|v| v.as_bytes()), max.as_deref().map(|v| v.as_bytes()))
    }

    /// Whether the policy restricts anything.
    pub fn is_open(&self) -> bool {
        self.ere.is_none() && self.max.is_none()
    }

    /// Checks the client's arguments: the count first, then each argument in order.
    pub fn check(&self, args: &[&[u8]]) -> Result<(), Refusal> {
        if let Some(max) = self.max {
            if args.len() > max {
                return Err(Refusal::TooMany(args.len(), max));
            }
        }
        if let Some((_, re)) = &self.ere {
            if let Some(i) = args.iter().position(|a| !re.is_match(a)) {
                return Err(Refusal::Arg(i));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ere: Option<&str>, max: Option<&str>) -> Result<Policy, ConfigError> {
        Policy::from_values(ere.map(str::as_bytes), max.map(str::as_bytes))
    }

    #[test]
    fn unset_restricts_nothing() {
        let pol = p(None, None).unwrap();
        assert!(pol.is_open());
        assert_eq!(pol.check(&[b"-x", b"anything at all", b""]), Ok(()));
    }

    #[test]
    fn every_argument_must_match_in_full() {
        let pol = p(Some("/run/service/[a-z]+"), None).unwrap();
        assert_eq!(pol.check(&[b"/run/service/ticker"]), Ok(()));
        assert_eq!(pol.check(&[b"/run/service/ticker", b"-x"]), Err(Refusal::Arg(1)));
        // A match inside the argument is not enough, at either end.
        assert_eq!(pol.check(&[b"x/run/service/ticker"]), Err(Refusal::Arg(0)));
        assert_eq!(pol.check(&[b"/run/service/ticker/../x"]), Err(Refusal::Arg(0)));
        assert_eq!(pol.check(&[b"/run/service/ticker\n"]), Err(Refusal::Arg(0)));
        assert_eq!(pol.check(&[]), Ok(()));
    }

    #[test]
    fn alternatives_are_anchored_as_a_whole() {
        // Leftmost-first engines would stop at "a"; the anchored form must take "ab".
        let pol = p(Some("a|ab"), None).unwrap();
        assert_eq!(pol.check(&[b"ab", b"a"]), Ok(()));
        assert_eq!(pol.check(&[b"abc"]), Err(Refusal::Arg(0)));
        let pol = p(Some("-r|-u"), None).unwrap();
        assert_eq!(pol.check(&[b"x-r"]), Err(Refusal::Arg(0)));
        assert_eq!(pol.check(&[b"-rx"]), Err(Refusal::Arg(0)));
    }

    #[test]
    fn patterns_that_do_not_stand_alone_are_refused() {
        assert!(matches!(p(Some("a)|(b"), None), Err(ConfigError::Ere(_))));
        assert!(matches!(p(Some("(a"), None), Err(ConfigError::Ere(_))));
        assert!(matches!(p(Some("a\\1"), None), Err(ConfigError::Ere(_))));
    }

    #[test]
    fn empty_regex_accepts_only_empty_arguments() {
        let pol = p(Some(""), None).unwrap();
        assert_eq!(pol.check(&[b""]), Ok(()));
        assert_eq!(pol.check(&[b"x"]), Err(Refusal::Arg(0)));
    }

    #[test]
    fn max_counts_client_arguments() {
        let pol = p(None, Some("1")).unwrap();
        assert_eq!(pol.check(&[b"a"]), Ok(()));
        assert_eq!(pol.check(&[b"a", b"b"]), Err(Refusal::TooMany(2, 1)));
        let pol = p(Some("a"), Some("0")).unwrap();
        assert_eq!(pol.check(&[]), Ok(()));
        assert_eq!(pol.check(&[b"a"]), Err(Refusal::TooMany(1, 0)));
        for bad in ["", "x", "-1", " 1", "1 ", "0x10", "99999999999999999999999"] {
            assert_eq!(p(None, Some(bad)).unwrap_err(), ConfigError::Max(bad.into()), "{bad:?}");
        }
    }

    #[test]
    fn messages_name_the_variable() {
        assert_eq!(Refusal::TooMany(2, 1).to_string(), "2 client arguments, S6RS_SUDO_ARGS_MAX allows 1");
        assert_eq!(Refusal::Arg(0).to_string(), "client argument 1 does not match S6RS_SUDO_ARGS_ERE");
        assert!(p(Some("("), None).unwrap_err().to_string().starts_with("invalid S6RS_SUDO_ARGS_ERE: "));
    }
}
