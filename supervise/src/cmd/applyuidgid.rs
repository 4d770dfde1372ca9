//! `s6-applyuidgid [ -z ] [ -u uid ] [ -g gid ] [ -G gidlist ] [ -U ] prog...`: set the
//! supplementary groups, the gid and the uid, then chain-load `prog...` (upstream
//! doc/s6-applyuidgid.html). A uid or gid of 0 leaves that id unchanged, as upstream does.

use std::ffi::OsString;

use s6rs_sys::cli::{self, Fatal, Flag, Show, Spec};
use s6rs_sys::exec::chainload;
use s6rs_sys::user;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-applyuidgid",
    operands: "prog...",
    about: "Changes the process's groups, gid and uid to the given ids, then runs prog.",
    doc: "s6-applyuidgid.html",
    flags: &[
        Flag::new('z', Show::Own, "remove UID, GID and GIDLIST from the environment given to prog"),
        Flag::arg('u', "uid", Show::Own, "switch to this numeric user id"),
        Flag::arg('g', "gid", Show::Own, "switch to this numeric group id"),
        Flag::arg(
            'G',
            "gidlist",
            Show::Own,
            "set the supplementary groups to this comma-separated list of gids",
        ),
        Flag::new(
            'U',
            Show::Own,
            "take the ids from the UID, GID and GIDLIST variables (later options override)",
        ),
    ],
};

/// Runs s6-applyuidgid.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let usage = || SPEC.usage_error();
    let (mut uid, mut gid, mut gids, mut unexport) = (0u32, 0u32, None::<Vec<u32>>, false);
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str();
        match opt.c {
            'z' => unexport = true,
            'u' => uid = cli::parse_uint(arg).ok_or_else(usage)?,
            'g' => gid = cli::parse_uint(arg).ok_or_else(usage)?,
            'G' => gids = Some(gidlist(arg).ok_or_else(usage)?),
            'U' => {
                uid = cli::parse_uint(&var("UID")?).ok_or_else(|| invalid("UID"))?;
                gid = cli::parse_uint(&var("GID")?).ok_or_else(|| invalid("GID"))?;
                gids = Some(gidlist(&var("GIDLIST")?).ok_or_else(|| invalid("GIDLIST"))?);
            }
            _ => return Err(usage()),
        }
    }
    let prog = g.operands();
    if prog.is_empty() {
        return Err(usage());
    }
    user::drop_to(uid, gid, gids.as_deref()).map_err(|(step, e)| Fatal::sys(step.what(), &e))?;
    let mods: Vec<_> = if unexport {
        ["UID", "GID", "GIDLIST"].iter().map(|n| (OsString::from(n), None)).collect()
    } else {
        Vec::new()
    };
    Err(chainload(prog, &mods))
}

/// A gid list as upstream reads it: a readable prefix is enough, but a non-empty text
/// must start with a number.
fn gidlist(s: &str) -> Option<Vec<u32>> {
    let (list, used) = user::scan_gidlist(s);
    (used > 0 || s.is_empty()).then_some(list)
}

fn var(name: &str) -> Result<String, Fatal> {
    std::env::var(name).map_err(|_| Fatal::bad(format!("{name} not set")))
}

fn invalid(name: &str) -> Fatal {
    Fatal::bad(format!("invalid ${name}"))
}
