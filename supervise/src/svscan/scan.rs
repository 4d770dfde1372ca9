//! The scanner of s6-svscan (INVENTORY.md §3.3): read the scan directory, match every
//! service and logger directory to a slot by (dev, ino), and mark what was found active.
//!
//! An entry that cannot be stat'ed (a symlink loop, a dangling link, a permission problem) is
//! reported and left out of this scan, and the scan goes on: every other service is
//! supervised. What was last seen under that name is kept as it is, so the entry does not
//! look removed (a prune would otherwise stop its supervisor), and the scan is retried a
//! little later to pick it up once it is fixed. (2.15 abandons the whole scan, so one bad
//! entry keeps every service from starting; 2.11 skips the entry but then treats it as
//! removed.) A service whose logger cannot be stat'ed is left out with it, rather than
//! started without its log pipe. Other errors abandon the scan as a whole and retry later.
//! The retry delays are upstream's.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

use s6rs_sys::cli::{show, warn, warn_sys};

#[cfg(test)]
use super::table::KillSet;
use super::table::{Role, Table};

/// Seconds before retrying after an entry that cannot be stat'ed (e.g. a dangling symlink).
pub(crate) const RETRY_STAT: u64 = 4;
/// Seconds before retrying after a failure to create a logger pipe.
pub(crate) const RETRY_PIPE: u64 = 3;
/// Seconds before retrying while a logger directory still belongs to another service.
pub(crate) const RETRY_OLD_PEER: u64 = 10;
/// Seconds before retrying when every slot is taken.
pub(crate) const RETRY_FULL: u64 = 60;
/// Seconds before retrying after the directory itself could not be read.
pub(crate) const RETRY_DIR: u64 = 5;

/// Scans `base` and updates `table`. A complete scan returns, when some entry could not be
/// stat'ed, after how many seconds to scan again. On another error, returns after how many
/// seconds to try again; nothing found by the abandoned scan becomes active.
pub(crate) fn scan(table: &mut Table, base: &Path, now: Instant) -> Result<Option<u64>, u64> {
    table.begin_scan();
    let dir = std::fs::read_dir(base).map_err(|e| {
        warn_sys("opendir .", &e);
        RETRY_DIR
    })?;
    let mut logname = Vec::with_capacity(table.namemax() + 5);
    let mut retry = None;
    for ent in dir {
        let ent = ent.map_err(|e| {
            warn_sys("readdir .", &e);
            RETRY_DIR
        })?;
        let name = ent.file_name();
        let name = name.as_bytes();
        if name.first() == Some(&b'.') {
            continue;
        }
        if name.len() > table.namemax() {
            warn(format_args!("name too long - not spawning service: {}", show(OsStr::from_bytes(name))));
            continue;
        }
        let (i, new) = match check(table, base, name, None, now)? {
            Found::Slot(i, new) => (i, new),
            Found::NotDir => continue,
            Found::Unknown => {
                if let Some(i) = table.find_main(name) {
                    table.keep(i);
                }
                retry = Some(RETRY_STAT);
                continue;
            }
        };
        logname.clear();
        logname.extend_from_slice(name);
        logname.extend_from_slice(b"/log");
        if check(table, base, &logname, Some(i), now)? == Found::Unknown {
            // Its logger is unknown: a new service waits for it, a known one stays as it was.
            if new {
                table.remove(i);
            } else {
                table.keep(i);
            }
            retry = Some(RETRY_STAT);
        }
    }
    table.commit_scan();
    Ok(retry)
}

/// What [`check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// A directory, in this slot (true if the slot was made by this scan).
    Slot(u32, bool),
    /// Not a directory (or, for a logger, nothing there).
    NotDir,
    /// It could not be stat'ed; the warning is printed.
    Unknown,
}

