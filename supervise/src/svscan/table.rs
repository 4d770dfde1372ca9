//! The service table of s6-svscan: one slot per supervised directory (services and loggers
//! alike), sized once from `-C`, looked up by (dev, ino) and by supervisor pid.
//!
//! A slot survives renames of its directory (it is found again by inode) and its supervisor's
//! deaths. A producer and its logger share a pipe that the table holds for as long as both
//! slots exist, so either supervisor can be restarted without losing a byte.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::time::Instant;

/// The catch-all logger's service name: its supervisor gets the console as stderr, and it is
/// treated as a logger when killing.
pub(crate) const SPECIAL: &[u8] = b"s6-svscan-log";

/// What a slot supervises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A service directory found in the scan directory (`X`).
    Main,
    /// A logger directory inside a service (`X/log`).
    Logger,
}

/// One supervised directory.
#[derive(Debug)]
pub(crate) struct Slot {
    dev: u64,
    ino: u64,
    /// Pid of its s6-supervise, 0 when none runs.
    pid: i32,
    /// Earliest time its supervisor may be spawned again.
    start: Instant,
    /// Our end of the pair's pipe: the write end for a producer, the read end for a logger.
    pipe: Option<OwnedFd>,
    /// The other slot of the pair.
    peer: Option<u32>,
    role: Role,
    /// `X` or `X/log`, as found by the last scan that saw it.
    name: Vec<u8>,
    used: bool,
    /// Found by the last complete scan.
    active: bool,
    /// Found by the scan in progress.
    seen: bool,
}

/// Which signals a kill sends: SIGTERM or SIGHUP to main and logger supervisors, to all of
/// them or only to inactive ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KillSet {
    /// Every supervisor, not only the inactive ones.
    pub all: bool,
    /// SIGTERM (rather than SIGHUP) to the supervisors of main services.
    pub term_mains: bool,
    /// SIGTERM (rather than SIGHUP) to logger supervisors and `s6-svscan-log`'s.
    pub term_loggers: bool,
}

/// What the spawner needs to start one supervisor.
#[derive(Debug)]
pub(crate) struct Start<'a> {
    /// The directory name, the argument of s6-supervise.
    pub name: &'a OsStr,
    /// The pipe end to give it, and as which fd (1 for a producer, 0 for a logger).
    pub pipe: Option<(BorrowedFd<'a>, RawFd)>,
    /// It is the `s6-svscan-log` service (it gets the console as stderr).
    pub special: bool,
}

/// The slot table.
#[derive(Debug)]
pub(crate) struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    by_devino: HashMap<(u64, u64), u32>,
    by_pid: HashMap<i32, u32>,
    max: usize,
    namemax: usize,
    special: Option<u32>,
}

impl Table {
    /// A table for at most `max` directories with names up to `namemax` bytes. Storage is
    /// reserved here once; slots are filled in as services appear and reused afterwards.
    pub(crate) fn new(max: usize, namemax: usize) -> Table {
        Table {
            slots: Vec::with_capacity(max),
            free: Vec::with_capacity(max),
            by_devino: HashMap::with_capacity(max),
            by_pid: HashMap::with_capacity(max),
            max,
            namemax,
            special: None,
        }
    }

    /// The longest name a scan accepts.
    pub(crate) fn namemax(&self) -> usize {
        self.namemax
    }

    fn used(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots.iter().enumerate().filter(|(_, s)| s.used).map(|(i, _)| i as u32)
    }

    fn slot(&self, i: u32) -> &Slot {
        &self.slots[i as usize]
    }

    fn slot_mut(&mut self, i: u32) -> &mut Slot {
        &mut self.slots[i as usize]
    }

    /// The slot of the directory with this (dev, ino), if it is known.
    pub(crate) fn find(&self, dev: u64, ino: u64) -> Option<u32> {
        self.by_devino.get(&(dev, ino)).copied()
    }

    /// A new slot for (dev, ino), to be started at once; `None` when the table is full.
    pub(crate) fn alloc(&mut self, dev: u64, ino: u64, role: Role, now: Instant) -> Option<u32> {
        let fresh = Slot {
            dev,
            ino,
            pid: 0,
            start: now,
            pipe: None,
            peer: None,
            role,
            name: Vec::new(),
            used: true,
            active: false,
            seen: false,
        };
        let i = match self.free.pop() {
            Some(i) => {
                // Keep the name buffer: it already has room for any accepted name.
                let name = std::mem::take(&mut self.slot_mut(i).name);
                *self.slot_mut(i) = Slot { name, ..fresh };
                i
            }
            None if self.slots.len() < self.max => {
                self.slots.push(Slot { name: Vec::with_capacity(self.namemax + 5), ..fresh });
                (self.slots.len() - 1) as u32
            }
            None => return None,
        };
        self.by_devino.insert((dev, ino), i);
        Some(i)
    }

