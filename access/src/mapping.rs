//! A whole regular file mapped read-only, as skalibs' `cdb_init` maps a cdb: a lookup then
//! costs the few pages it touches, whatever the size of the file, and nothing is copied.
//!
//! Opening never waits and never reads: the file is opened with `O_NONBLOCK` (a FIFO would
//! otherwise block the open until a writer comes) and checked with `fstat` before it is
//! mapped, so a FIFO, a device (`/dev/zero`) or a file too big for a cdb is an error at once.
//!
//! # Truncation under a mapping
//!
//! A mapped file that is shrunk in place (`cp new.cdb rules.cdb` truncates, then writes)
//! loses the pages past its new end, and reading them raises SIGBUS, which would kill the
//! whole process. s6's tools replace a cdb by `rename` (a new inode: the old mapping stays
//! valid), and a long-lived reader notices a changed file by its [`FileId`] before each
//! use; what is left is a truncation during the microseconds of one lookup, or during the
//! verification of a freshly mapped file. A program that keeps mappings (s6-ipcserverd's
//! in-process check) or that wants a log line rather than a crash installs [`guard`]: a
//! SIGBUS inside the armed mapping replaces the vanished pages with zero pages, so the read
//! completes, and the caller learns from [`Armed::hit`] that what it read is void and
//! starts again from a fresh mapping. This is the one place where code runs in signal
//! context: a fault is synchronous, so it cannot wait in the signalfd like other signals
//! (a blocked SIGBUS from a fault kills the process).

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::ptr::NonNull;

/// One version of a file: its identity and what changes when it is written. A file
/// replaced by `rename` has another inode (the old one cannot be reused while it is still
/// mapped); one rewritten in place has another size, mtime or ctime (nanoseconds, so only
/// two writes within one tick of the kernel's file clock, keeping the size, look alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    /// The version `md` describes.
    pub fn of(md: &std::fs::Metadata) -> FileId {
        FileId {
            dev: md.dev(),
            ino: md.ino(),
            size: md.size(),
            mtime: (md.mtime(), md.mtime_nsec()),
            ctime: (md.ctime(), md.ctime_nsec()),
        }
    }

    /// The version of the file `path` names now (following symlinks, as opening does).
    pub fn stat(path: &Path) -> io::Result<FileId> {
        std::fs::metadata(path).map(|md| FileId::of(&md))
    }
}

fn err(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

/// A read-only shared mapping of a whole regular file, unmapped at drop.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    id: FileId,
}

impl Mapping {
    /// Maps the file `path`. Errors, without waiting or reading: EISDIR for a directory,
    /// EINVAL for anything else that is not a regular file and for an empty file (what
    /// skalibs' `cdb_init` says of a FIFO or a device: their size is 0), EOVERFLOW for a
    /// file longer than `max` bytes.
    pub fn open(path: &Path, max: u64) -> io::Result<Mapping> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)?;
        let md = file.metadata()?;
        if md.is_dir() {
            return Err(err(libc::EISDIR));
        }
        if !md.file_type().is_file() || md.len() == 0 {
            return Err(err(libc::EINVAL));
        }
        if md.len() > max || md.len() > isize::MAX as u64 {
            return Err(err(libc::EOVERFLOW));
        }
        let len = md.len() as usize;
        // SAFETY: a new read-only shared mapping of `len` bytes of an open regular file, at
        // an address the kernel chooses: it overlaps nothing of ours. The fd may be closed
        // once mapped.
        let p = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0)
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or_else(|| err(libc::EINVAL))?;
        Ok(Mapping { ptr, len, id: FileId::of(&md) })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes until drop. Another process may change
        // the file under the mapping: the bytes may then change while borrowed, which can
        // only give wrong answers (every reader bounds-checks against `len`), and a
        // truncation faults, which is what `guard` is for.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The version of the file that was mapped.
    pub fn id(&self) -> FileId {
        self.id
    }

    /// Arms [`guard`] over this mapping until the returned value is dropped (nothing
    /// happens unless the guard is installed).
    pub fn arm(&self) -> Armed<'_> {
        guard::arm(self)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: exactly the range mmap returned, unmapped once; no borrow of it outlives
        // `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// The guard armed over one mapping (see [`Mapping::arm`]); disarmed at drop.
#[derive(Debug)]
pub struct Armed<'a> {
    _map: &'a Mapping,
    armed: bool,
}

impl Armed<'_> {
    /// Whether the file shrank under the mapping since it was armed: what was read from it
    /// is void (zero pages stand where the file's pages were).
    pub fn hit(&self) -> bool {
        self.armed && guard::HIT.get()
    }
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        if self.armed {
            guard::disarm();
        }
    }
}

/// The SIGBUS guard. A fault is delivered to the thread that made it, so the armed range
/// is per thread: each thread reads one database at a time.
pub mod guard {
    use std::cell::Cell;
    use std::io;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

    use super::{Armed, Mapping};

    static INSTALLED: AtomicBool = AtomicBool::new(false);
    static PAGE: AtomicUsize = AtomicUsize::new(4096);