/// Looks at one directory, `name` (a service) or `name` = `X/log` with `prod` = X's slot.
/// Returns what it found, or the delay before retrying an abandoned scan.
fn check(table: &mut Table, base: &Path, name: &[u8], prod: Option<u32>, now: Instant) -> Result<Found, u64> {
    let shown = || show(OsStr::from_bytes(name)).into_owned();
    let md = match std::fs::metadata(base.join(OsStr::from_bytes(name))) {
        Ok(md) => md,
        Err(e) => {
            if let Some(p) = prod.filter(|_| e.kind() == io::ErrorKind::NotFound) {
                if table.peer(p).is_some() {
                    warn(format_args!("logger for service {} has been moved", show(table.name(p))));
                }
                return Ok(Found::NotDir);
            }
            warn_sys(format_args!("stat {}", shown()), &e);
            return Ok(Found::Unknown);
        }
    };
    if !md.is_dir() {
        return Ok(Found::NotDir);
    }
    let role = if prod.is_some() { Role::Logger } else { Role::Main };
    let (i, new) = match table.find(md.dev(), md.ino()) {
        Some(i) => {
            if let (Some(p), Some(q)) = (prod, table.peer(i)) {
                // The logger still feeds another service: wait for that one to go, unless its
                // directory has already gone, in which case the logger follows its new producer.
                if q != p && table.still_there(base, q) {
                    warn(format_args!("old service {} still exists, waiting", shown()));
                    return Err(RETRY_OLD_PEER);
                }
            }
            (i, false)
        }
        None => match table.alloc(md.dev(), md.ino(), role, now) {
            Some(i) => (i, true),
            None => {
                warn(format_args!("unable to start supervisor for {}: too many services", shown()));
                return Err(RETRY_FULL);
            }
        },
    };
    table.see(i, name, role);
    if let Some(p) = prod {
        if let Err(e) = table.link(p, i) {
            warn_sys(format_args!("create pipe for {}", shown()), &e);
            if new {
                table.remove(i);
            }
            return Err(RETRY_PIPE);
        }
    }
    Ok(Found::Slot(i, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    use s6rs_sys::testing::TempDir;

    fn tmp(tag: &str) -> TempDir {
        TempDir::new(&format!("scan-{tag}"))
    }

    fn started(t: &mut Table) -> Vec<(String, Option<i32>, bool)> {
        let mut v = Vec::new();
        let mut pid = 1000;
        t.start_due(Instant::now(), |s| {
            v.push((s.name.to_string_lossy().into_owned(), s.pipe.map(|p| p.1), s.special));
            pid += 1;
            Some(pid)
        });
        v.sort();
        v
    }

    #[test]
    fn finds_services_loggers_and_skips_the_rest() {
        let d = tmp("find");
        let b = &d.0;
        std::fs::create_dir_all(b.join("a/log")).unwrap();
        std::fs::create_dir_all(b.join("s6-svscan-log")).unwrap();
        std::fs::create_dir_all(b.join(".hidden")).unwrap();
        std::fs::create_dir_all(b.join("x".repeat(14))).unwrap();
        std::fs::write(b.join("file"), "").unwrap();
        std::fs::create_dir_all(b.join("real")).unwrap();
        symlink("real", b.join("link")).unwrap();
        let mut t = Table::new(10, 13);
        scan(&mut t, b, Instant::now()).unwrap();
        let got = started(&mut t);
        // `link` and `real` are one directory: one slot, under whichever name came last.
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got.contains(&("a".into(), Some(1), false)));
        assert!(got.contains(&("a/log".into(), Some(0), false)));
        assert!(got.contains(&("s6-svscan-log".into(), None, true)));
        assert!(got.iter().any(|g| g.0 == "real" || g.0 == "link"));
    }

    #[test]
    fn entries_that_cannot_be_stated_are_skipped_and_retried() {
        let d = tmp("stat");
        let b = &d.0;
        std::fs::create_dir_all(b.join("a")).unwrap();
        symlink("nowhere", b.join("dangling")).unwrap();
        symlink("loop", b.join("loop")).unwrap();
        let mut t = Table::new(10, 251);
        assert_eq!(scan(&mut t, b, Instant::now()), Ok(Some(RETRY_STAT)));
        assert_eq!(started(&mut t), vec![("a".into(), None, false)]);
        std::fs::remove_file(b.join("dangling")).unwrap();
        std::fs::remove_file(b.join("loop")).unwrap();
        std::fs::create_dir_all(b.join("loop")).unwrap();
        assert_eq!(scan(&mut t, b, Instant::now()), Ok(None));
        assert_eq!(started(&mut t), vec![("loop".into(), None, false)]);
    }

    #[test]
    fn an_entry_that_turns_unstatable_keeps_its_slot_and_logger() {
        let d = tmp("keep");
        let b = &d.0;
        std::fs::create_dir_all(b.join("a/log")).unwrap();
        let mut t = Table::new(10, 251);
        scan(&mut t, b, Instant::now()).unwrap();
        assert_eq!(started(&mut t).len(), 2);
        let a = t.find_main(b"a").unwrap();
        let log = t.peer(a).unwrap();
        // The directory leaves the scan directory and a symlink loop takes its name.
        let out = tmp("keep-out");
        std::fs::rename(b.join("a"), out.0.join("a")).unwrap();
        symlink("a", b.join("a")).unwrap();
        // Nothing is inactive: a prune would stop nothing.
        assert_eq!(scan(&mut t, b, Instant::now()), Ok(Some(RETRY_STAT)));
        let mut inactive = Vec::new();
        t.kill(KillSet { all: false, term_mains: true, term_loggers: true }, |p, _| inactive.push(p));
        assert!(inactive.is_empty(), "{inactive:?}");
        assert_eq!((t.find_main(b"a"), t.peer(a)), (Some(a), Some(log)));
    }

    #[test]
    fn a_new_service_whose_logger_cannot_be_stated_waits_for_it() {
        let d = tmp("logloop");
        let b = &d.0;
        std::fs::create_dir_all(b.join("a")).unwrap();
        std::fs::create_dir_all(b.join("b")).unwrap();
        symlink("log", b.join("a/log")).unwrap();
        let mut t = Table::new(10, 251);
        assert_eq!(scan(&mut t, b, Instant::now()), Ok(Some(RETRY_STAT)));
        assert_eq!(started(&mut t), vec![("b".into(), None, false)]);
        std::fs::remove_file(b.join("a/log")).unwrap();
        std::fs::create_dir_all(b.join("a/log")).unwrap();
        assert_eq!(scan(&mut t, b, Instant::now()), Ok(None));
        assert_eq!(started(&mut t), vec![("a".into(), Some(1), false), ("a/log".into(), Some(0), false)]);
    }

    #[test]
    fn errors_abandon_the_scan_with_upstream_delays() {
        let d = tmp("err");
        let b = &d.0;
        std::fs::create_dir_all(b.join("a")).unwrap();
        let mut t = Table::new(10, 251);
        scan(&mut t, b, Instant::now()).unwrap();
        assert_eq!(started(&mut t).len(), 1);
        // A full table.
        std::fs::create_dir_all(b.join("b/log")).unwrap();
        let mut small = Table::new(2, 251);
        assert_eq!(scan(&mut small, b, Instant::now()), Err(RETRY_FULL));
        // A vanished directory.
        assert_eq!(scan(&mut t, &b.join("gone"), Instant::now()), Err(RETRY_DIR));
    }

    #[test]
    fn logger_waits_while_its_old_service_exists_then_follows() {
        let d = tmp("move");
        let b = &d.0;
        std::fs::create_dir_all(b.join("a/log")).unwrap();
        let mut t = Table::new(10, 251);
        scan(&mut t, b, Instant::now()).unwrap();
        std::fs::create_dir_all(b.join("c")).unwrap();
        std::fs::rename(b.join("a/log"), b.join("c/log")).unwrap();
        assert_eq!(scan(&mut t, b, Instant::now()), Err(RETRY_OLD_PEER));
        std::fs::remove_dir_all(b.join("a")).unwrap();
        scan(&mut t, b, Instant::now()).unwrap();
        let md = std::fs::metadata(b.join("c/log")).unwrap();
        let l = t.find(md.dev(), md.ino()).unwrap();
        assert_eq!(t.name(l), "c/log");
        assert_eq!(t.name(t.peer(l).unwrap()), "c");
    }

    #[test]
    fn renamed_service_keeps_its_slot() {
        let d = tmp("rename");
        let b = &d.0;
        std::fs::create_dir_all(b.join("a/log")).unwrap();
        let mut t = Table::new(10, 251);
        scan(&mut t, b, Instant::now()).unwrap();
        assert_eq!(started(&mut t).len(), 2);
        std::fs::rename(b.join("a"), b.join("z")).unwrap();
        scan(&mut t, b, Instant::now()).unwrap();
        // Both still running, nothing new to start.
        assert!(started(&mut t).is_empty());
        let md = std::fs::metadata(b.join("z")).unwrap();
        assert_eq!(t.name(t.find(md.dev(), md.ino()).unwrap()), "z");
    }
}
