//! Absolute monotonic deadlines, so that retries and wake-ups never stretch a wait.

use std::time::{Duration, Instant};

/// An absolute point on the monotonic clock, or "never".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Deadline {
    /// A point in time.
    At(Instant),
    /// No deadline: wait forever.
    Never,
}

impl Deadline {
    /// A deadline `ms` milliseconds from now; 0 means never, as s6 timeouts do.
    pub fn from_ms(ms: u64) -> Deadline {
        if ms == 0 {
            Deadline::Never
        } else {
            Deadline::At(Instant::now() + Duration::from_millis(ms))
        }
    }

    /// A deadline `d` from now.
    pub fn after(d: Duration) -> Deadline {
        Deadline::At(Instant::now() + d)
    }

    /// Time left, `None` for never; zero once passed.
    pub fn remaining(self) -> Option<Duration> {
        match self {
            Deadline::At(t) => Some(t.saturating_duration_since(Instant::now())),
            Deadline::Never => None,
        }
    }

    /// Whether the deadline has passed.
    pub fn passed(self) -> bool {
        matches!(self, Deadline::At(t) if Instant::now() >= t)
    }

    /// The earlier of two deadlines.
    pub fn min(self, other: Deadline) -> Deadline {
        std::cmp::min(self, other)
    }

    /// Remaining time in milliseconds for `poll(2)`: -1 for never, rounded up otherwise.
    pub(crate) fn poll_ms(self) -> i32 {
        match self.remaining() {
            None => -1,
            Some(d) => {
                let ms = d.as_nanos().div_ceil(1_000_000);
                ms.min(i32::MAX as u128) as i32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_never_and_ordering() {
        assert_eq!(Deadline::from_ms(0), Deadline::Never);
        let soon = Deadline::from_ms(10);
        assert!(soon < Deadline::Never);
        assert_eq!(soon.min(Deadline::Never), soon);
        assert_eq!(Deadline::Never.poll_ms(), -1);
        assert!(soon.poll_ms() <= 10);
        assert!(!Deadline::Never.passed());
        assert!(Deadline::At(Instant::now()).passed());
    }
}
