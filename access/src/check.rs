//! The decision s6-ipcserver-access makes for one Unix-domain client, as a plain function,
//! so that a super-server can make it in-process and get exactly what the chained program
//! would have done: the verdict, the environment changes, the replacement command line and
//! the log lines. s6-ipcserver-access itself is a thin wrapper around [`evaluate`].
//! Upstream page: `s6-ipcserver-access.html`; FORMATS.md §7.3, §7.4.
//!
//! Deliberate differences from s6, each refusing where s6 might not, or saying why where s6
//! would not:
//! * a missing or unsearchable rules directory is an error (exit 111, one fatal line)
//!   rather than "no rule" (a silent exit 1);
//! * a rule's files (`env/` entries, `exec`) must be regular files: a FIFO there is an
//!   error at once, where s6 would wait for a writer, forever;
//! * a cdb's header is checked against the file's length before any lookup, so a truncated
//!   file is refused even when the client's own entry survived the cut. That check costs
//!   the same for any size of file. A [`Checker`] that lives across clients (s6-ipcserverd's
//!   in-process check) also verifies the whole structure ([`crate::cdbfile::Cdb::verify`]),
//!   once per version of the file, and keeps the verified mapping while the file is
//!   unchanged (same device, inode, size, mtime and ctime, compared at every check).

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use s6rs_sys::cli::{errtext, strerror};
use s6rs_sys::exec::EnvMod;

use crate::cdb::CdbRules;
use crate::fs::FsRules;
use crate::mapping::FileId;
use crate::rules::{check_uidgid, Grant, Lookup};

/// Where the rules come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSource {
    /// No rules (neither `-i` nor `-x`): every client is allowed, with a warning at
    /// verbosity 2.
    None,
    /// A rules directory (`-i`), read at each evaluation.
    Dir(PathBuf),
    /// A compiled rules file (`-x`), mapped at each evaluation, or by a [`Checker`] once
    /// per version of the file.
    Cdb(PathBuf),
}

/// The client's effective credentials, as the kernel reports them for the connection
/// (`getpeereid`), or as `${PROTO}REMOTEEUID`/`${PROTO}REMOTEEGID` carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerIds {
    /// Effective uid.
    pub uid: u32,
    /// Effective gid.
    pub gid: u32,
}

/// The options of s6-ipcserver-access other than the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessOptions {
    /// `-v`: 0 logs errors only, 1 (the default) also accepted clients, 2 also refused ones
    /// and the "no ruleset" warning.
    pub verbosity: u32,
    /// `-e` (true, the default): add `${PROTO}LOCALPATH`. `-E` (false): remove the UCSPI
    /// variables instead (`PROTO`, `${PROTO}REMOTEEUID`, `${PROTO}REMOTEEGID`,
    /// `${PROTO}REMOTEPATH`, `${PROTO}LOCALPATH`, `${PROTO}CONNNUM`).
    pub doenv: bool,
    /// `-l`: the value of `${PROTO}LOCALPATH`. `None`: the path fd 0 is bound to
    /// (`getsockname`), which for a server's child and for the server itself (whose fd 0 is
    /// the listening socket) is the socket's path.
    pub localname: Option<OsString>,
    /// The value of `PROTO`, which prefixes the variable names (`IPC` under s6-ipcserver).
    pub proto: OsString,
    /// The pid named in log lines; `None` for this process (what s6-ipcserver-access, which
    /// runs as the connection's own process, prints).
    pub log_pid: Option<u32>,
}

impl Default for AccessOptions {
    fn default() -> AccessOptions {
        AccessOptions { verbosity: 1, doenv: true, localname: None, proto: "IPC".into(), log_pid: None }
    }
}

/// What to do with one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the client is served.
    pub allow: bool,
    /// When not allowed, the exit code s6-ipcserver-access uses: 1 when the rules refuse
    /// the client (a deny rule, or no rule), 111 when the rules could not be read (missing,
    /// unreadable or corrupt database) or the local path could not be found. 0 when allowed.
    pub code: u8,
    /// Environment changes to apply before running the server program, in order
    /// (`None` = unset), exactly as s6-ipcserver-access would apply them.
    pub env: Vec<EnvMod>,
    /// The rule's `exec` command line (up to its first NUL, as a C string), when the rule
    /// has a non-empty one: run `execlineb -Pc EXEC` instead of the server program.
    pub exec: Option<Vec<u8>>,
    /// Lines to log on stderr, each to be prefixed with `PROGNAME: `; they start with
    /// `info: `, `warning: ` or `fatal: `. Already filtered by verbosity.
    pub log: Vec<String>,
}

