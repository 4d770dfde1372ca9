//! Unix-domain sockets and the s6 super-server, on the socket layer of
//! [`s6rs_sys::socket`] (bind with its `.lock`, listen, accept, connect, peer credentials,
//! socket names), which s6-socklog and the access check share.
//!
//! * [`chain`]: the front of a super-server's exec chain (socket binder, id dropper),
//!   shared by s6-ipcserver and s6-fdholder-daemon.
//! * [`fdpass`]: skalibs' unixmessage framing with fd passing (FORMATS.md §4.1).
//! * [`check`]: the in-process connection check s6-ipcserverd can run before spawning.
//! * [`cmd`]: s6-ipcserver-socketbinder, s6-ipcserverd, s6-ipcserver, s6-ipcclient,
//!   s6-ioconnect (upstream doc/s6-ipcserver.html and the pages it links).

#![deny(missing_docs)]

pub mod chain;
pub mod check;
pub mod cmd;
pub mod fdpass;
