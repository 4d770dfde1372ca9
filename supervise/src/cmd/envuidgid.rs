//! `s6-envuidgid [ -u | -g | -B ] [ -n ] [ -i | -D uid:gid:gidlist ] account prog...`: set
//! `UID`, `GID` and `GIDLIST` from the account databases, then chain-load `prog...`
//! (upstream doc/s6-envuidgid.html). The databases are `/etc/passwd` and `/etc/group`,
//! read directly (`s6rs_sys::user`). An unknown account exits 1 unless `-D` gives values.

use std::ffi::OsString;

use s6rs_sys::cli::{Fatal, Flag, Show, Spec};
use s6rs_sys::exec::chainload;
use s6rs_sys::user;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-envuidgid",
    operands: "account prog...",
    about: "Puts an account's uid, gid and supplementary groups into UID, GID and GIDLIST, then runs prog.",
    doc: "s6-envuidgid.html",
    flags: &[
        Flag::new('i', Show::Own, "an unknown account is an error, exit 1 (the default)"),
        Flag::arg(
            'D',
            "defaultuid:defaultgid:defaultgidlist",
            Show::Or,
            "values to use if the account is unknown",
        ),
        Flag::new('u', Show::Own, "account is a user: set UID only"),
        Flag::new('g', Show::Or, "account is a group: set GID only"),
        Flag::new('B', Show::Or, "account is user:group: set UID and GID"),
        Flag::new('n', Show::Own, "take a name that is not in the databases as a number"),
    ],
};

/// Which variables to set: bit 1 `UID`, bit 2 `GID`, bit 4 `GIDLIST` (upstream's encoding;
/// 7 is "an account", 3 is "user:group").
const UID: u8 = 1;
const GID: u8 = 2;
const GIDLIST: u8 = 4;

/// Runs s6-envuidgid.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let usage = || SPEC.usage_error();
    let mut what = UID | GID | GIDLIST;
    let (mut numeric, mut insist) = (false, true);
    let (mut uid, mut gid, mut gids) = (0u32, 0u32, Vec::new());
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        match opt.c {
            'u' => what = UID,
            'g' => what = GID,
            'B' => what = UID | GID,
            // Numbers never make a group list: -n alone reads `user:group`.
            'n' => {
                what &= UID | GID;
                numeric = true;
            }
            'i' => insist = true,
            'D' => {
                (uid, gid, gids) = defaults(opt.arg_str()).ok_or_else(usage)?;
                insist = false;
            }
            _ => return Err(usage()),
        }
    }
    let [account, prog @ ..] = g.operands() else { return Err(usage()) };
    if prog.is_empty() {
        return Err(usage());
    }
    let account = account
        .to_str()
        .ok_or_else(|| Fatal::new(1, format!("unknown user: {}", account.to_string_lossy())))?;
    let (user_name, group_name) = match what {
        GID => (None, Some(account)),
        b if b == UID | GID => match account.split_once(':') {
            Some((u, g)) => ((!u.is_empty()).then_some(u), (!g.is_empty()).then_some(g)),
            None => (Some(account), None),
        },
        _ => (Some(account), None),
    };
    let db = |e: std::io::Error| Fatal::sys("read the account database", &e);
    if let Some(name) = group_name {
        match user::group_gid(name).map_err(db)? {
            Some(g) => gid = g,
            None => match numeric.then(|| scan_prefix(name)).flatten() {
                Some(n) => gid = n,
                None if insist => return Err(Fatal::new(1, format!("unknown group: {name}"))),
                None => {}
            },
        }
    }
    if let Some(name) = user_name {
        match user::user_by_name(name).map_err(db)? {
            Some(u) => {
                uid = u.uid;
                if what == UID | GID | GIDLIST {
                    gids = user::supplementary_gids(account).map_err(|e| {
                        Fatal::sys(format_args!("get supplementary groups for {account}"), &e)
                    })?;
                    gid = u.gid;
                }
            }
            None => match numeric.then(|| scan_prefix(name)).flatten() {
                Some(n) => uid = n,
                None if insist => return Err(Fatal::new(1, format!("unknown user: {name}"))),
                None => {}
            },
        }
    }
    let mut mods = Vec::with_capacity(3);
    let set = |n: &str, v: String| (OsString::from(n), Some(OsString::from(v)));
    if what & UID != 0 {
        mods.push(set("UID", uid.to_string()));
    }
    if what & GID != 0 {
        mods.push(set("GID", gid.to_string()));
    }
    if what & GIDLIST != 0 {
        mods.push(set("GIDLIST", user::fmt_gidlist(&gids)));
    }
    Err(chainload(prog, &mods))
}

/// skalibs `uint_scan` as a boolean test: the leading decimal digits of `s`, if any.
fn scan_prefix(s: &str) -> Option<u32> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    s[..n].parse().ok()
}

/// `-D uid:gid:gidlist`: each part may be empty (then 0, or an empty list) and the later
/// parts may be left out.
fn defaults(s: &str) -> Option<(u32, u32, Vec<u32>)> {
    let mut parts = s.splitn(3, ':');
    let num = |p: Option<&str>| -> Option<u32> {
        match p {
            None | Some("") => Some(0),
            Some(t) => s6rs_sys::cli::parse_uint(t),
        }
    };
    let uid = num(parts.next())?;
    let gid = num(parts.next())?;
    let gids = match parts.next() {
        None | Some("") => Vec::new(),
        Some(t) => {
            let (list, used) = user::scan_gidlist(t);
            if used == 0 {
                return None;
            }
            list
        }
    };
    Some((uid, gid, gids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_triples() {
        assert_eq!(defaults("1:2:3,4"), Some((1, 2, vec![3, 4])));
        assert_eq!(defaults("1"), Some((1, 0, vec![])));
        assert_eq!(defaults(":5"), Some((0, 5, vec![])));
        assert_eq!(defaults("::7"), Some((0, 0, vec![7])));
        assert_eq!(defaults("1:2:"), Some((1, 2, vec![])));
        assert_eq!(defaults("x"), None);
        assert_eq!(defaults("1:y"), None);
        assert_eq!(defaults("1:2:z"), None);
        assert_eq!(scan_prefix("42abc"), Some(42));
        assert_eq!(scan_prefix("abc"), None);
    }
}