impl Decision {
    fn refuse(code: u8, log: Vec<String>) -> Decision {
        Decision { allow: false, code, env: Vec::new(), exec: None, log }
    }
}

/// `NAME` = `PROTO` + `suffix`.
fn var(proto: &OsString, suffix: &str) -> OsString {
    let mut v = proto.clone();
    v.push(suffix);
    v
}

/// Checks that the rules directory itself exists and can be searched. s6 would take a
/// missing or unsearchable rules directory for "no rule" and refuse every client without a
/// word at the default verbosity; we refuse them too, but say why.
fn usable_dir(dir: &std::path::Path) -> std::io::Result<()> {
    if !std::fs::metadata(dir)?.is_dir() {
        return Err(std::io::Error::from_raw_os_error(libc::ENOTDIR));
    }
    s6rs_sys::fd::access_searchable(dir)
}

/// Looks the client up in `rules` and decides as s6-ipcserver-access does (one check: see
/// [`Checker`] for a server's).
pub fn evaluate(rules: &RuleSource, peer: PeerIds, opts: &AccessOptions) -> Decision {
    Checker::new(rules.clone(), false).evaluate(peer, opts)
}

/// A cdb as mapped and checked, for the version of the file it was mapped from.
#[derive(Debug)]
struct Mapped {
    id: FileId,
    /// The database, or the errno its checks failed with.
    db: Result<CdbRules, i32>,
}

/// Why no database could be consulted.
enum Unusable {
    /// A log line to refuse the client with.
    Line(String),
    /// The file shrank under the mapping while it was being checked: map it again.
    Shrunk,
}

/// The access check of a program that checks clients one after another: where the rules
/// are and, for a cdb, the file as it was last mapped and checked, used again while the
/// file is unchanged and mapped again as soon as it changes (replaced, or rewritten in
/// place).
#[derive(Debug)]
pub struct Checker {
    rules: RuleSource,
    verify_whole: bool,
    cdb: Option<Mapped>,
    mappings: u64,
}

impl Checker {
    /// A checker for `rules`. With `verify_whole`, a newly mapped cdb is verified whole
    /// before use, not only its layout: worth it where the mapping serves many clients, not
    /// in a program that checks one client and exits.
    pub fn new(rules: RuleSource, verify_whole: bool) -> Checker {
        Checker { rules, verify_whole, cdb: None, mappings: 0 }
    }

    /// How many times the cdb was mapped so far (once per version of the file it saw).
    pub fn mappings(&self) -> u64 {
        self.mappings
    }

    /// The rules this checker reads.
    pub fn rules(&self) -> &RuleSource {
        &self.rules
    }

    /// Looks the client up and decides as s6-ipcserver-access does.
    pub fn evaluate(&mut self, peer: PeerIds, opts: &AccessOptions) -> Decision {
        let mut log = Vec::new();
        if self.rules == RuleSource::None && opts.verbosity >= 2 {
            log.push("warning: invoked without a ruleset!".to_owned());
        }
        let found = self.lookup(peer);
        decide(found, peer, opts, log)
    }

    fn lookup(&mut self, peer: PeerIds) -> Result<Lookup, String> {
        match &self.rules {
            RuleSource::None => Ok(Lookup::Allow(Grant::default())),
            RuleSource::Dir(dir) => {
                usable_dir(dir).and_then(|()| check_uidgid(&FsRules::new(dir), peer.uid, peer.gid)).map_err(
                    |e| format!("fatal: unable to check fs ruleset in {}: {}", dir.display(), errtext(&e)),
                )
            }
            RuleSource::Cdb(file) => {
                let file = file.clone();
                self.lookup_cdb(&file, peer)
            }
        }
    }

