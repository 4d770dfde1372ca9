//! The in-process connection check of s6-ipcserverd: a hook run for each accepted client,
//! after the per-uid limit and before the spawn, that can refuse the client, change the
//! handler's environment or replace the handler. The s6-ipcserverd binary (a composition in
//! the root package) plugs access rules into it, to give the verdicts and environment that
//! a chained `s6-ipcserver-access` would, without a program in between. This crate only
//! defines the hook; it holds no rules and knows no options of the checks plugged in.

use std::ffi::{OsStr, OsString};
use std::os::fd::BorrowedFd;

use s6rs_sys::exec::EnvMod;

use s6rs_sys::socket::Creds;

/// What the check knows about one client.
#[derive(Debug, Clone, Copy)]
pub struct Peer<'a> {
    /// The connection (the handler's fd 0 and 1 if allowed). `socket::local_path` on it
    /// gives the server's socket path (what `${PROTO}LOCALPATH` holds).
    pub conn: BorrowedFd<'a>,
    /// The client's credentials; `None` under `-P` (no lookups).
    pub creds: Option<Creds>,
    /// The path the client's socket is bound to, usually empty (`IPCREMOTEPATH`).
    pub path: &'a OsStr,
    /// How many connections this uid already has (`IPCCONNNUM`, 2.15 counting: 0 for the
    /// first); always 0 under `-P`, where `IPCCONNNUM` is set empty.
    pub connnum: u32,
}

/// The check's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Spawn the handler: the server's `prog...`, or `argv` instead when given (an access
    /// rule's `exec` file).
    Allow {
        /// A replacement command line, if any.
        argv: Option<Vec<OsString>>,
    },
    /// Close the connection without spawning anything.
    Deny,
}

/// A connection check. `env` arrives holding the UCSPI variables s6-ipcserverd sets, in
/// its order (`PROTO`, `IPCREMOTEEUID`, `IPCREMOTEEGID`, `IPCCONNNUM`, `IPCREMOTEPATH`);
/// the check may append changes (applied after them, so a later entry wins), which is how
/// a rule's `env/` directory and s6-ipcserver-access's `-E` take effect. The server logs
/// nothing for a denial: the check does its own logging.
///
/// The check runs in the server's only thread, which forks a handler per client: it must
/// not start threads of its own, and it blocks the server while it runs.
pub trait ConnCheck {
    /// Decides on one client.
    fn check(&mut self, peer: &Peer<'_>, env: &mut Vec<EnvMod>) -> Verdict;
}

/// Any `FnMut(&Peer, &mut Vec<EnvMod>) -> Verdict` is a check.
impl<F> ConnCheck for F
where
    F: FnMut(&Peer<'_>, &mut Vec<EnvMod>) -> Verdict,
{
    fn check(&mut self, peer: &Peer<'_>, env: &mut Vec<EnvMod>) -> Verdict {
        self(peer, env)
    }
}
