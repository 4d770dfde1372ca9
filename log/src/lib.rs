//! The s6 logger and its companions: s6-log (script language, logdirs, rotation,
//! processors), the TAI64N filters s6-tai64n and s6-tai64nlocal, and the syslog front ends
//! ucspilogd and s6-socklog.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod cmd;
pub mod filter;
pub mod logdir;
pub mod script;
pub mod stamp;
pub mod syslog;
pub mod zone;