    /// The cdb lookup. A file that shrinks under the mapping during the lookup voids it
    /// (see [`crate::mapping`]): the file is mapped again and looked up once more.
    fn lookup_cdb(&mut self, file: &Path, peer: PeerIds) -> Result<Lookup, String> {
        for _ in 0..2 {
            let db = match self.mapped(file) {
                Ok(db) => db,
                Err(Unusable::Line(line)) => return Err(line),
                Err(Unusable::Shrunk) => continue,
            };
            let armed = db.cdb().arm();
            let found = check_uidgid(db, peer.uid, peer.gid);
            if !armed.as_ref().is_some_and(|a| a.hit()) {
                return found.map_err(|e| check_line(file, &errtext(&e)));
            }
            drop(armed);
            self.cdb = None;
        }
        Err(check_line(file, &strerror(libc::ESTALE)))
    }

    /// The checked database for `file` as it is now: the one already mapped if the file
    /// has not changed, else a new mapping, checked.
    fn mapped(&mut self, file: &Path) -> Result<&CdbRules, Unusable> {
        let init_line = |e: std::io::Error| {
            Unusable::Line(format!("fatal: unable to cdb_init {}: {}", file.display(), errtext(&e)))
        };
        let now = FileId::stat(file).map_err(init_line)?;
        if self.cdb.as_ref().is_none_or(|m| m.id != now) {
            // Unmap the old version first: never two big mappings at once.
            self.cdb = None;
            let db = CdbRules::open(file).map_err(init_line)?;
            self.mappings += 1;
            let id = db.cdb().file_id().unwrap_or(now);
            let checked = {
                let armed = db.cdb().arm();
                let res =
                    db.check_layout().and_then(|()| if self.verify_whole { db.verify() } else { Ok(()) });
                if armed.as_ref().is_some_and(|a| a.hit()) {
                    return Err(Unusable::Shrunk);
                }
                res
            };
            let db = checked.map(|()| db).map_err(|e| e.raw_os_error().unwrap_or(libc::EINVAL));
            self.cdb = Some(Mapped { id, db });
        }
        match self.cdb.as_ref().map(|m| &m.db) {
            Some(Ok(db)) => Ok(db),
            Some(Err(code)) => Err(Unusable::Line(check_line(file, &strerror(*code)))),
            None => Err(Unusable::Line(check_line(file, &strerror(libc::EINVAL)))),
        }
    }
}

fn check_line(file: &Path, err: &str) -> String {
    format!("fatal: unable to check cdb ruleset in {}: {err}", file.display())
}

/// The decision for what the lookup `found`.
fn decide(
    found: Result<Lookup, String>,
    peer: PeerIds,
    opts: &AccessOptions,
    mut log: Vec<String>,
) -> Decision {
    let pid = opts.log_pid.unwrap_or_else(std::process::id);
    let who = format!("pid {pid} uid {} gid {}", peer.uid, peer.gid);
    let grant = match found {
        Err(line) => {
            log.push(line);
            return Decision::refuse(111, log);
        }
        Ok(Lookup::Allow(g)) => g,
        Ok(refusal) => {
            if opts.verbosity >= 2 {
                let why = if refusal == Lookup::Deny { libc::EACCES } else { libc::ENOENT };
                log.push(format!("info: deny {who}: {}", s6rs_sys::cli::strerror(why)));
            }
            return Decision::refuse(1, log);
        }
    };
    if opts.verbosity >= 1 {
        log.push(format!("info: allow {who}"));
    }
    let mut env = grant.env;
    let proto = &opts.proto;
    if opts.doenv {
        let local = match &opts.localname {
            Some(name) => name.clone(),
            None => match s6rs_sys::socket::local_path(std::io::stdin().as_fd()) {
                Ok(path) => path.as_os_str().to_owned(),
                Err(e) => {
                    log.push(format!("fatal: unable to ipc_local: {}", errtext(&e)));
                    return Decision::refuse(111, log);
                }
            },
        };
        env.push((var(proto, "LOCALPATH"), Some(local)));
    } else {
        env.push(("PROTO".into(), None));
        for suffix in ["REMOTEEUID", "REMOTEEGID", "REMOTEPATH", "LOCALPATH", "CONNNUM"] {
            env.push((var(proto, suffix), None));
        }
    }
    let exec = (!grant.exec.is_empty()).then(|| {
        let end = grant.exec.iter().position(|&b| b == 0).unwrap_or(grant.exec.len());
        grant.exec[..end].to_vec()
    });
    Decision { allow: true, code: 0, env, exec, log }
}

