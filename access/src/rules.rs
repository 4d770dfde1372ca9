//! Access rules (libs6 `accessrules`): what a lookup answers, the keys each kind of client
//! identity is checked under and in which order, and the environment-change encoding that
//! rules carry. Upstream pages: `libs6/accessrules.html`, `s6-accessrules-cdb-from-fs.html`.
//!
//! A rules database maps keys such as `uid/0`, `gid/100`, `uid/default`,
//! `ip4/192.168.0.0_24`, `ip6/2a00::_16` or `reversedns/example.com` to a rule. A front end
//! ([`check_uidgid`], [`check_ip`], [`check_reversedns`]) tries the keys for one identity from
//! the most to the least specific and stops at the first key that has a rule (allow or
//! deny). The databases are [`crate::fs::FsRules`] (a directory) and
//! [`crate::cdb::CdbRules`] (a cdb file compiled from such a directory).

use std::ffi::OsString;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use ipnet::{Ipv4Net, Ipv6Net};
use s6rs_sys::exec::EnvMod;

/// The most bytes of environment changes a rule may carry (s6's readers refuse more).
pub const MAX_ENV: usize = 4096;
/// The most bytes of `exec` a rule may carry.
pub const MAX_EXEC: usize = 4096;

/// What an allowing rule grants besides access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    /// Environment changes, in the rule's order (an `env/` directory read as an envdir).
    pub env: Vec<EnvMod>,
    /// The raw `exec` contents: a command line that replaces the served program. Empty when
    /// the rule has none.
    pub exec: Vec<u8>,
}

/// The answer of a database for one key, or of a front end for one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A rule allows the client.
    Allow(Grant),
    /// A rule denies the client.
    Deny,
    /// No rule for this key (a front end: for any of the identity's keys).
    NotFound,
}

/// A rules database: answers for one key. An `Err` means the database could not be read
/// (unreadable, corrupt); callers must then refuse the client.
pub trait Backend {
    /// The rule stored under `key` (e.g. `uid/0`).
    fn lookup(&self, key: &[u8]) -> io::Result<Lookup>;
}

/// Tries `keys` in order and returns the first rule found.
pub fn first_match<K: AsRef<[u8]>>(
    backend: &dyn Backend,
    keys: impl IntoIterator<Item = K>,
) -> io::Result<Lookup> {
    for key in keys {
        match backend.lookup(key.as_ref())? {
            Lookup::NotFound => continue,
            found => return Ok(found),
        }
    }
    Ok(Lookup::NotFound)
}

/// The keys a Unix client with effective ids `uid`:`gid` is checked under, in order, by a
/// checker running with effective ids `self_uid`:`self_gid`: `uid/self` (same uid as the
/// checker), `uid/UID`, `gid/self` (same gid), `gid/GID`, `uid/default`.
pub fn uidgid_keys(uid: u32, gid: u32, self_uid: u32, self_gid: u32) -> Vec<String> {
    let mut keys = Vec::with_capacity(5);
    if uid == self_uid {
        keys.push("uid/self".to_owned());
    }
    keys.push(format!("uid/{uid}"));
    if gid == self_gid {
        keys.push("gid/self".to_owned());
    }
    keys.push(format!("gid/{gid}"));
    keys.push("uid/default".to_owned());
    keys
}

/// Checks a Unix client by its effective ids (libs6 `s6_accessrules_keycheck_uidgid`), the
/// checker's own ids being this process's effective ids.
pub fn check_uidgid(backend: &dyn Backend, uid: u32, gid: u32) -> io::Result<Lookup> {
    let (me_u, me_g) = (s6rs_sys::proc::euid(), s6rs_sys::proc::egid());
    first_match(backend, uidgid_keys(uid, gid, me_u, me_g))
}

/// The keys an IPv4 client is checked under: `ip4/NET_P` for every prefix length P from 32
/// down to 0, NET being the address with its host bits cleared.
pub fn ip4_keys(addr: Ipv4Addr) -> impl Iterator<Item = String> {
    (0..=32u8).rev().map(move |p| {
        let net = Ipv4Net::new(addr, p).map(|n| n.network()).unwrap_or(Ipv4Addr::UNSPECIFIED);
        format!("ip4/{net}_{p}")
    })
}

/// The keys an IPv6 client is checked under: `ip6/NET_P` for P from 128 down to 0, NET
/// written as [`s6rs_sys::ip6::fmt`] writes it. (s6 2.11 cleared the wrong bits for prefixes that are not
/// multiples of 8; this is the fixed, 2.15 behaviour.)
pub fn ip6_keys(addr: Ipv6Addr) -> impl Iterator<Item = String> {
    (0..=128u8).rev().map(move |p| {
        let net = Ipv6Net::new(addr, p).map(|n| n.network()).unwrap_or(Ipv6Addr::UNSPECIFIED);
        format!("ip6/{}_{p}", s6rs_sys::ip6::fmt(net))
    })
}

