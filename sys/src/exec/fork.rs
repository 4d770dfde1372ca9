//! Forking to run our own code in the child (not a program: see [`super::Command`] for
//! that): `fork` and skalibs' `doublefork`, refused in multi-threaded processes.

use std::io;
use std::os::fd::AsFd;

use super::wait::wait;

/// Which side of a fork we are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fork {
    /// The original process; the pid is the new child's (the grandchild's after
    /// [`doublefork`]).
    Parent(i32),
    /// The new process.
    Child,
}

/// How many threads this process runs, from `/proc/self/stat` (`None` if unreadable).
fn thread_count() -> Option<u64> {
    let stat = std::fs::read("/proc/self/stat").ok()?;
    // Field 20, counted after the parenthesised command name (which may hold spaces).
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    rest.split_ascii_whitespace().nth(17)?.parse().ok()
}

/// `fork(2)`. Refused (EAGAIN) when the process runs more than one thread: the child of a
/// multi-threaded parent may find locks (malloc's, stdio's) held forever by threads that do
/// not exist in it. s6 programs fork only while single-threaded, before any helper thread.
pub fn fork() -> io::Result<Fork> {
    if thread_count().is_some_and(|n| n > 1) {
        return Err(io::Error::from_raw_os_error(libc::EAGAIN));
    }
    // SAFETY: the process is single-threaded (checked above), so the child gets a consistent
    // copy of every lock and allocator state and may run ordinary Rust code.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Fork::Child),
        pid => Ok(Fork::Parent(pid)),
    }
}

/// skalibs `doublefork`: the caller continues as the grandchild (`Child`), or as the
/// original process with the grandchild's pid (`Parent`). The intermediate child is reaped
/// here, so the grandchild is reparented to the nearest subreaper and the parent never
/// has to wait for it.
pub fn doublefork() -> io::Result<Fork> {
    let (r, w) = crate::fd::pipe()?;
    match fork()? {
        Fork::Child => {
            drop(r);
            match fork() {
                Ok(Fork::Child) => {
                    drop(w);
                    Ok(Fork::Child)
                }
                Ok(Fork::Parent(pid)) => {
                    let _ = crate::fd::write_all(w.as_fd(), &pid.to_ne_bytes());
                    // SAFETY: _exit ends the intermediate process without running Rust or
                    // libc exit handlers, which belong to the original process.
                    unsafe { libc::_exit(0) }
                }
                // SAFETY: as above; the parent reads EOF and reports the failure.
                Err(_) => unsafe { libc::_exit(111) },
            }
        }
        Fork::Parent(mid) => {
            drop(w);
            let mut buf = [0u8; 4];
            let mut got = 0;
            while got < buf.len() {
                match crate::fd::read(r.as_fd(), &mut buf[got..])? {
                    0 => break,
                    n => got += n,
                }
            }
            wait(mid)?;
            if got < buf.len() {
                return Err(io::Error::from_raw_os_error(libc::EAGAIN));
            }
            Ok(Fork::Parent(i32::from_ne_bytes(buf)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_count_reads_proc() {
        assert!(thread_count().is_some_and(|n| n >= 1));
    }

    #[test]
    fn fork_is_refused_when_multithreaded() {
        // The test harness runs tests on several threads (and its main thread waits), so a
        // fork here must be refused rather than risk a child with a stuck allocator lock.
        let helper = std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_millis(200)));
        let err = fork().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EAGAIN));
        helper.join().unwrap();
    }
}