#[cfg(test)]
mod tests {
    use super::*;

    use s6rs_sys::testing::TempDir as Dir;

    fn rules(tag: &str, files: &[(&str, &[u8])]) -> Dir {
        let d = Dir::new(&format!("access-check-{tag}"));
        for (path, body) in files {
            let f = d.0.join(path);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, body).unwrap();
        }
        d
    }

    fn opts(v: u32, doenv: bool) -> AccessOptions {
        AccessOptions {
            verbosity: v,
            doenv,
            localname: Some("sock".into()),
            log_pid: Some(42),
            ..Default::default()
        }
    }

    // Peer ids no test process runs as, so `uid/self` and `gid/self` never interfere.
    const U: u32 = 4_000_001;
    const G: u32 = 4_000_002;

    #[test]
    fn allow_env_and_exec() {
        let d = rules(
            "allow",
            &[
                ("gid/4000002/allow", b""),
                ("gid/4000002/env/FOO", b"bar\n"),
                ("gid/4000002/exec", b"echo hi\0tail"),
            ],
        );
        let dec = evaluate(&RuleSource::Dir(d.0.clone()), PeerIds { uid: U, gid: G }, &opts(1, true));
        assert!(dec.allow);
        assert_eq!(dec.code, 0);
        assert_eq!(
            dec.env,
            [("FOO".into(), Some("bar".into())), ("IPCLOCALPATH".into(), Some("sock".into()))]
        );
        assert_eq!(dec.exec.as_deref(), Some(&b"echo hi"[..]));
        assert_eq!(dec.log, ["info: allow pid 42 uid 4000001 gid 4000002"]);
        let dec = evaluate(&RuleSource::Dir(d.0.clone()), PeerIds { uid: U, gid: G }, &opts(0, false));
        assert!(dec.log.is_empty());
        let names: Vec<_> = dec.env.iter().map(|(n, v)| (n.to_str().unwrap(), v.is_none())).collect();
        assert_eq!(
            names,
            [
                ("FOO", false),
                ("PROTO", true),
                ("IPCREMOTEEUID", true),
                ("IPCREMOTEEGID", true),
                ("IPCREMOTEPATH", true),
                ("IPCLOCALPATH", true),
                ("IPCCONNNUM", true)
            ]
        );
    }

    #[test]
    fn refusals_and_errors() {
        let d = rules("deny", &[("uid/4000001/deny", b""), ("uid/4000003", b"garbage")]);
        let src = RuleSource::Dir(d.0.clone());
        let dec = evaluate(&src, PeerIds { uid: U, gid: G }, &opts(2, true));
        assert_eq!((dec.allow, dec.code), (false, 1));
        assert_eq!(dec.log, ["info: deny pid 42 uid 4000001 gid 4000002: Permission denied"]);
        let dec = evaluate(&src, PeerIds { uid: 7, gid: 8 }, &opts(2, true));
        assert_eq!(dec.log, ["info: deny pid 42 uid 7 gid 8: No such file or directory"]);
        assert!(evaluate(&src, PeerIds { uid: 7, gid: 8 }, &opts(1, true)).log.is_empty());
        let dec = evaluate(&src, PeerIds { uid: 4_000_003, gid: 8 }, &opts(0, true));
        assert_eq!((dec.allow, dec.code), (false, 111));
        assert_eq!(
            dec.log,
            [format!("fatal: unable to check fs ruleset in {}: Not a directory", d.0.display())]
        );
        let missing = d.0.join("none.cdb");
        let dec = evaluate(&RuleSource::Cdb(missing.clone()), PeerIds { uid: U, gid: G }, &opts(0, true));
        assert_eq!((dec.allow, dec.code), (false, 111));
        assert_eq!(
            dec.log,
            [format!("fatal: unable to cdb_init {}: No such file or directory", missing.display())]
        );
    }

    #[test]
    fn no_rules_allows_with_a_warning() {
        let dec = evaluate(&RuleSource::None, PeerIds { uid: U, gid: G }, &opts(2, true));
        assert!(dec.allow);
        assert_eq!(
            dec.log,
            ["warning: invoked without a ruleset!", "info: allow pid 42 uid 4000001 gid 4000002"]
        );
        assert_eq!(dec.exec, None);
    }

    fn cdb_bytes(recs: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = crate::cdbfile::Writer::new();
        for (k, v) in recs {
            w.add(k.as_bytes(), v).unwrap();
        }
        w.finish().unwrap()
    }

    fn allow_foo(v: &str) -> Vec<u8> {
        crate::cdb::encode_allow(format!("FOO={v}\0").as_bytes(), b"").unwrap()
    }

    fn foo(dec: &Decision) -> Option<String> {
        dec.env
            .iter()
            .find(|(n, _)| n == "FOO")
            .and_then(|(_, v)| v.clone())
            .map(|v| v.into_string().unwrap())
    }

    #[test]
    fn checker_reuses_the_mapping_until_the_file_changes() {
        let d = rules("reuse", &[]);
        let file = d.0.join("rules.cdb");
        std::fs::write(&file, cdb_bytes(&[("uid/4000001", &allow_foo("one"))])).unwrap();
        let mut c = Checker::new(RuleSource::Cdb(file.clone()), true);
        let peer = PeerIds { uid: U, gid: G };
        for _ in 0..3 {
            assert_eq!(foo(&c.evaluate(peer, &opts(0, true))).as_deref(), Some("one"));
        }
        assert_eq!(c.mappings(), 1);
        // Replaced by rename, as s6-accessrules-cdb-from-fs does it: the new file at once.
        let tmp = d.0.join("rules.cdb.new");
        std::fs::write(&tmp, cdb_bytes(&[("uid/4000001", &allow_foo("two"))])).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        assert_eq!(foo(&c.evaluate(peer, &opts(0, true))).as_deref(), Some("two"));
        assert_eq!(c.mappings(), 2);
        // Rewritten in place with the same size: seen too (mtime, ctime).
        std::fs::write(&file, cdb_bytes(&[("uid/4000001", &allow_foo("six"))])).unwrap();
        assert_eq!(foo(&c.evaluate(peer, &opts(0, true))).as_deref(), Some("six"));
        // Truncated in place: refused, never answered from the old mapping.
        std::fs::write(&file, &cdb_bytes(&[("uid/4000001", &allow_foo("six"))])[..2060]).unwrap();
        let dec = c.evaluate(peer, &opts(0, true));
        assert_eq!((dec.allow, dec.code), (false, 111));
        assert_eq!(
            dec.log,
            [format!("fatal: unable to check cdb ruleset in {}: Invalid argument", file.display())]
        );
        // Still broken, still refused (from the cached verdict), with the same line.
        let n = c.mappings();
        assert_eq!(c.evaluate(peer, &opts(0, true)).log, dec.log);
        assert_eq!(c.mappings(), n);
        // Removed: as the chained program says it.
        std::fs::remove_file(&file).unwrap();
        let dec = c.evaluate(peer, &opts(0, true));
        assert_eq!(
            dec.log,
            [format!("fatal: unable to cdb_init {}: No such file or directory", file.display())]
        );
    }

    #[test]
    fn long_lived_checker_verifies_the_whole_file() {
        let d = rules("whole", &[]);
        let file = d.0.join("rules.cdb");
        let mut bytes = cdb_bytes(&[("uid/4000001", &allow_foo("x")), ("uid/5", b"D")]);
        // Damage the key of the other client's record: the layout is intact.
        let at = bytes.windows(5).position(|w| w == b"uid/5").unwrap();
        bytes[at + 4] = b'6';
        std::fs::write(&file, &bytes).unwrap();
        let peer = PeerIds { uid: U, gid: G };
        assert!(evaluate(&RuleSource::Cdb(file.clone()), peer, &opts(0, true)).allow);
        let dec = Checker::new(RuleSource::Cdb(file.clone()), true).evaluate(peer, &opts(0, true));
        assert_eq!((dec.allow, dec.code), (false, 111));
    }
}
