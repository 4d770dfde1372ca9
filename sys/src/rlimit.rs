//! Process resource limits (`getrlimit`/`setrlimit`), as s6-softlimit sets them.

use std::io;

use nix::sys::resource::{getrlimit, setrlimit, Resource as Raw};

/// One kind of resource (`RLIMIT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource(Raw);

/// Address space (`RLIMIT_AS`).
pub const AS: Resource = Resource(Raw::RLIMIT_AS);
/// Core file size.
pub const CORE: Resource = Resource(Raw::RLIMIT_CORE);
/// CPU time, in seconds.
pub const CPU: Resource = Resource(Raw::RLIMIT_CPU);
/// Data segment (heap).
pub const DATA: Resource = Resource(Raw::RLIMIT_DATA);
/// Size of files written.
pub const FSIZE: Resource = Resource(Raw::RLIMIT_FSIZE);
/// Locked memory.
pub const MEMLOCK: Resource = Resource(Raw::RLIMIT_MEMLOCK);
/// Open file descriptors.
pub const NOFILE: Resource = Resource(Raw::RLIMIT_NOFILE);
/// Processes (threads) per user.
pub const NPROC: Resource = Resource(Raw::RLIMIT_NPROC);
/// Resident set size.
pub const RSS: Resource = Resource(Raw::RLIMIT_RSS);
/// Real-time scheduling priority.
pub const RTPRIO: Resource = Resource(Raw::RLIMIT_RTPRIO);
/// Stack size.
pub const STACK: Resource = Resource(Raw::RLIMIT_STACK);

/// "No limit".
pub const INFINITY: u64 = u64::MAX;

/// A soft and a hard limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The limit the kernel enforces (`rlim_cur`).
    pub soft: u64,
    /// The ceiling an unprivileged process may raise the soft limit to (`rlim_max`).
    pub hard: u64,
}

// rlim_t is 64 bits wide on every Linux target this builds for; where it is narrower, values
// beyond it mean "no limit".
#[allow(clippy::useless_conversion)] // identity where rlim_t is u64
fn widen(v: libc::rlim_t) -> u64 {
    if v == libc::RLIM_INFINITY {
        INFINITY
    } else {
        u64::from(v)
    }
}

fn narrow(v: u64) -> libc::rlim_t {
    libc::rlim_t::try_from(v).unwrap_or(libc::RLIM_INFINITY)
}

/// The current limits of `res`.
pub fn get(res: Resource) -> io::Result<Limit> {
    let (soft, hard) = getrlimit(res.0)?;
    Ok(Limit { soft: widen(soft), hard: widen(hard) })
}

/// Sets the limits of `res`.
pub fn set(res: Resource, lim: Limit) -> io::Result<()> {
    Ok(setrlimit(res.0, narrow(lim.soft), narrow(lim.hard))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowering_the_soft_limit_round_trips() {
        let old = get(CORE).unwrap();
        let want = Limit { soft: 0, hard: old.hard };
        set(CORE, want).unwrap();
        assert_eq!(get(CORE).unwrap(), want);
        set(CORE, old).unwrap();
        let bad = Limit { soft: old.hard.saturating_add(1).max(1), hard: 0 };
        assert_eq!(set(CORE, bad).unwrap_err().raw_os_error(), Some(libc::EINVAL));
    }
}
