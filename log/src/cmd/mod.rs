//! One module per program: `run(args) -> Result<exit code, Fatal>`.

pub mod log;
pub mod socklog;
pub mod tai64n;
pub mod tai64nlocal;
pub mod ucspilogd;