/// Checks an IP client by address (libs6 `s6_accessrules_keycheck_ip46`).
pub fn check_ip(backend: &dyn Backend, addr: IpAddr) -> io::Result<Lookup> {
    match addr {
        IpAddr::V4(a) => first_match(backend, ip4_keys(a)),
        IpAddr::V6(a) => first_match(backend, ip6_keys(a)),
    }
}

/// The keys a host name is checked under: `reversedns/NAME` (without a final dot), then the
/// name with its leading labels removed one by one, then `reversedns/@`. An empty name is
/// invalid (EINVAL).
pub fn reversedns_keys(name: &[u8]) -> io::Result<Vec<Vec<u8>>> {
    let name = match name {
        [] => return Err(io::Error::from_raw_os_error(libc::EINVAL)),
        [rest @ .., b'.'] => rest,
        n => n,
    };
    let mut keys = Vec::new();
    let mut i = 0;
    while i < name.len() {
        let mut k = b"reversedns/".to_vec();
        k.extend_from_slice(&name[i..]);
        keys.push(k);
        i += name[i..].iter().position(|&b| b == b'.').unwrap_or(name.len() - i) + 1;
    }
    keys.push(b"reversedns/@".to_vec());
    Ok(keys)
}

/// Checks a client by its host name (libs6 `s6_accessrules_keycheck_reversedns`).
pub fn check_reversedns(backend: &dyn Backend, name: &[u8]) -> io::Result<Lookup> {
    first_match(backend, reversedns_keys(name)?)
}

/// Encodes environment changes as s6 stores them (FORMATS.md §0.6): `NAME=value\0` to set,
/// `NAME\0` to unset.
pub fn encode_env(mods: &[EnvMod]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, val) in mods {
        out.extend_from_slice(name.as_bytes());
        if let Some(v) = val {
            out.push(b'=');
            out.extend_from_slice(v.as_bytes());
        }
        out.push(0);
    }
    out
}

