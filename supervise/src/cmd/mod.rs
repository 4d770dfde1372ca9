//! One module per program: `run(args) -> Result<exit code, Fatal>`.

pub mod background_watch;
pub mod envdir;
pub mod fghack;
pub mod setlock;
pub mod setsid;
pub mod softlimit;
pub mod svok;
