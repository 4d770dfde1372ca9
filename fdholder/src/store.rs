//! The daemon's fd store: every held fd under its id, with its absolute expiry.
//!
//! Entries live in slots, listed in slot order as s6's storage lists them (a freed slot is
//! reused first, so a new id usually comes last); ids and limits are indexed. Limits are
//! unique: a limit equal to one already held is moved 1 ns later until it is not, so the
//! limit index is a plain ordered map, as s6's deadline tree is. The store never holds more
//! than its capacity; memory grows with what is held, never beyond it.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use s6rs_sys::tai::Tain;

/// One held fd.
#[derive(Debug)]
struct Held {
    id: Box<[u8]>,
    fd: OwnedFd,
    limit: Tain,
}

/// Why a store was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The store holds its capacity already (ENFILE).
    Full,
    /// The id is taken (EBUSY).
    Busy,
}

/// The held fds.
#[derive(Debug)]
pub struct Store {
    cap: usize,
    slots: Vec<Option<Held>>,
    free: Vec<usize>,
    by_id: HashMap<Box<[u8]>, usize>,
    by_limit: BTreeMap<Tain, usize>,
}

const ONE_NS: Duration = Duration::from_nanos(1);

impl Store {
    /// An empty store for at most `cap` fds.
    pub fn new(cap: usize) -> Store {
        Store { cap, slots: Vec::new(), free: Vec::new(), by_id: HashMap::new(), by_limit: BTreeMap::new() }
    }

    /// How many fds are held.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// How many more fds fit.
    pub fn room(&self) -> usize {
        self.cap - self.len()
    }

    /// Holds `fd` under a new id. On refusal the fd comes back (the caller closes it).
    pub fn insert(&mut self, id: &[u8], fd: OwnedFd, limit: Tain) -> Result<(), (Refused, OwnedFd)> {
        if self.len() >= self.cap {
            return Err((Refused::Full, fd));
        }
        if self.by_id.contains_key(id) {
            return Err((Refused::Busy, fd));
        }
        self.put(id, fd, limit);
        Ok(())
    }

    /// Holds `fd` under `id`, closing the fd held under it before (setdump). The caller
    /// has checked the room.
    pub fn replace(&mut self, id: &[u8], fd: OwnedFd, limit: Tain) {
        drop(self.remove(id));
        self.put(id, fd, limit);
    }

    fn put(&mut self, id: &[u8], fd: OwnedFd, mut limit: Tain) {
        while self.by_limit.contains_key(&limit) {
            limit = limit.add(ONE_NS);
        }
        let held = Held { id: id.into(), fd, limit };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s] = Some(held);
                s
            }
            None => {
                self.slots.push(Some(held));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id.into(), slot);
        self.by_limit.insert(limit, slot);
    }

    /// Forgets the fd held under `id` and hands it over.
    pub fn remove(&mut self, id: &[u8]) -> Option<OwnedFd> {
        let slot = self.by_id.remove(id)?;
        Some(self.take_slot(slot))
    }

    fn take_slot(&mut self, slot: usize) -> OwnedFd {
        let held = self.slots[slot].take().expect("indexed slot is full");
        self.by_limit.remove(&held.limit);
        self.by_id.remove(&held.id);
        self.free.push(slot);
        if self.is_empty() {
            // Nothing held: give the tables' memory back.
            *self = Store::new(self.cap);
        }
        held.fd
    }

    /// The fd held under `id`.
    pub fn get(&self, id: &[u8]) -> Option<BorrowedFd<'_>> {
        let slot = *self.by_id.get(id)?;
        self.slots[slot].as_ref().map(|h| h.fd.as_fd())
    }

    /// The limit of the fd held under `id`.
    pub fn limit(&self, id: &[u8]) -> Option<Tain> {
        let slot = *self.by_id.get(id)?;
        self.slots[slot].as_ref().map(|h| h.limit)
    }

    /// Every held fd, in slot order: id, fd, limit.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], BorrowedFd<'_>, Tain)> {
        self.slots.iter().flatten().map(|h| (&h.id[..], h.fd.as_fd(), h.limit))
    }

    /// The earliest limit held.
    pub fn next_limit(&self) -> Option<Tain> {
        self.by_limit.keys().next().copied()
    }

    /// Closes and forgets every fd whose limit is not after `now`; returns how many.
    pub fn expire(&mut self, now: Tain) -> usize {
        let mut n = 0;
        while let Some((&limit, &slot)) = self.by_limit.iter().next() {
            if limit > now {
                break;
            }
            drop(self.take_slot(slot));
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd() -> OwnedFd {
        s6rs_sys::fd::pipe().unwrap().0
    }

    fn t(sec: u64, nano: u32) -> Tain {
        Tain { sec, nano }
    }

    #[test]
    fn full_and_busy_refusals_give_the_fd_back() {
        let mut s = Store::new(2);
        s.insert(b"a", fd(), t(10, 0)).unwrap();
        assert_eq!(s.insert(b"a", fd(), t(10, 0)).unwrap_err().0, Refused::Busy);
        s.insert(b"b", fd(), t(10, 0)).unwrap();
        assert_eq!(s.insert(b"c", fd(), t(10, 0)).unwrap_err().0, Refused::Full);
        assert_eq!((s.len(), s.room()), (2, 0));
    }

    #[test]
    fn identical_limits_are_one_nanosecond_apart() {
        let mut s = Store::new(10);
        for id in [&b"a"[..], b"b", b"c"] {
            s.insert(id, fd(), t(10, 999_999_999)).unwrap();
        }
        assert_eq!(s.limit(b"a"), Some(t(10, 999_999_999)));
        assert_eq!(s.limit(b"b"), Some(t(11, 0)));
        assert_eq!(s.limit(b"c"), Some(t(11, 1)));
        // A freed limit can be taken again as it is.
        drop(s.remove(b"a"));
        s.insert(b"d", fd(), t(10, 999_999_999)).unwrap();
        assert_eq!(s.limit(b"d"), Some(t(10, 999_999_999)));
    }

    #[test]
    fn expiry_closes_in_limit_order_and_lists_in_slot_order() {
        let mut s = Store::new(10);
        s.insert(b"late", fd(), t(30, 0)).unwrap();
        s.insert(b"early", fd(), t(10, 0)).unwrap();
        s.insert(b"mid", fd(), t(20, 0)).unwrap();
        assert_eq!(s.next_limit(), Some(t(10, 0)));
        assert_eq!(s.expire(t(20, 0)), 2);
        let ids: Vec<&[u8]> = s.iter().map(|(id, _, _)| id).collect();
        assert_eq!(ids, [&b"late"[..]]);
        s.insert(b"new", fd(), t(40, 0)).unwrap();
        s.insert(b"newer", fd(), t(40, 0)).unwrap();
        let ids: Vec<&[u8]> = s.iter().map(|(id, _, _)| id).collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(s.expire(t(100, 0)), 3);
        assert!(s.is_empty() && s.next_limit().is_none());
    }

    #[test]
    fn replace_closes_the_old_fd() {
        let mut s = Store::new(3);
        let (r, w) = s6rs_sys::fd::pipe().unwrap();
        s.insert(b"x", w, t(5, 0)).unwrap();
        s.replace(b"x", fd(), t(6, 0));
        assert_eq!(s.len(), 1);
        assert_eq!(s.limit(b"x"), Some(t(6, 0)));
        // The write end is closed: the read end sees EOF.
        let mut b = [0u8; 1];
        assert_eq!(s6rs_sys::fd::read(r.as_fd(), &mut b).unwrap(), 0);
    }
}