/// Decodes the §0.6 encoding. Bytes after the last NUL (an unterminated item) are invalid
/// (EINVAL): s6's writers never produce them, so only a damaged database can.
pub fn decode_env(bytes: &[u8]) -> io::Result<Vec<EnvMod>> {
    if bytes.last().is_some_and(|&b| b != 0) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut mods = Vec::new();
    for item in bytes.split(|&b| b == 0) {
        if item.is_empty() {
            // Only the empty piece after the final NUL (or an empty item, which names nothing).
            continue;
        }
        let m = match item.iter().position(|&b| b == b'=') {
            Some(eq) => {
                (OsString::from_vec(item[..eq].to_vec()), Some(OsString::from_vec(item[eq + 1..].to_vec())))
            }
            None => (OsString::from_vec(item.to_vec()), None),
        };
        mods.push(m);
    }
    Ok(mods)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<Vec<u8>, Lookup>);

    impl Backend for Map {
        fn lookup(&self, key: &[u8]) -> io::Result<Lookup> {
            if key == b"uid/666" {
                return Err(io::Error::from_raw_os_error(libc::EIO));
            }
            Ok(self.0.get(key).cloned().unwrap_or(Lookup::NotFound))
        }
    }

    fn map(rules: &[(&str, Lookup)]) -> Map {
        Map(rules.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.clone())).collect())
    }

    fn allow() -> Lookup {
        Lookup::Allow(Grant::default())
    }

    #[test]
    fn uidgid_order() {
        assert_eq!(uidgid_keys(5, 7, 5, 7), ["uid/self", "uid/5", "gid/self", "gid/7", "uid/default"]);
        assert_eq!(uidgid_keys(5, 7, 0, 0), ["uid/5", "gid/7", "uid/default"]);
        let m = map(&[("uid/5", Lookup::Deny), ("gid/7", allow()), ("uid/default", allow())]);
        assert_eq!(first_match(&m, uidgid_keys(5, 7, 0, 0)).unwrap(), Lookup::Deny);
        assert_eq!(first_match(&m, uidgid_keys(6, 7, 0, 0)).unwrap(), allow());
        assert_eq!(first_match(&map(&[]), uidgid_keys(6, 7, 0, 0)).unwrap(), Lookup::NotFound);
        assert!(first_match(&m, uidgid_keys(666, 7, 0, 0)).is_err());
    }

    #[test]
    fn ip4_keys_follow_the_documented_list() {
        let keys: Vec<String> = ip4_keys(Ipv4Addr::new(192, 168, 1, 7)).collect();
        assert_eq!(keys.len(), 33);
        assert_eq!(
            &keys[..6],
            [
                "ip4/192.168.1.7_32",
                "ip4/192.168.1.6_31",
                "ip4/192.168.1.4_30",
                "ip4/192.168.1.0_29",
                "ip4/192.168.1.0_28",
                "ip4/192.168.1.0_27"
            ]
        );
        // (The upstream page prints 192.168.0.0 from /28 on: a slip, 1.7/28 is 1.0.)
        assert_eq!(keys[9], "ip4/192.168.0.0_23");
        assert_eq!(&keys[29..], ["ip4/192.0.0.0_3", "ip4/192.0.0.0_2", "ip4/128.0.0.0_1", "ip4/0.0.0.0_0"]);
    }

    #[test]
    fn ip6_keys_follow_the_documented_list() {
        let a: Ipv6Addr = "2a00:1450:4002:803::1006".parse().unwrap();
        let keys: Vec<String> = ip6_keys(a).collect();
        assert_eq!(keys.len(), 129);
        assert_eq!(
            &keys[..4],
            [
                "ip6/2a00:1450:4002:803::1006_128",
                "ip6/2a00:1450:4002:803::1006_127",
                "ip6/2a00:1450:4002:803::1004_126",
                "ip6/2a00:1450:4002:803::1000_125"
            ]
        );
        // The upstream page's list shows 2.11's wrong masking off byte boundaries (it keeps
        // 1000 down to /113 and prints 2800 at /10); these are the correctly masked keys
        // that 2.15 looks up.
        assert_eq!(keys[12], "ip6/2a00:1450:4002:803::1000_116");
        assert_eq!(keys[13], "ip6/2a00:1450:4002:803::_115");
        assert_eq!(keys[16], "ip6/2a00:1450:4002:803::_112");
        assert_eq!(
            &keys[117..],
            [
                "ip6/2a00::_11",
                "ip6/2a00::_10",
                "ip6/2a00::_9",
                "ip6/2a00::_8",
                "ip6/2a00::_7",
                "ip6/2800::_6",
                "ip6/2800::_5",
                "ip6/2000::_4",
                "ip6/2000::_3",
                "ip6/::_2",
                "ip6/::_1",
                "ip6/::_0"
            ]
        );
    }

    #[test]
    fn reversedns_order() {
        let k = reversedns_keys(b"foo.bar.com.").unwrap();
        let k: Vec<&[u8]> = k.iter().map(|v| &v[..]).collect();
        assert_eq!(
            k,
            [&b"reversedns/foo.bar.com"[..], b"reversedns/bar.com", b"reversedns/com", b"reversedns/@"]
        );
        assert_eq!(reversedns_keys(b"").unwrap_err().raw_os_error(), Some(libc::EINVAL));
        assert_eq!(reversedns_keys(b".").unwrap(), [b"reversedns/@".to_vec()]);
        let m = map(&[("reversedns/bar.com", Lookup::Deny), ("reversedns/@", allow())]);
        assert_eq!(check_reversedns(&m, b"x.bar.com").unwrap(), Lookup::Deny);
        assert_eq!(check_reversedns(&m, b"x.baz.com").unwrap(), allow());
        let m = map(&[("ip4/10.0.0.0_8", Lookup::Deny), ("ip6/::_0", allow())]);
        assert_eq!(check_ip(&m, "10.1.2.3".parse().unwrap()).unwrap(), Lookup::Deny);
        assert_eq!(check_ip(&m, "11.1.2.3".parse().unwrap()).unwrap(), Lookup::NotFound);
        assert_eq!(check_ip(&m, "::1".parse().unwrap()).unwrap(), allow());
    }

    #[test]
    fn env_encoding_round_trips() {
        let mods: Vec<EnvMod> = vec![
            ("FOO".into(), Some("value1".into())),
            ("EMPTY".into(), None),
            ("NUL".into(), Some("a\nb".into())),
            ("E".into(), Some("".into())),
        ];
        let bytes = encode_env(&mods);
        assert_eq!(bytes, b"FOO=value1\0EMPTY\0NUL=a\nb\0E=\0");
        assert_eq!(decode_env(&bytes).unwrap(), mods);
        assert_eq!(decode_env(b"").unwrap(), vec![]);
        assert_eq!(decode_env(b"A=1\0B").unwrap_err().raw_os_error(), Some(libc::EINVAL));
    }
}