    // Const-initialised cells without destructors: reading them is a plain thread-local
    // load, which is safe in a signal handler.
    thread_local! {
        static START: Cell<usize> = const { Cell::new(0) };
        static END: Cell<usize> = const { Cell::new(0) };
        pub(super) static HIT: Cell<bool> = const { Cell::new(false) };
    }

    /// Installs the SIGBUS handler (once per process; again is harmless). A fault outside
    /// an armed mapping still kills the process, as it would have without the handler.
    pub fn install() -> io::Result<()> {
        use nix::unistd::{sysconf, SysconfVar};
        if let Ok(Some(page)) = sysconf(SysconfVar::PAGE_SIZE) {
            PAGE.store(page as usize, SeqCst);
        }
        // SAFETY: the handler only does async-signal-safe work (thread-local loads and
        // stores, mmap, sigaction, lock-free atomics).
        unsafe { s6rs_sys::sig::catch_with_info(libc::SIGBUS, on_sigbus) }?;
        INSTALLED.store(true, SeqCst);
        Ok(())
    }

    pub(super) fn arm(map: &Mapping) -> Armed<'_> {
        let armed = INSTALLED.load(SeqCst);
        if armed {
            let page = PAGE.load(SeqCst);
            let start = map.ptr.as_ptr() as usize;
            // The mapping covers whole pages: past the file's last byte up to the page end.
            let end = start + map.len.div_ceil(page) * page;
            HIT.set(false);
            END.set(end);
            START.set(start);
        }
        Armed { _map: map, armed }
    }

    pub(super) fn disarm() {
        START.set(0);
        END.set(0);
    }

    extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
        // SAFETY: the kernel hands an SA_SIGINFO handler a valid siginfo_t; for SIGBUS
        // si_addr is the faulting address.
        let addr = unsafe { (*info).si_addr() } as usize;
        let (start, end) = (START.get(), END.get());
        if start != 0 && addr >= start && addr < end {
            let page = addr & !(PAGE.load(SeqCst) - 1);
            // SAFETY: [page, end) lies inside the mapping this thread armed, which its
            // owner keeps mapped while armed; zero pages replace the file's vanished ones
            // so the faulting read completes (and reads zeros).
            let p = unsafe {
                libc::mmap(
                    page as *mut libc::c_void,
                    end - page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                HIT.set(true);
                return;
            }
        }
        // Not ours (or no memory for zero pages): back to the default action; returning
        // re-runs the faulting access, which then ends the process as if we were not here.
        // (A sigaction and lock-free atomics: async-signal-safe.)
        let _ = s6rs_sys::sig::default(libc::SIGBUS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn tmp(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("s6rs-mapping-{}-{tag}", std::process::id()))
    }

    #[test]
    fn refuses_what_is_not_a_regular_file_without_waiting() {
        let fifo = tmp("fifo");
        let _ = std::fs::remove_file(&fifo);
        s6rs_sys::fd::mkfifo(&fifo, 0o600).unwrap();
        // A blocking open of a FIFO with no writer would never return.
        assert_eq!(Mapping::open(&fifo, u64::MAX).unwrap_err().raw_os_error(), Some(libc::EINVAL));
        std::fs::remove_file(&fifo).unwrap();
        let e = |p: &str| Mapping::open(Path::new(p), u64::MAX).unwrap_err().raw_os_error();
        assert_eq!(e("/dev/zero"), Some(libc::EINVAL));
        assert_eq!(e("/dev/null"), Some(libc::EINVAL));
        assert_eq!(e("/"), Some(libc::EISDIR));
        let big = tmp("sparse");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(5 << 30).unwrap();
        assert_eq!(Mapping::open(&big, u32::MAX.into()).unwrap_err().raw_os_error(), Some(libc::EOVERFLOW));
        std::fs::remove_file(&big).unwrap();
    }

    #[test]
    fn maps_and_identifies_the_file() {
        let p = tmp("plain");
        std::fs::write(&p, b"hello").unwrap();
        let m = Mapping::open(&p, u64::MAX).unwrap();
        assert_eq!(m.bytes(), b"hello");
        assert_eq!(m.id(), FileId::stat(&p).unwrap());
        // Replaced by rename: another version, and the old mapping still reads the old file.
        let q = tmp("plain-new");
        std::fs::write(&q, b"world").unwrap();
        std::fs::rename(&q, &p).unwrap();
        assert_ne!(m.id(), FileId::stat(&p).unwrap());
        assert_eq!(m.bytes(), b"hello");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn guard_turns_a_truncation_under_the_mapping_into_a_hit() {
        let p = tmp("trunc");
        std::fs::write(&p, vec![7u8; 3 * 4096 + 5]).unwrap();
        let m = Mapping::open(&p, u64::MAX).unwrap();
        guard::install().unwrap();
        {
            let armed = m.arm();
            assert_eq!(m.bytes()[4096 * 2], 7);
            assert!(!armed.hit());
            // cp over the file: truncated in place, then shorter contents.
            std::fs::write(&p, b"x").unwrap();
            // Without the guard this read raises SIGBUS and ends the test binary.
            let tail = m.bytes()[4096 * 2];
            assert!(armed.hit());
            assert_eq!(tail, 0);
        }
        // Disarmed: the mapping still exists (and is unmapped at drop without trouble).
        drop(m);
        std::fs::remove_file(&p).unwrap();
    }
}
