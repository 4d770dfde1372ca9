//! The account databases: `/etc/passwd` and `/etc/group`, read directly.
//!
//! s6-rs binaries are linked statically (see `.cargo/config.toml`), and a static glibc
//! cannot safely load NSS modules: `getgrnam` in a static binary dlopens the host's
//! `libnss_systemd.so` and crashes. So, like a musl-built s6, we read the "files" databases
//! ourselves. Accounts that exist only in another NSS source (LDAP, systemd dynamic users)
//! are not seen.
//!
//! Each lookup distinguishes "no such entry" (`Ok(None)`) from a failure to read the
//! database (`Err`), because s6 programs report them differently.

use std::io;
use std::path::Path;

const PASSWD: &str = "/etc/passwd";
const GROUP: &str = "/etc/group";

/// One `/etc/passwd` entry (the fields s6 uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: String,
}

/// One `/etc/group` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Group id.
    pub gid: u32,
    /// Supplementary members (login names).
    pub members: Vec<String>,
}

fn parse_user(line: &str) -> Option<User> {
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 7 || f[0].is_empty() {
        return None;
    }
    Some(User { name: f[0].into(), uid: f[2].parse().ok()?, gid: f[3].parse().ok()?, home: f[5].into() })
}

fn parse_group(line: &str) -> Option<Group> {
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 4 || f[0].is_empty() {
        return None;
    }
    let members = f[3].split(',').filter(|m| !m.is_empty()).map(String::from).collect();
    Some(Group { name: f[0].into(), gid: f[2].parse().ok()?, members })
}

/// The first entry of `path` (parsed by `parse`) satisfying `want`.
fn find<T>(path: &Path, parse: fn(&str) -> Option<T>, want: impl Fn(&T) -> bool) -> io::Result<Option<T>> {
    let data = std::fs::read(path)?;
    let text = String::from_utf8_lossy(&data);
    Ok(text.lines().filter(|l| !l.starts_with('#')).filter_map(parse).find(|e| want(e)))
}

/// The user named `name`.
pub fn user_by_name(name: &str) -> io::Result<Option<User>> {
    find(Path::new(PASSWD), parse_user, |u| u.name == name)
}

/// The user with id `uid`.
pub fn user_by_uid(uid: u32) -> io::Result<Option<User>> {
    find(Path::new(PASSWD), parse_user, |u| u.uid == uid)
}

/// The group named `name`.
pub fn group_by_name(name: &str) -> io::Result<Option<Group>> {
    find(Path::new(GROUP), parse_group, |g| g.name == name)
}

/// The group with id `gid`.
pub fn group_by_gid(gid: u32) -> io::Result<Option<Group>> {
    find(Path::new(GROUP), parse_group, |g| g.gid == gid)
}

/// The gids of every group listing `user` as a member (what `getgrouplist` adds to the
/// primary group).
pub fn supplementary_gids(user: &str) -> io::Result<Vec<u32>> {
    let data = std::fs::read(GROUP)?;
    let text = String::from_utf8_lossy(&data);
    Ok(text
        .lines()
        .filter_map(parse_group)
        .filter(|g| g.members.iter().any(|m| m == user))
        .map(|g| g.gid)
        .collect())
}

/// The gid of the group named `name`.
pub fn group_gid(name: &str) -> io::Result<Option<u32>> {
    Ok(group_by_name(name)?.map(|g| g.gid))
}

/// The name of group `gid`.
pub fn group_name(gid: u32) -> io::Result<Option<String>> {
    Ok(group_by_gid(gid)?.map(|g| g.name))
}

/// The primary gid of user `uid`.
pub fn user_gid(uid: u32) -> io::Result<Option<u32>> {
    Ok(user_by_uid(uid)?.map(|u| u.gid))
}

