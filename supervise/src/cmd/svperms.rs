//! `s6-svperms [ -v ] [ -u | -g group | -G group | -o | -O group ] [ -e | -E group ]
//! servicedir...`: show or change who may read a service's status, control it, and
//! subscribe to its events (upstream doc/s6-svperms.html; modes in FORMATS.md §1.6).
//!
//! Status readers need search permission on `supervise/`; controllers need write permission
//! on `supervise/control`; subscribers need write permission on `event/`. The files inside
//! `supervise/` are never touched.

use std::ffi::OsString;
use std::fs::Permissions;
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

use s6rs_sys::cli::{errtext, parse_uint, warn, warn_sys, Fatal, Flag, Show, Spec};

/// The command line, as upstream's. A group is a name, or `:gid`.
pub const SPEC: Spec = Spec {
    name: "s6-svperms",
    operands: "servicedir...",
    about: "Shows or changes who may read the status of services, control them, and subscribe \
            to their events.",
    doc: "s6-svperms.html",
    flags: &[
        Flag::new('v', Show::Own, "print the permissions (after any change)"),
        Flag::new('u', Show::Own, "only the owner reads the status and controls"),
        Flag::arg('g', "group", Show::Or, "the group reads the status; only the owner controls"),
        Flag::arg('G', "group", Show::Or, "the group reads the status and controls"),
        Flag::new('o', Show::Or, "everyone reads the status; only the owner controls"),
        Flag::arg('O', "group", Show::Or, "everyone reads the status; the group controls"),
        Flag::new('e', Show::Own, "everyone may subscribe to events"),
        Flag::arg('E', "group", Show::Or, "only the group may subscribe to events"),
    ],
};

/// Who may read the status and who may control the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `-u`: the owner only.
    Owner,
    /// `-g G`: group G reads, the owner controls.
    GroupReads(u32),
    /// `-G G`: group G reads and controls.
    GroupControls(u32),
    /// `-o`: everyone reads, the owner controls.
    PublicReads,
    /// `-O G`: everyone reads, group G controls.
    PublicReadsGroupControls(u32),
}

impl Access {
    /// Group and mode of `supervise/`; `None` as the group means the owner's primary group.
    pub fn supervise_mode(self) -> (Option<u32>, u32) {
        match self {
            Access::Owner => (None, 0o700),
            Access::GroupReads(g) | Access::GroupControls(g) => (Some(g), 0o710),
            Access::PublicReads | Access::PublicReadsGroupControls(_) => (None, 0o711),
        }
    }

    /// Group and mode of `supervise/control`; `None` as the group means the owner's primary
    /// group.
    pub fn control_mode(self) -> (Option<u32>, u32) {
        match self {
            Access::GroupControls(g) | Access::PublicReadsGroupControls(g) => (Some(g), 0o620),
            _ => (None, 0o600),
        }
    }
}

/// Group and mode of `event/`: group-restricted with a group, public without one.
pub fn event_mode(group: Option<u32>) -> (Option<u32>, u32) {
    match group {
        Some(g) => (Some(g), 0o3730),
        None => (None, 0o1733),
    }
}

/// A group given as a name, or as `:gid`.
fn scan_gid(arg: &str) -> Result<u32, Fatal> {
    if let Some(num) = arg.strip_prefix(':') {
        return parse_uint(num).ok_or_else(|| SPEC.usage_error());
    }
    match s6rs_sys::user::group_gid(arg) {
        Ok(Some(g)) => Ok(g),
        Ok(None) => Err(Fatal::bad(format!("unable to find entry for {arg} in group database"))),
        Err(e) => Err(Fatal::sys("getgrnam", &e)),
    }
}

/// A group's name, or its number when it has none.
fn gid_name(gid: u32) -> String {
    match s6rs_sys::user::group_name(gid) {
        Ok(Some(name)) => name,
        Ok(None) => gid.to_string(),
        Err(e) => {
            warn_sys(format_args!("getgrgid {gid}"), &e);
            gid.to_string()
        }
    }
}

/// The primary group of the owner of `path`, or root's group (0) with a warning.
fn primary_gid(path: &str) -> Result<u32, Fatal> {
    let md = std::fs::metadata(path).map_err(|e| Fatal::sys(format_args!("stat {path}"), &e))?;
    let err = match s6rs_sys::user::user_gid(md.uid()) {
        Ok(Some(g)) => return Ok(g),
        // getpwuid leaves errno at 0 for a missing entry: upstream prints that as "Success".
        Ok(None) => io::Error::from_raw_os_error(0),
        Err(e) => e,
    };
    warn(format_args!(
        "unable to determine primary gid for the owner of {path} (using root instead): {}",
        errtext(&err)
    ));
    Ok(0)
}

fn apply(path: &str, (group, mode): (Option<u32>, u32)) -> Result<(), Fatal> {
    let gid = match group {
        Some(g) => g,
        None => primary_gid(path)?,
    };
    std::os::unix::fs::chown(path, None, Some(gid))
        .map_err(|e| Fatal::sys(format_args!("chown {path}"), &e))?;
    std::fs::set_permissions(path, Permissions::from_mode(mode))
        .map_err(|e| Fatal::sys(format_args!("chmod {path}"), &e))
}

/// Stats `path` for the report; `None` after a warning.
fn stat(path: &str) -> Option<std::fs::Metadata> {
    std::fs::metadata(path).map_err(|e| warn_sys(format_args!("stat {path}"), &e)).ok()
}

