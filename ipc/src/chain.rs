//! The front of a super-server's exec chain, as s6-ipcserver and s6-fdholder-daemon build
//! it: `s6-ipcserver-socketbinder [ -D ] [ -b backlog ] [ -a perms ] -- path` and, when
//! ids are to be dropped once bound, `s6-applyuidgid [ -Uz ] [ -u uid ] [ -g gid ]
//! [ -G gidlist ] --`, before the daemon that serves the socket. Both programs are our
//! siblings, never looked up in PATH.

use std::ffi::{OsStr, OsString};

use s6rs_sys::cli::{parse_uint, Fatal, Flag, Show};
use s6rs_sys::exec::sibling;
use s6rs_sys::user;

/// The options that shape the front: `-d`, `-D`, `-b backlog`, `-G gidlist`, `-g gid`,
/// `-u uid`, `-U`, for a program's table to take by index.
pub const FLAGS: [Flag; 7] = [
    Flag::new('d', Show::Own, "allow rebinding the path at once, SO_REUSEADDR (the default)"),
    Flag::new('D', Show::Or, "do not set SO_REUSEADDR"),
    Flag::arg('b', "backlog", Show::Own, "queue at most this many pending clients"),
    Flag::arg('G', "gid,gid,...", Show::Own, "once bound, set the supplementary groups to these gids"),
    Flag::arg('g', "gid", Show::Own, "once bound, switch to this group id"),
    Flag::arg('u', "uid", Show::Own, "once bound, switch to this user id"),
    Flag::new('U', Show::Own, "once bound, switch to the ids in UID, GID and GIDLIST"),
];

/// The socket binder's and the id dropper's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Front {
    /// SO_REUSEADDR (`-d`, the default; `-D` clears it).
    pub reuse: bool,
    /// `-b`, passed on as it is here.
    pub backlog: Option<u32>,
    /// The socket's permissions (default 0777; s6-ipcserver's `-a`).
    pub perms: u32,
    /// `-U`: the ids come from UID, GID and GIDLIST.
    env_ids: bool,
    uid: u32,
    gid: u32,
    gids: Option<Vec<u32>>,
}

impl Default for Front {
    fn default() -> Self {
        Front { reuse: true, backlog: None, perms: 0o777, env_ids: false, uid: 0, gid: 0, gids: None }
    }
}

impl Front {
    /// Takes option `c` with `arg` when it is one of [`FLAGS`] (`Ok(true)`); a bad number
    /// or gid list is `usage`. `-U` forgets earlier ids, and later ones still apply.
    pub fn option(&mut self, c: char, arg: &str, usage: impl Fn() -> Fatal) -> Result<bool, Fatal> {
        let num = || parse_uint::<u32>(arg).ok_or_else(&usage);
        match c {
            'd' => self.reuse = true,
            'D' => self.reuse = false,
            'b' => self.backlog = Some(num()?),
            'u' => self.uid = num()?,
            'g' => self.gid = num()?,
            'G' => {
                let (list, used) = user::scan_gidlist(arg);
                if used == 0 && !arg.is_empty() {
                    return Err(usage());
                }
                self.gids = Some(list);
            }
            'U' => {
                self.env_ids = true;
                (self.uid, self.gid, self.gids) = (0, 0, None);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Appends the chain's front for the socket at `path` to `out`.
    pub fn push(&self, out: &mut Vec<OsString>, path: &OsStr) {
        out.push(sibling("s6-ipcserver-socketbinder").into_os_string());
        let mut push = |s: &str| out.push(OsString::from(s));
        if !self.reuse {
            push("-D");
        }
        if let Some(b) = self.backlog {
            push("-b");
            push(&b.to_string());
        }
        if self.perms != 0o777 {
            push("-a");
            push(&format!("0{:o}", self.perms & 0o777));
        }
        push("--");
        out.push(path.to_owned());
        if !(self.env_ids || self.uid != 0 || self.gid != 0 || self.gids.is_some()) {
            return;
        }
        out.push(sibling("s6-applyuidgid").into_os_string());
        let mut push = |s: &str| out.push(OsString::from(s));
        if self.env_ids {
            push("-Uz");
        }
        if self.uid != 0 {
            push("-u");
            push(&self.uid.to_string());
        }
        if self.gid != 0 {
            push("-g");
            push(&self.gid.to_string());
        }
        if let Some(list) = &self.gids {
            push("-G");
            push(&user::fmt_gidlist(list));
        }
        push("--");
    }
}