/// skalibs `gid_scanlist`: the longest prefix of `s` that is a list of decimal gids
/// separated by any run of `,:; \t\r\n`. Returns the gids and how many bytes were read;
/// 0 bytes means `s` does not start with a number (an empty `s` is an empty list).
/// Trailing garbage after a number is left unread, as upstream leaves it.
pub fn scan_gidlist(s: &str) -> (Vec<u32>, usize) {
    let b = s.as_bytes();
    let mut gids = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let digits = b[pos..].iter().take_while(|c| c.is_ascii_digit()).count();
        let Some(gid) = s[pos..pos + digits].parse::<u32>().ok().filter(|_| digits > 0) else { break };
        gids.push(gid);
        pos += digits;
        pos += b[pos..].iter().take_while(|c| b",:; \t\r\n".contains(c)).count();
    }
    (gids, pos)
}

/// A gid list as upstream writes it in `GIDLIST` and on command lines: comma-separated.
pub fn fmt_gidlist(gids: &[u32]) -> String {
    let mut out = String::new();
    for (i, g) in gids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&g.to_string());
    }
    out
}

/// Which step of [`drop_to`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdStep {
    /// `setgroups`.
    Groups,
    /// `setgid`.
    Gid,
    /// `setuid`.
    Uid,
}

impl IdStep {
    /// The object of upstream's "unable to ..." message for this step.
    pub fn what(self) -> &'static str {
        match self {
            IdStep::Groups => "set supplementary group list",
            IdStep::Gid => "setgid",
            IdStep::Uid => "setuid",
        }
    }
}

/// Changes this process's credentials as s6-applyuidgid does: the supplementary groups (if
/// `groups` is given: the gid first, then the list without its first copy of the gid,
/// skalibs `setgroups_and_gid`), then the gid, then the uid. A uid or gid of 0 means
/// "leave it as it is", an upstream quirk every program that drops privileges shares.
pub fn drop_to(uid: u32, gid: u32, groups: Option<&[u32]>) -> Result<(), (IdStep, io::Error)> {
    if let Some(list) = groups {
        // SAFETY: getegid cannot fail.
        let g = if gid != 0 { gid } else { unsafe { libc::getegid() } };
        let mut all = Vec::with_capacity(list.len() + 1);
        all.push(g);
        match list.iter().position(|&x| x == g) {
            Some(0) => all = list.to_vec(),
            Some(i) => all.extend(list.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, &x)| x)),
            None => all.extend_from_slice(list),
        }
        syscall!(setgroups(all.len(), all.as_ptr())).map_err(|e| (IdStep::Groups, e))?;
    }
    if gid != 0 {
        syscall!(setgid(gid)).map_err(|e| (IdStep::Gid, e))?;
    }
    if uid != 0 {
        syscall!(setuid(uid)).map_err(|e| (IdStep::Uid, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gidlist_scanning_is_skalibs_lenient() {
        assert_eq!(scan_gidlist(""), (vec![], 0));
        assert_eq!(scan_gidlist("1,2,3"), (vec![1, 2, 3], 5));
        assert_eq!(scan_gidlist("1, 2;3:"), (vec![1, 2, 3], 7));
        assert_eq!(scan_gidlist("12x,4"), (vec![12], 2));
        assert_eq!(scan_gidlist("x"), (vec![], 0));
        assert_eq!(fmt_gidlist(&[]), "");
        assert_eq!(fmt_gidlist(&[5, 0, 65534]), "5,0,65534");
    }

    #[test]
    fn root_entries() {
        assert_eq!(group_gid("root").unwrap(), Some(0));
        assert_eq!(group_name(0).unwrap().as_deref(), Some("root"));
        assert_eq!(user_gid(0).unwrap(), Some(0));
        assert_eq!(user_by_name("root").unwrap().map(|u| u.uid), Some(0));
        assert_eq!(group_gid("no-such-group-s6rs").unwrap(), None);
        assert_eq!(group_name(3_999_999_999).unwrap(), None);
    }

    #[test]
    fn line_parsing() {
        let u = parse_user("daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin").unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (1, 1, "/usr/sbin"));
        assert!(parse_user("bad:x:notanumber:1:::").is_none());
        assert!(parse_user("short:x:1").is_none());
        let g = parse_group("audio:x:29:pulse,alice").unwrap();
        assert_eq!((g.gid, g.members.len()), (29, 2));
        assert_eq!(parse_group("empty:x:5:").unwrap().members.len(), 0);
    }
}
