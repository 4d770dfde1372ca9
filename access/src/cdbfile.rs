//! The constant database file format (djb's cdb, as skalibs reads and writes it).
//!
//! Layout: a 2048-byte header of 256 × (`u32 LE pos`, `u32 LE slots`), the records
//! (`u32 LE keylen`, `u32 LE datalen`, key, data) from offset 2048, then 256 hash tables of
//! `slots` × (`u32 LE hash`, `u32 LE record pos`). A key hashes with
//! `h = 5381; h = (h * 33) ^ byte`; table `h & 255`, first slot `(h >> 8) % slots`, linear
//! probing, an empty slot (pos 0) ends the search.
//!
//! The writer reproduces skalibs `cdbmake` byte for byte (each table has twice as many slots
//! as keys, keys are placed in insertion order), so the same records added in the same order
//! give the same file as real s6. The reader maps the file (as skalibs' `cdb_init` does),
//! so a lookup costs the same in a 2 kB file and in a 1 GB one, and it checks every offset
//! against the file: a truncated or corrupt file gives an error (EINVAL), never a panic nor
//! a wrong answer read from outside the file.

use std::io;
use std::path::Path;

use crate::mapping::{Armed, FileId, Mapping};

/// Size of the header: 256 table pointers of 8 bytes.
pub const HEADER: usize = 2048;

/// The cdb hash of `key`.
pub fn hash(key: &[u8]) -> u32 {
    key.iter().fold(5381u32, |h, &b| h.wrapping_add(h << 5) ^ u32::from(b))
}

fn corrupt() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

