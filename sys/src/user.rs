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

#[cfg(test)]
mod tests {
    use super::*;

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
