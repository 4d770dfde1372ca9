//! The s6 logger and its companions: s6-log (script language, logdirs, rotation,
//! processors), the TAI64N filters s6-tai64n and s6-tai64nlocal, and the syslog front ends
//! ucspilogd and s6-socklog.

#![deny(missing_docs)]

pub mod cmd;
pub(crate) mod filter;
pub(crate) mod logdir;
pub mod script;
pub mod stamp;
pub(crate) mod syslog;
pub mod zone;