fn too_big() -> io::Error {
    io::Error::from_raw_os_error(libc::EOVERFLOW)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Where a cdb's bytes are.
#[derive(Debug)]
enum Store {
    Mapped(Mapping),
    Owned(Vec<u8>),
}

/// A cdb file, mapped, or held in memory.
#[derive(Debug)]
pub struct Cdb {
    store: Store,
}

impl Cdb {
    /// Maps the file at `path` (skalibs `cdb_init`), without reading it and without ever
    /// waiting: a directory is EISDIR; a FIFO, a device or an empty file EINVAL (as
    /// `cdb_init` says: they have no size to map); a file past 4 GiB, which a cdb cannot
    /// address, EOVERFLOW. A short or corrupt file is accepted here and reported by
    /// [`Cdb::check_layout`], [`Cdb::verify`] or the lookups that reach its damaged parts.
    pub fn open(path: &Path) -> io::Result<Cdb> {
        Ok(Cdb { store: Store::Mapped(Mapping::open(path, u64::from(u32::MAX))?) })
    }

    /// A cdb from its bytes.
    pub fn from_bytes(map: Vec<u8>) -> Cdb {
        Cdb { store: Store::Owned(map) }
    }

    /// The file's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.store {
            Store::Mapped(m) => m.bytes(),
            Store::Owned(v) => v,
        }
    }

    /// The version of the file that was mapped (`None` for a cdb built from bytes).
    pub fn file_id(&self) -> Option<FileId> {
        match &self.store {
            Store::Mapped(m) => Some(m.id()),
            Store::Owned(_) => None,
        }
    }

    /// Arms the SIGBUS guard over the mapping while the result lives (see
    /// [`crate::mapping`]); `None` for a cdb built from bytes, which nothing can shrink.
    pub fn arm(&self) -> Option<Armed<'_>> {
        match &self.store {
            Store::Mapped(m) => Some(m.arm()),
            Store::Owned(_) => None,
        }
    }

    /// `len` bytes at `pos`, or an error if they are not all inside the file (skalibs `cdb_p`).
    fn at(&self, pos: u32, len: u32) -> io::Result<&[u8]> {
        let map = self.as_bytes();
        let (pos, len) = (pos as usize, len as usize);
        if pos <= map.len() && len <= map.len() - pos {
            Ok(&map[pos..pos + len])
        } else {
            Err(corrupt())
        }
    }

    /// Checks the header against the file's length, in constant time: the whole header is
    /// there and every hash table starts after it and ends inside the file. The tables come
    /// after the records and the last one ends the file, so a file cut short anywhere fails
    /// this (EINVAL), even when the part a lookup needs survived the cut.
    pub fn check_layout(&self) -> io::Result<()> {
        self.tables().map(|_| ())
    }

    /// The header's 256 (position, slot count) pairs, once [`Cdb::check_layout`]'s checks
    /// pass.
    fn tables(&self) -> io::Result<[(u32, u32); 256]> {
        let len = self.as_bytes().len() as u64;
        let head = self.at(0, HEADER as u32)?;
        let mut tables = [(0, 0); 256];
        for (i, t) in tables.iter_mut().enumerate() {
            let (hpos, hslots) = (u32_at(head, i * 8), u32_at(head, i * 8 + 4));
            if u64::from(hpos) < HEADER as u64 || u64::from(hpos) + 8 * u64::from(hslots) > len {
                return Err(corrupt());
            }
            *t = (hpos, hslots);
        }
        Ok(tables)
    }

    /// The data of the first record whose key is `key`, `None` if there is none.
    pub fn find(&self, key: &[u8]) -> io::Result<Option<&[u8]>> {
        let klen = u32::try_from(key.len()).map_err(|_| corrupt())?;
        let h = hash(key);
        let head = self.at((h << 3) & 2047, 8)?;
        let (hpos, hslots) = (u32_at(head, 0), u32_at(head, 4));
        if hslots == 0 {
            return Ok(None);
        }
        // Offsets wrap as the C reader's u32 arithmetic does; `at` catches what falls outside.
        let end = hpos.wrapping_add(hslots.wrapping_shl(3));
        let mut kpos = hpos.wrapping_add(((h >> 8) % hslots).wrapping_shl(3));
        // A walk that stays inside the file repeats itself after at most len/8 slots (a
        // corrupt `hslots` of 2^29 and more wraps the table onto itself): stop there, with
        // the answer the full walk would give, instead of spinning up to 2^32 times.
        for _ in 0..hslots.min((self.as_bytes().len() / 8 + 1) as u32) {
            let slot = self.at(kpos, 8)?;
            let (shash, pos) = (u32_at(slot, 0), u32_at(slot, 4));
            if pos == 0 {
                return Ok(None);
            }
            kpos = kpos.wrapping_add(8);
            if kpos == end {
                kpos = hpos;
            }
            if shash != h {
                continue;
            }
            let rec = self.at(pos, 8)?;
            if u32_at(rec, 0) != klen {
                continue;
            }
            let kstart = pos.checked_add(8).ok_or_else(corrupt)?;
            if self.at(kstart, klen)? == key {
                let dstart = kstart.checked_add(klen).ok_or_else(corrupt)?;
                return self.at(dstart, u32_at(rec, 4)).map(Some);
            }
        }
        Ok(None)
    }

    /// Checks the whole structure: a full header, every hash table inside the file, every
    /// slot pointing at a record that lies inside the file and whose key has the slot's
    /// hash and table, and the records tiling the space between the header and the first
    /// table exactly. A file cut short anywhere fails this (EINVAL), so a reader that checks
    /// first never answers from a partial database. s6's reader does not check; files it
    /// writes always pass.
    pub fn verify(&self) -> io::Result<()> {
        let len = self.as_bytes().len() as u64;
        let tables = self.tables()?;
        for (i, &(hpos, hslots)) in tables.iter().enumerate() {
            for s in 0..hslots {
                let slot = self.at(hpos + 8 * s, 8)?;
                let (h, pos) = (u32_at(slot, 0), u32_at(slot, 4));
                if pos == 0 {
                    continue;
                }
                let rec = self.at(pos, 8)?;
                let klen = u32_at(rec, 0);
                let key = self.at(pos.checked_add(8).ok_or_else(corrupt)?, klen)?;
                let dstart = (pos as u64) + 8 + u64::from(klen);
                if dstart + u64::from(u32_at(rec, 4)) > len || hash(key) != h || (h & 255) as usize != i {
                    return Err(corrupt());
                }
            }
        }
        // The records end where the first table starts.
        let eod = u64::from(tables[0].0);
        let mut pos = HEADER as u64;
        while pos < eod {
            let rec = self.at(pos as u32, 8)?;
            pos += 8 + u64::from(u32_at(rec, 0)) + u64::from(u32_at(rec, 4));
        }
        if pos != eod {
            return Err(corrupt());
        }
        Ok(())
    }

    /// Every record in file order, as skalibs `cdb_traverse_next` walks them.
    pub fn records(&self) -> Records<'_> {
        Records { cdb: self, pos: HEADER as u32, done: false }
    }
}

/// Iterator over the records of a [`Cdb`]: `(key, data)`, or one error then the end.
#[derive(Debug)]
pub struct Records<'a> {
    cdb: &'a Cdb,
    pos: u32,
    done: bool,
}