    /// Frees a slot whose supervisor is dead, closing both our ends of its pair's pipe.
    pub(crate) fn remove(&mut self, i: u32) {
        self.unlink(i);
        let s = self.slot_mut(i);
        s.used = false;
        s.active = false;
        s.seen = false;
        let key = (s.dev, s.ino);
        if self.by_devino.get(&key) == Some(&i) {
            self.by_devino.remove(&key);
        }
        if self.special == Some(i) {
            self.special = None;
        }
        self.free.push(i);
    }

    /// Separates a slot from its peer; both our pipe ends are closed. The supervisors keep
    /// their own copies until they restart.
    pub(crate) fn unlink(&mut self, i: u32) {
        if let Some(j) = self.slot_mut(i).peer.take() {
            let peer = self.slot_mut(j);
            peer.peer = None;
            peer.pipe = None;
        }
        self.slot_mut(i).pipe = None;
    }

    /// Pairs producer `p` with logger `l`. A pipe that already feeds `l` (or that `p` already
    /// writes to) is kept, so that nothing buffered in it is lost; its previous other end is
    /// unlinked. A new pipe is made only when neither side has one.
    pub(crate) fn link(&mut self, p: u32, l: u32) -> io::Result<()> {
        if self.slot(p).peer == Some(l) {
            return Ok(());
        }
        let (r, w) = match (self.slot(l).peer, self.slot(p).peer) {
            (Some(q), old) => {
                let w = self.slot_mut(q).pipe.take();
                self.slot_mut(q).peer = None;
                if let Some(j) = old {
                    self.unlink(j);
                }
                (self.slot_mut(l).pipe.take(), w)
            }
            (None, Some(j)) => {
                let r = self.slot_mut(j).pipe.take();
                self.slot_mut(j).peer = None;
                (r, self.slot_mut(p).pipe.take())
            }
            (None, None) => {
                let (r, w) = s6rs_sys::fd::pipe()?;
                (Some(r), Some(w))
            }
        };
        let lg = self.slot_mut(l);
        lg.pipe = r;
        lg.peer = Some(p);
        let pr = self.slot_mut(p);
        pr.pipe = w;
        pr.peer = Some(l);
        Ok(())
    }

    /// The producer of logger `l`, if it has one.
    pub(crate) fn peer(&self, i: u32) -> Option<u32> {
        self.slot(i).peer
    }

    /// The name the slot was last seen under.
    pub(crate) fn name(&self, i: u32) -> &OsStr {
        OsStr::from_bytes(&self.slot(i).name)
    }

    /// Whether the directory slot `i` was last seen as (under `base`) is still there, as the
    /// same inode.
    pub(crate) fn still_there(&self, base: &std::path::Path, i: u32) -> bool {
        use std::os::unix::fs::MetadataExt;
        let s = self.slot(i);
        std::fs::metadata(base.join(self.name(i)))
            .is_ok_and(|m| m.is_dir() && m.dev() == s.dev && m.ino() == s.ino)
    }

    /// Records that the scan in progress found slot `i` under `name` in `role`. A slot that
    /// changes role (a logger moved to the top, or the reverse) loses its pair first.
    pub(crate) fn see(&mut self, i: u32, name: &[u8], role: Role) {
        if self.slot(i).role != role {
            self.unlink(i);
        }
        if role == Role::Main && self.special.is_none() && name == SPECIAL {
            self.special = Some(i);
        }
        let s = self.slot_mut(i);
        s.role = role;
        s.name.clear();
        s.name.extend_from_slice(name);
        s.seen = true;
    }

    /// The slot last seen as the service directory `name` (not a logger), if any.
    pub(crate) fn find_main(&self, name: &[u8]) -> Option<u32> {
        self.used().find(|&i| self.slot(i).role == Role::Main && self.slot(i).name == name)
    }

    /// Marks slot `i` and its logger (if it has one) as found by the scan in progress, as
    /// they were: for a service the scan could not look at this time, which must not look
    /// removed.
    pub(crate) fn keep(&mut self, i: u32) {
        self.slot_mut(i).seen = true;
        if let Some(l) = self.slot(i).peer {
            self.slot_mut(l).seen = true;
        }
    }

