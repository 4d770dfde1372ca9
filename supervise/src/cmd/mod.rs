//! One module per program: `run(args) -> Result<exit code, Fatal>`.

pub mod cleanfifodir;
pub mod ftrig_listen;
pub mod ftrig_listen1;
pub mod ftrig_notify;
pub mod ftrig_wait;
pub mod mkfifodir;
pub mod notifyoncheck;
pub mod svlisten;
pub mod svlisten1;
pub mod svok;
pub mod svwait;