impl<'a> Records<'a> {
    fn step(&mut self) -> io::Result<Option<(&'a [u8], &'a [u8])>> {
        let cdb: &'a Cdb = self.cdb;
        // The end of the records is where the first hash table starts.
        let eod = u32_at(cdb.at(0, 4)?, 0);
        if eod < 8 || eod - 8 < self.pos {
            return Ok(None);
        }
        let rec = cdb.at(self.pos, 8)?;
        let (klen, dlen) = (u32_at(rec, 0), u32_at(rec, 4));
        let kstart = self.pos.checked_add(8).ok_or_else(corrupt)?;
        let key = cdb.at(kstart, klen)?;
        let dstart = kstart.checked_add(klen).ok_or_else(corrupt)?;
        let data = cdb.at(dstart, dlen)?;
        self.pos = dstart.checked_add(dlen).ok_or_else(corrupt)?;
        Ok(Some((key, data)))
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = io::Result<(&'a [u8], &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let res = self.step().transpose();
        if !matches!(res, Some(Ok(_))) {
            self.done = true;
        }
        res
    }
}

/// Builds a cdb in memory, as skalibs `cdbmake` writes it.
#[derive(Debug, Clone)]
pub struct Writer {
    out: Vec<u8>,
    /// (hash, record position) of every record, in insertion order.
    entries: Vec<(u32, u32)>,
}

impl Default for Writer {
    fn default() -> Writer {
        Writer::new()
    }
}

impl Writer {
    /// An empty database.
    pub fn new() -> Writer {
        Writer { out: vec![0; HEADER], entries: Vec::new() }
    }

    /// Adds one record. Fails with EOVERFLOW if the file would pass 4 GiB.
    pub fn add(&mut self, key: &[u8], data: &[u8]) -> io::Result<()> {
        let pos = self.out.len();
        let total = pos + 8 + key.len() + data.len();
        if total > u32::MAX as usize {
            return Err(too_big());
        }
        self.out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.out.extend_from_slice(key);
        self.out.extend_from_slice(data);
        self.entries.push((hash(key), pos as u32));
        Ok(())
    }

    /// The finished file: the records, the 256 hash tables, and the header pointing at them.
    pub fn finish(mut self) -> io::Result<Vec<u8>> {
        let tables_size = 8 * 2 * self.entries.len();
        if self.out.len() + tables_size > u32::MAX as usize {
            return Err(too_big());
        }
        let mut buckets: Vec<Vec<(u32, u32)>> = vec![Vec::new(); 256];
        for &e in &self.entries {
            buckets[(e.0 & 255) as usize].push(e);
        }
        let mut header = [0u8; HEADER];
        let mut slots: Vec<(u32, u32)> = Vec::new();
        for (i, bucket) in buckets.iter().enumerate() {
            let len = 2 * bucket.len() as u32;
            header[i * 8..i * 8 + 4].copy_from_slice(&(self.out.len() as u32).to_le_bytes());
            header[i * 8 + 4..i * 8 + 8].copy_from_slice(&len.to_le_bytes());
            slots.clear();
            slots.resize(len as usize, (0, 0));
            for &(h, pos) in bucket {
                let mut at = ((h >> 8) % len) as usize;
                while slots[at].1 != 0 {
                    at = (at + 1) % len as usize;
                }
                slots[at] = (h, pos);
            }
            for &(h, pos) in &slots {
                self.out.extend_from_slice(&h.to_le_bytes());
                self.out.extend_from_slice(&pos.to_le_bytes());
            }
        }
        self.out[..HEADER].copy_from_slice(&header);
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(recs: &[(&[u8], &[u8])]) -> Cdb {
        let mut w = Writer::new();
        for (k, d) in recs {
            w.add(k, d).unwrap();
        }
        Cdb::from_bytes(w.finish().unwrap())
    }

    #[test]
    fn hash_is_djb() {
        assert_eq!(hash(b""), 5381);
        // 5381 * 33 ^ 'a'
        assert_eq!(hash(b"a"), (5381u32 * 33) ^ 0x61);
    }

    #[test]
    fn empty_database_is_header_only() {
        let bytes = Writer::new().finish().unwrap();
        assert_eq!(bytes.len(), HEADER);
        // Every table points just after the (absent) records, with no slots.
        for i in 0..256 {
            assert_eq!(u32_at(&bytes, i * 8), 2048);
            assert_eq!(u32_at(&bytes, i * 8 + 4), 0);
        }
        let c = Cdb::from_bytes(bytes);
        assert_eq!(c.find(b"x").unwrap(), None);
        assert_eq!(c.records().count(), 0);
    }

    #[test]
    fn find_and_traverse() {
        let many: Vec<(Vec<u8>, Vec<u8>)> =
            (0..600).map(|i| (format!("uid/{i}").into_bytes(), format!("v{i}").into_bytes())).collect();
        let recs: Vec<(&[u8], &[u8])> = many.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        let c = build(&recs);
        for (k, v) in &many {
            assert_eq!(c.find(k).unwrap(), Some(&v[..]));
        }
        assert_eq!(c.find(b"uid/600").unwrap(), None);
        let all: Vec<_> = c.records().map(|r| r.unwrap()).collect();
        assert_eq!(all, recs);
    }

    #[test]
    fn first_of_duplicate_keys() {
        let c = build(&[(b"k", b"one"), (b"k", b"two")]);
        assert_eq!(c.find(b"k").unwrap(), Some(&b"one"[..]));
    }

    #[test]
    fn truncations_are_errors_not_panics() {
        let c = three();
        let full = c.as_bytes().to_vec();
        for cut in 1..full.len() {
            let t = Cdb::from_bytes(full[..cut].to_vec());
            for key in [&b"uid/0"[..], b"uid/1000", b"gid/100", b"nope"] {
                match t.find(key) {
                    // Either the lookup never touched the missing part, or it says so.
                    Ok(found) => assert_eq!(found, c.find(key).unwrap(), "cut {cut}"),
                    Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EINVAL)),
                }
            }
            let _ = t.records().collect::<Vec<_>>();
        }
    }

