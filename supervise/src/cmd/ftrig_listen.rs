//! `s6-ftrig-listen [ -a | -o ] [ -t timeout ] { fifodir1 regexp1 ... } prog...`, whose
//! argv form is `fifodir1 regexp1 ... "" prog...` in execline's block encoding: subscribe
//! to every fifodir with its regexp, spawn prog, then wait until all of them (`-a`, the
//! default) or one of them (`-o`) matched. No output; timeout: exit 1; an empty or odd
//! block: exit 100. Upstream doc/s6-ftrig-listen.html.

use std::ffi::OsString;

use s6rs_sys::cli::{Fatal, Flag, Show, Spec};
use s6rs_sys::deadline::Deadline;

use super::ftrig_listen1::spawn;
use super::ftrig_wait::{listen_timeout, subscribe};
use crate::block;
use crate::ftrig::{self, Pause};

/// The command line, with upstream's long options.
pub const SPEC: Spec = Spec {
    name: "s6-ftrig-listen",
    operands: "fifodir1 regexp1 ... \"\" prog...",
    about: "Subscribes to several fifodirs, each with its regexp, runs prog, then waits until \
            the events match.",
    doc: "s6-ftrig-listen.html",
    flags: &[
        Flag::new('a', Show::Own, "wait until every fifodir matched (the default)").long("and"),
        Flag::new('o', Show::Or, "wait until one fifodir matched").long("or"),
        ftrig::TIMEOUT,
    ],
};

/// Runs s6-ftrig-listen.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut deadline = Deadline::Never;
    let mut any = false;
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next_long() {
        let opt = opt.map_err(|e| e.fatal(&SPEC.usage()))?;
        match opt.c {
            'a' => any = false,
            'o' => any = true,
            't' => deadline = ftrig::parse_timeout(opt.arg_str())?,
            _ => return Err(SPEC.usage_error()),
        }
    }
    let rest = g.operands();
    if rest.len() < 4 {
        return Err(SPEC.usage_error());
    }
    let b = block::semicolon(rest, block::strict_level())?;
    let Some(end) = b.end else {
        // Upstream counts an unterminated block as one word longer than the list, and its
        // odd-block check comes first; both answers exit 100.
        return Err(if (b.words.len() + 1) % 2 == 1 {
            SPEC.usage_error()
        } else {
            Fatal::bad("unterminated fifodir+regex block")
        });
    };
    let prog = &rest[end + 1..];
    if b.words.is_empty() || b.words.len() % 2 == 1 || prog.is_empty() {
        return Err(SPEC.usage_error());
    }
    let mut subs = b.words.chunks(2).map(|p| subscribe(&p[0], &p[1])).collect::<Result<Vec<_>, _>>()?;
    let mut pause = Pause::new(&subs, true).map_err(|e| Fatal::sys("set up the event loop", &e))?;
    spawn(prog)?;
    match ftrig::wait_for(&mut subs, &mut pause, any, deadline) {
        Ok(Some(_)) => Ok(0),
        Ok(None) => Err(listen_timeout()),
        Err(e) => Err(Fatal::sys("read events", &e)),
    }
}
