//! IPv6 addresses in text, as skalibs writes them (`ip6_fmt`): the form access-rule keys
//! and socklog's client prefixes use, which differs from Rust's `Display` for mapped
//! addresses.

use std::net::Ipv6Addr;

/// An IPv6 address as skalibs `ip6_fmt` writes it: lowercase hex groups without leading
/// zeros, the longest run of two or more zero groups (the first, on a tie) written `::`, and
/// never the dotted IPv4 tail that Rust's `Display` uses for mapped addresses.
pub fn fmt(addr: Ipv6Addr) -> String {
    let g = addr.segments();
    // (start, length) of the longest zero run, first on ties.
    let mut best = (8, 0);
    let mut i = 0;
    while i < 8 {
        if g[i] == 0 {
            let start = i;
            while i < 8 && g[i] == 0 {
                i += 1;
            }
            if i - start > best.1 {
                best = (start, i - start);
            }
        } else {
            i += 1;
        }
    }
    if best.1 < 2 {
        best = (8, 0);
    }
    let mut s = String::with_capacity(39);
    let mut i = 0;
    while i < 8 {
        if i == best.0 {
            if i == 0 {
                s.push(':');
            }
            s.push(':');
            i += best.1;
            continue;
        }
        s.push_str(&format!("{:x}", g[i]));
        if i < 7 {
            s.push(':');
        }
        i += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip6_fmt_is_skalibs() {
        let f = |s: &str| fmt(s.parse().unwrap());
        assert_eq!(f("::"), "::");
        assert_eq!(f("::1"), "::1");
        assert_eq!(f("1::"), "1::");
        assert_eq!(f("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(f("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(f("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(f("::ffff:1.2.3.4"), "::ffff:102:304");
        assert_eq!(f("fe80::00ab:0:0:1"), "fe80::ab:0:0:1");
    }
    #[test]
    fn ip6_format_like_skalibs() {
        let f = |s: &str| fmt(s.parse().unwrap());
        assert_eq!(f("::1"), "::1");
        assert_eq!(f("::"), "::");
        assert_eq!(f("fe80::1:0:0:2"), "fe80::1:0:0:2");
        assert_eq!(f("1:0:2::"), "1:0:2::");
        assert_eq!(f("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(f("::ffff:127.0.0.1"), "::ffff:7f00:1");
    }
}