    /// A small database with three records, the truncation tests' subject.
    fn three() -> Cdb {
        build(&[(b"uid/0", b"A\0\0\0\0"), (b"uid/1000", b"D"), (b"gid/100", b"D")])
    }

    /// `check` accepts [`three`] and the empty database, with trailing bytes too (s6 ignores
    /// them), and refuses every truncation of [`three`].
    fn catches_every_truncation(check: impl Fn(&Cdb) -> io::Result<()>) {
        let c = three();
        check(&c).unwrap();
        check(&Cdb::from_bytes(Writer::new().finish().unwrap())).unwrap();
        let full = c.as_bytes().to_vec();
        for cut in 0..full.len() {
            assert!(check(&Cdb::from_bytes(full[..cut].to_vec())).is_err(), "cut {cut}");
        }
        let mut extra = full;
        extra.extend_from_slice(b"trailing");
        check(&Cdb::from_bytes(extra)).unwrap();
    }

    #[test]
    fn verify_catches_every_truncation() {
        catches_every_truncation(Cdb::verify);
        // A key byte changed: its slot's hash no longer matches.
        let mut bad = three().as_bytes().to_vec();
        bad[2048 + 8] ^= 1;
        assert!(Cdb::from_bytes(bad).verify().is_err());
    }

    #[test]
    fn garbage_is_an_error_or_a_miss() {
        let mut seed = 0x1234_5678u32;
        for _ in 0..200 {
            let mut g = vec![0u8; 2100];
            for b in g.iter_mut() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *b = (seed >> 16) as u8;
            }
            let c = Cdb::from_bytes(g);
            let _ = c.find(b"uid/0");
            let _ = c.records().take(10).collect::<Vec<_>>();
            assert!(c.verify().is_err());
            assert!(c.check_layout().is_err());
        }
    }

    #[test]
    fn find_in_a_table_wrapping_onto_itself_is_bounded() {
        // Found while writing the access_cdb fuzz target (by reading the probe loop; the
        // crafted input is in its corpus): table 5, the empty key's, claims 2^29 + 22 slots,
        // so 8 * slots wraps to 176 bytes and the probe cycles over 22 in-file slots that
        // never match; the lookup took 2^29 steps (about 10 s) before saying "not found".
        let mut b = vec![0u8; HEADER];
        b.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0, b'D']);
        let hpos = b.len() as u32;
        for _ in 0..22 {
            b.extend_from_slice(&(hash(b"") ^ 0x100).to_le_bytes());
            b.extend_from_slice(&(HEADER as u32).to_le_bytes());
        }
        for i in 0..256 {
            let slots: u32 = if i == 5 { (1 << 29) + 22 } else { 0 };
            b[i * 8..i * 8 + 4].copy_from_slice(&hpos.to_le_bytes());
            b[i * 8 + 4..i * 8 + 8].copy_from_slice(&slots.to_le_bytes());
        }
        let c = Cdb::from_bytes(b);
        let start = std::time::Instant::now();
        assert_eq!(c.find(b"").unwrap(), None);
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn empty_file_is_einval() {
        let p = std::env::temp_dir().join(format!("s6rs-cdb-empty-{}", std::process::id()));
        std::fs::write(&p, b"").unwrap();
        assert_eq!(Cdb::open(&p).unwrap_err().raw_os_error(), Some(libc::EINVAL));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn mapped_file_reads_like_bytes() {
        let c = build(&[(b"uid/0", b"A\0\0\0\0"), (b"uid/1000", b"D")]);
        let p = std::env::temp_dir().join(format!("s6rs-cdb-mapped-{}", std::process::id()));
        std::fs::write(&p, c.as_bytes()).unwrap();
        let m = Cdb::open(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        m.check_layout().unwrap();
        m.verify().unwrap();
        assert_eq!(m.find(b"uid/1000").unwrap(), Some(&b"D"[..]));
        assert_eq!(m.as_bytes(), c.as_bytes());
        assert!(m.file_id().is_some() && c.file_id().is_none());
    }

    #[test]
    fn layout_check_catches_every_truncation() {
        catches_every_truncation(Cdb::check_layout);
    }
}