    /// Starts a scan: nothing has been seen yet.
    pub(crate) fn begin_scan(&mut self) {
        for s in &mut self.slots {
            s.seen = false;
        }
    }

    /// Ends a complete scan: what it saw is active, what it did not is inactive, and inactive
    /// slots with no supervisor are forgotten.
    pub(crate) fn commit_scan(&mut self) {
        for s in &mut self.slots {
            s.active = s.used && s.seen;
        }
        for i in 0..self.slots.len() as u32 {
            let s = self.slot(i);
            if s.used && !s.active && s.pid == 0 {
                self.remove(i);
            }
        }
    }

    /// When the next supervisor is due to start: the earliest start time of an active slot
    /// without a supervisor.
    pub(crate) fn next_start(&self) -> Option<Instant> {
        self.slots.iter().filter(|s| s.used && s.active && s.pid == 0).map(|s| s.start).min()
    }

    /// Spawns the supervisor of every active slot that has none and whose start time has
    /// come, with `spawn`. A slot is not restarted sooner than one second after its previous
    /// start. Stops at the first failure and returns false.
    pub(crate) fn start_due(
        &mut self,
        now: Instant,
        mut spawn: impl FnMut(Start<'_>) -> Option<i32>,
    ) -> bool {
        for i in 0..self.slots.len() as u32 {
            let s = self.slot(i);
            if !s.used || !s.active || s.pid != 0 || s.start > now {
                continue;
            }
            let fd = match s.role {
                Role::Main => 1,
                Role::Logger => 0,
            };
            let start = Start {
                name: OsStr::from_bytes(&s.name),
                pipe: s.pipe.as_ref().map(|p| (p.as_fd(), fd)),
                special: self.special == Some(i),
            };
            let Some(pid) = spawn(start) else { return false };
            let s = self.slot_mut(i);
            s.pid = pid;
            s.start = now + std::time::Duration::from_secs(1);
            self.by_pid.insert(pid, i);
        }
        true
    }

    /// A child died: if it was a supervisor, its slot forgets it, and an inactive slot is
    /// forgotten altogether. Returns whether it was one of ours.
    pub(crate) fn reaped(&mut self, pid: i32) -> bool {
        let Some(i) = self.by_pid.remove(&pid) else { return false };
        self.slot_mut(i).pid = 0;
        if !self.slot(i).active {
            self.remove(i);
        }
        true
    }

    /// How many supervisors are running.
    pub(crate) fn running(&self) -> usize {
        self.by_pid.len()
    }

    /// Calls `send(pid, signal)` for every supervisor `set` selects.
    pub(crate) fn kill(&self, set: KillSet, mut send: impl FnMut(i32, i32)) {
        for i in self.used() {
            let s = self.slot(i);
            if s.pid == 0 || (!set.all && s.active) {
                continue;
            }
            let loggerish = s.role == Role::Logger || self.special == Some(i);
            let term = if loggerish { set.term_loggers } else { set.term_mains };
            let sig = if term { libc::SIGTERM } else { libc::SIGHUP };
            send(s.pid, sig);
        }
    }

    /// Closes every pipe end we hold (at the end, so that loggers see EOF).
    pub(crate) fn close_pipes(&mut self) {
        for s in &mut self.slots {
            s.pipe = None;
        }
    }

    /// Whether an `s6-svscan-log` service is known.
    pub(crate) fn has_special(&self) -> bool {
        self.special.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_reused() {
        let now = Instant::now();
        let mut t = Table::new(2, 20);
        let a = t.alloc(1, 1, Role::Main, now).unwrap();
        let b = t.alloc(1, 2, Role::Main, now).unwrap();
        assert!(t.alloc(1, 3, Role::Main, now).is_none());
        t.remove(a);
        assert_eq!(t.find(1, 1), None);
        let c = t.alloc(1, 3, Role::Main, now).unwrap();
        assert_eq!(c, a);
        assert_eq!(t.find(1, 3), Some(c));
        assert_eq!(t.find(1, 2), Some(b));
        assert_eq!(t.slots.capacity(), 2);
    }

    #[test]
    fn only_active_slots_start_and_dead_inactive_ones_go() {
        let now = Instant::now();
        let mut t = Table::new(8, 20);
        let a = t.alloc(1, 1, Role::Main, now).unwrap();
        let b = t.alloc(1, 2, Role::Main, now).unwrap();
        t.begin_scan();
        t.see(a, b"a", Role::Main);
        t.see(b, b"b", Role::Main);
        t.commit_scan();
        let mut pid = 100;
        let mut names = Vec::new();
        assert!(t.start_due(now, |s| {
            names.push(s.name.to_owned());
            pid += 1;
            Some(pid)
        }));
        assert_eq!(names, ["a", "b"]);
        assert_eq!(t.running(), 2);
        // Restarts wait a second after the previous start.
        assert!(t.reaped(101));
        assert_eq!(t.next_start(), Some(now + std::time::Duration::from_secs(1)));
        assert!(t.start_due(now, |_| panic!("too early")));
        // b is gone from the directory: inactive, and forgotten once its supervisor dies.
        t.begin_scan();
        t.see(a, b"a", Role::Main);
        t.commit_scan();
        assert_eq!(t.find(1, 2), Some(b));
        assert!(t.reaped(102));
        assert_eq!(t.find(1, 2), None);
        assert!(!t.reaped(999));
    }

    #[test]
    fn pairs_share_one_pipe_and_keep_it_across_relinks() {
        let now = Instant::now();
        let mut t = Table::new(8, 20);
        let p = t.alloc(1, 1, Role::Main, now).unwrap();
        let l = t.alloc(1, 2, Role::Logger, now).unwrap();
        t.link(p, l).unwrap();
        let w = t.slots[p as usize].pipe.as_ref().unwrap().try_clone().unwrap();
        s6rs_sys::fd::write_all(w.as_fd(), b"kept").unwrap();
        // Another producer takes the logger over: the same pipe keeps feeding it.
        let p2 = t.alloc(1, 3, Role::Main, now).unwrap();
        t.link(p2, l).unwrap();
        assert_eq!(t.peer(l), Some(p2));
        assert_eq!(t.peer(p), None);
        assert!(t.slots[p as usize].pipe.is_none());
        let mut buf = [0u8; 8];
        let r = t.slots[l as usize].pipe.as_ref().unwrap();
        assert_eq!(s6rs_sys::fd::read(r.as_fd(), &mut buf).unwrap(), 4);
        // Removing the producer closes our ends of the pair.
        t.remove(p2);
        assert_eq!(t.peer(l), None);
        assert!(t.slots[l as usize].pipe.is_none());
    }

    #[test]
    fn kill_picks_signals_by_role() {
        let now = Instant::now();
        let mut t = Table::new(8, 20);
        let a = t.alloc(1, 1, Role::Main, now).unwrap();
        let l = t.alloc(1, 2, Role::Logger, now).unwrap();
        let s = t.alloc(1, 3, Role::Main, now).unwrap();
        let gone = t.alloc(1, 4, Role::Main, now).unwrap();
        t.link(a, l).unwrap();
        t.begin_scan();
        t.see(a, b"a", Role::Main);
        t.see(l, b"a/log", Role::Logger);
        t.see(s, SPECIAL, Role::Main);
        t.see(gone, b"gone", Role::Main);
        t.commit_scan();
        assert!(t.has_special());
        let mut pid = 10;
        t.start_due(now, |_| {
            pid += 1;
            Some(pid)
        });
        t.begin_scan();
        for (i, n) in [(a, &b"a"[..]), (l, b"a/log"), (s, SPECIAL)] {
            t.see(i, n, if i == l { Role::Logger } else { Role::Main });
        }
        t.commit_scan();
        let sent = |set| {
            let mut v = Vec::new();
            t.kill(set, |p, sig| v.push((p, sig)));
            v
        };
        let (term, hup) = (libc::SIGTERM, libc::SIGHUP);
        // t: everyone, TERM to mains, HUP to loggers and the catch-all logger.
        let t_set = KillSet { all: true, term_mains: true, term_loggers: false };
        assert_eq!(sent(t_set), [(11, term), (12, hup), (13, hup), (14, term)]);
        // q: TERM to everyone.
        let q_set = KillSet { all: true, term_mains: true, term_loggers: true };
        assert_eq!(sent(q_set), [(11, term), (12, term), (13, term), (14, term)]);
        // n: only the inactive one.
        let n_set = KillSet { all: false, term_mains: true, term_loggers: false };
        assert_eq!(sent(n_set), [(14, term)]);
        t.reaped(13);
        t.remove(s);
        assert!(!t.has_special());
    }
}