fn incorrect(path: &str, mode: u32) {
    warn(format_args!("{path} has incorrect permissions: {:o}", mode & 0o7777));
}

/// Appends the `status:` and `control:` lines for `dir`; false if something is wrong.
fn report_supervise(dir: &str, out: &mut String) -> bool {
    let path = format!("{dir}/supervise");
    let Some(md) = stat(&path) else { return false };
    if !md.is_dir() {
        warn(format_args!("{path} is not a directory"));
        return false;
    }
    let mode = md.mode();
    if mode & 0o5066 != 0 || mode & 0o700 != 0o700 || (mode & 0o001 != 0 && mode & 0o010 == 0) {
        incorrect(&path, mode);
        return false;
    }
    let who = if mode & 0o001 != 0 {
        "public".to_owned()
    } else if mode & 0o010 != 0 {
        format!("group {}", gid_name(md.gid()))
    } else {
        "owner".to_owned()
    };
    out.push_str(&format!("{dir} status: {who}\n"));
    let path = format!("{dir}/supervise/control");
    let Some(md) = stat(&path) else { return false };
    if !md.file_type().is_fifo() {
        warn(format_args!("{path} is not a named pipe"));
        return false;
    }
    let mode = md.mode();
    if mode & 0o157 != 0 {
        incorrect(&path, mode);
        return false;
    }
    let who = if mode & 0o020 != 0 { format!("group {}", gid_name(md.gid())) } else { "owner".to_owned() };
    out.push_str(&format!("{dir} control: {who}\n"));
    true
}

/// Appends the `events:` line for `dir`; false if something is wrong.
fn report_event(dir: &str, out: &mut String) -> bool {
    let path = format!("{dir}/event");
    let Some(md) = stat(&path) else { return false };
    if !md.is_dir() {
        warn(format_args!("{path} is not a directory"));
        return false;
    }
    let mode = md.mode() & 0o7777;
    let who = match mode {
        0o3730 => format!("group {}", gid_name(md.gid())),
        0o1733 => "public".to_owned(),
        _ => {
            incorrect(&path, mode);
            return false;
        }
    };
    out.push_str(&format!("{dir} events: {who}\n"));
    true
}

/// Runs s6-svperms.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    let mut report = false;
    let mut access: Option<Access> = None;
    let mut events: Option<Option<u32>> = None;
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        match opt.c {
            'v' => report = true,
            'u' => access = Some(Access::Owner),
            'g' => access = Some(Access::GroupReads(scan_gid(opt.arg_str())?)),
            'G' => access = Some(Access::GroupControls(scan_gid(opt.arg_str())?)),
            'o' => access = Some(Access::PublicReads),
            'O' => access = Some(Access::PublicReadsGroupControls(scan_gid(opt.arg_str())?)),
            'e' => events = Some(None),
            'E' => events = Some(Some(scan_gid(opt.arg_str())?)),
            _ => return Err(SPEC.usage_error()),
        }
    }
    let dirs = g.operands();
    if dirs.is_empty() {
        return Err(SPEC.usage_error());
    }
    let report = report || (access.is_none() && events.is_none());
    let mut out = String::new();
    let mut failed = false;
    for dir in dirs {
        let dir = dir.to_string_lossy();
        if let Some(a) = access {
            apply(&format!("{dir}/supervise"), a.supervise_mode())?;
            apply(&format!("{dir}/supervise/control"), a.control_mode())?;
        }
        if let Some(group) = events {
            apply(&format!("{dir}/event"), event_mode(group))?;
        }
        if report {
            failed |= !report_supervise(&dir, &mut out);
            failed |= !report_event(&dir, &mut out);
        }
    }
    if report {
        let mut stdout = io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| Fatal::sys("write to stdout", &e))?;
    }
    Ok(u8::from(failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_follow_formats_1_6() {
        assert_eq!(Access::Owner.supervise_mode(), (None, 0o700));
        assert_eq!(Access::Owner.control_mode(), (None, 0o600));
        assert_eq!(Access::GroupReads(5).supervise_mode(), (Some(5), 0o710));
        assert_eq!(Access::GroupReads(5).control_mode(), (None, 0o600));
        assert_eq!(Access::GroupControls(5).supervise_mode(), (Some(5), 0o710));
        assert_eq!(Access::GroupControls(5).control_mode(), (Some(5), 0o620));
        assert_eq!(Access::PublicReads.supervise_mode(), (None, 0o711));
        assert_eq!(Access::PublicReads.control_mode(), (None, 0o600));
        assert_eq!(Access::PublicReadsGroupControls(5).supervise_mode(), (None, 0o711));
        assert_eq!(Access::PublicReadsGroupControls(5).control_mode(), (Some(5), 0o620));
        assert_eq!(event_mode(None), (None, 0o1733));
        assert_eq!(event_mode(Some(5)), (Some(5), 0o3730));
    }

    #[test]
    fn groups() {
        assert_eq!(scan_gid(":42").unwrap(), 42);
        assert!(scan_gid(":x").unwrap_err().usage);
        assert_eq!(scan_gid("root").unwrap(), 0);
        let e = scan_gid("no-such-group-s6rs").unwrap_err();
        assert_eq!(
            (e.code, e.msg.as_str()),
            (100, "unable to find entry for no-such-group-s6rs in group database")
        );
    }
}
