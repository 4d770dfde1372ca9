//! One module per program: `run(args) -> Result<exit code, Fatal>`.

pub mod background_watch;
pub mod envdir;
pub mod fghack;
pub mod permafailon;
pub mod setlock;
pub mod setsid;
pub mod softlimit;
pub mod supervise;
pub mod svc;
pub mod svdt;
pub mod svdt_clear;
pub mod svlink;
pub mod svok;
pub mod svperms;
pub mod svscan;
pub mod svscanctl;
pub mod svstat;
pub mod svunlink;
