//! One module per program: `run(args) -> Result<exit code, Fatal>`.

pub mod supervise;
pub mod svok;
pub mod svscan;
pub mod svscanctl;
