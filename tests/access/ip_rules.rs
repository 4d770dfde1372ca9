//! The same library serves TCP servers: ip4/ip6 prefix rules and reversedns rules, from a
//! directory and from a cdb compiled by real s6 (whose compiler does not interpret keys, so
//! the key strings we generate must match the directory names exactly).

use std::net::IpAddr;

use s6rs_access::cdb::CdbRules;
use s6rs_access::fs::FsRules;
use s6rs_access::rules::{check_ip, check_reversedns, Backend, Lookup};

use super::*;
use crate::support::*;

fn verdict(b: &dyn Backend, addr: &str) -> &'static str {
    match check_ip(b, addr.parse::<IpAddr>().unwrap()).unwrap() {
        Lookup::Allow(g) if g.exec.is_empty() => "allow",
        Lookup::Allow(_) => "allow+exec",
        Lookup::Deny => "deny",
        Lookup::NotFound => "none",
    }
}

#[test]
fn prefixes_and_names_from_both_databases() {
    let t = TempDir::new("ip-rules");
    let dir = t.join("rules");
    rules(
        &dir,
        &[
            ("ip4/10.0.0.0_8/allow", b""),
            ("ip4/10.1.0.0_16/deny", b""),
            ("ip4/10.1.2.3_32/allow", b""),
            ("ip4/10.1.2.3_32/exec", b"echo x\n"),
            ("ip4/192.168.1.0_28/deny", b""),
            ("ip6/2a00:1450::_32/allow", b""),
            ("ip6/2a00:1450:4002:803::1000_116/deny", b""),
            ("ip6/::1_128/allow", b""),
            ("ip6/::ffff:a01:0_112/deny", b""),
            ("reversedns/example.com/allow", b""),
            ("reversedns/bad.example.com/deny", b""),
            ("reversedns/@/deny", b""),
        ],
    );
    let file = t.join("rules.cdb");
    compile(&real("s6-accessrules-cdb-from-fs"), &file, &dir);
    let fs = FsRules::new(&dir);
    let cdb = CdbRules::open(&file).unwrap();
    cdb.verify().unwrap();
    for b in [&fs as &dyn Backend, &cdb] {
        assert_eq!(verdict(b, "10.9.9.9"), "allow");
        assert_eq!(verdict(b, "10.1.9.9"), "deny");
        assert_eq!(verdict(b, "10.1.2.3"), "allow+exec");
        assert_eq!(verdict(b, "192.168.1.15"), "deny");
        assert_eq!(verdict(b, "192.168.1.16"), "none");
        assert_eq!(verdict(b, "11.0.0.1"), "none");
        assert_eq!(verdict(b, "2a00:1450:4002:803::1006"), "deny");
        assert_eq!(verdict(b, "2a00:1450:4002:803::2006"), "allow");
        assert_eq!(verdict(b, "2a00:1451::1"), "none");
        assert_eq!(verdict(b, "::1"), "allow");
        // IPv4-mapped addresses are written in hex groups, as skalibs writes them.
        assert_eq!(verdict(b, "::ffff:10.1.2.3"), "deny");
        let name = |n: &[u8]| check_reversedns(b, n).unwrap();
        assert!(matches!(name(b"www.example.com."), Lookup::Allow(_)));
        assert_eq!(name(b"x.bad.example.com"), Lookup::Deny);
        assert_eq!(name(b"example.org"), Lookup::Deny);
    }
}
