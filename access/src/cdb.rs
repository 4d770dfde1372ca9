//! The cdb rules database (libs6 `s6_accessrules_backend_cdb`) and the encoding of a rule
//! as a cdb value (FORMATS.md §7.2).
//!
//! The key is the rule's path under the rules directory (`uid/0`, `ip4/10.0.0.0_8`...).
//! The value is `D` for a deny rule, or for an allow rule `A`, `u16 BE envlen`, the
//! environment changes (§0.6 encoding), `u16 BE execlen`, the `exec` bytes. A reader takes
//! values of 1 to 8197 bytes; a first byte other than `A` or `D` counts as "no rule"; an `A`
//! value whose lengths do not add up, or that says more than 4096 bytes of either part, is an
//! error (EINVAL), and so is a damaged file.

use std::io;
use std::path::Path;

use crate::cdbfile::Cdb;
use crate::rules::{decode_env, encode_env, Backend, Grant, Lookup, MAX_ENV, MAX_EXEC};

/// The longest value a reader accepts: `A`, two lengths, 4096 + 4096 bytes.
pub const MAX_VALUE: usize = 5 + MAX_ENV + MAX_EXEC;

fn invalid() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

/// The value stored for a deny rule.
pub const DENY: &[u8] = b"D";

/// The value stored for an allow rule with the given environment (already encoded) and
/// `exec` bytes. Each part must fit in 16 bits.
pub fn encode_allow(env: &[u8], exec: &[u8]) -> io::Result<Vec<u8>> {
    let envlen = u16::try_from(env.len()).map_err(|_| invalid())?;
    let execlen = u16::try_from(exec.len()).map_err(|_| invalid())?;
    let mut v = Vec::with_capacity(5 + env.len() + exec.len());
    v.push(b'A');
    v.extend_from_slice(&envlen.to_be_bytes());
    v.extend_from_slice(env);
    v.extend_from_slice(&execlen.to_be_bytes());
    v.extend_from_slice(exec);
    Ok(v)
}

/// The value stored for `rule` (`None` for [`Lookup::NotFound`], which is not stored).
pub fn encode(rule: &Lookup) -> io::Result<Option<Vec<u8>>> {
    match rule {
        Lookup::Allow(g) => encode_allow(&encode_env(&g.env), &g.exec).map(Some),
        Lookup::Deny => Ok(Some(DENY.to_vec())),
        Lookup::NotFound => Ok(None),
    }
}

/// The two parts of an allow value: (encoded environment, exec), checked as s6 checks them.
pub fn split_allow(data: &[u8]) -> io::Result<(&[u8], &[u8])> {
    if data.len() < 5 {
        return Err(invalid());
    }
    let envlen = usize::from(u16::from_be_bytes([data[1], data[2]]));
    if envlen > MAX_ENV || data.len() - 5 < envlen {
        return Err(invalid());
    }
    let execlen = usize::from(u16::from_be_bytes([data[3 + envlen], data[4 + envlen]]));
    if execlen > MAX_EXEC || 5 + envlen + execlen != data.len() {
        return Err(invalid());
    }
    Ok((&data[3..3 + envlen], &data[5 + envlen..]))
}

/// What a stored value means.
pub fn decode(data: &[u8]) -> io::Result<Lookup> {
    if data.is_empty() || data.len() > MAX_VALUE {
        return Err(invalid());
    }
    match data[0] {
        b'D' => Ok(Lookup::Deny),
        b'A' => {
            let (env, exec) = split_allow(data)?;
            Ok(Lookup::Allow(Grant { env: decode_env(env)?, exec: exec.to_vec() }))
        }
        _ => Ok(Lookup::NotFound),
    }
}

/// A compiled rules file.
#[derive(Debug)]
pub struct CdbRules {
    cdb: Cdb,
}

impl CdbRules {
    /// Maps the rules file at `path` ([`Cdb::open`], skalibs `cdb_init`: an empty file, a
    /// FIFO or a device is EINVAL, at once).
    pub fn open(path: &Path) -> io::Result<CdbRules> {
        Ok(CdbRules { cdb: Cdb::open(path)? })
    }

    /// Checks the header against the file's length ([`Cdb::check_layout`], constant time):
    /// a truncated file fails.
    pub fn check_layout(&self) -> io::Result<()> {
        self.cdb.check_layout()
    }

    /// Checks the file's whole structure ([`Cdb::verify`], time proportional to the file).
    pub fn verify(&self) -> io::Result<()> {
        self.cdb.verify()
    }

    /// The database itself.
    pub fn cdb(&self) -> &Cdb {
        &self.cdb
    }

    /// Rules from an already read cdb.
    pub fn from_cdb(cdb: Cdb) -> CdbRules {
        CdbRules { cdb }
    }
}

impl Backend for CdbRules {
    fn lookup(&self, key: &[u8]) -> io::Result<Lookup> {
        match self.cdb.find(key)? {
            None => Ok(Lookup::NotFound),
            Some(data) => decode(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdbfile::Writer;

    #[test]
    fn golden_values() {
        // FORMATS.md §7.2, dumped from a cdb made by s6 2.11.3.2.
        let env = b"FOO=value1\0EMPTY\0NUL=a\nb\0";
        let v = encode_allow(env, b"echo hi\n").unwrap();
        let mut want = vec![b'A', 0, 0x19];
        want.extend_from_slice(env);
        want.extend_from_slice(&[0, 8]);
        want.extend_from_slice(b"echo hi\n");
        assert_eq!(v, want);
        assert_eq!(encode_allow(b"", b"").unwrap(), b"A\0\0\0\0");
        let Lookup::Allow(g) = decode(&v).unwrap() else { panic!() };
        assert_eq!(g.exec, b"echo hi\n");
        assert_eq!(g.env[1], ("EMPTY".into(), None));
        assert_eq!(encode(&Lookup::Allow(g)).unwrap().unwrap(), v);
        assert_eq!(decode(b"D").unwrap(), Lookup::Deny);
        assert_eq!(decode(b"Dxyz").unwrap(), Lookup::Deny);
        assert_eq!(decode(b"Z").unwrap(), Lookup::NotFound);
    }

    #[test]
    fn bad_values_are_errors() {
        for bad in [&b""[..], b"A", b"A\0\0\0", b"A\0\x05ab\0\0", b"A\0\0\0\x01", b"A\0\0\0\0x", b"A\x10\x01"]
        {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
        let mut big = vec![b'D'];
        big.resize(MAX_VALUE + 1, 0);
        assert!(decode(&big).is_err());
        let mut w = vec![b'A', 0x10, 0x01];
        w.resize(w.len() + 4097, b'x');
        w.extend_from_slice(&[0, 0]);
        assert!(decode(&w).is_err());
    }

    #[test]
    fn backend_lookups() {
        let mut w = Writer::new();
        w.add(b"uid/0", &encode_allow(b"A=1\0", b"").unwrap()).unwrap();
        w.add(b"uid/1", DENY).unwrap();
        w.add(b"uid/2", b"A\0").unwrap();
        let r = CdbRules::from_cdb(Cdb::from_bytes(w.finish().unwrap()));
        assert_eq!(
            r.lookup(b"uid/0").unwrap(),
            Lookup::Allow(Grant { env: vec![("A".into(), Some("1".into()))], exec: vec![] })
        );
        assert_eq!(r.lookup(b"uid/1").unwrap(), Lookup::Deny);
        assert!(r.lookup(b"uid/2").is_err());
        assert_eq!(r.lookup(b"uid/3").unwrap(), Lookup::NotFound);
    }
}
