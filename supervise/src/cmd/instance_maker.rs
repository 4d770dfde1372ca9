//! `s6-instance-maker [ -c max ] [ -u user ] [ -l loguser ] [ -L logdir ] [ -t stamptype ]
//! [ -n nfiles ] [ -s filesize ] [ -S maxsize ] [ -P prefix ]
//! [ -r service[/logger[/pipeline]] ] template dir`: write an instanced service: a service
//! directory whose supervisor runs an s6-svscan over the instances (upstream
//! doc/s6-instance-maker.html; the layout is in `crate::instance`). Offline: it starts
//! nothing.
//!
//! Without `-r`, `dir` (which must not exist) gets `run`, `notification-fd` (3), empty
//! `instance/` and `instances/`, and `template/`, a copy of `template`; with `-L`, a logger
//! in `dir/log`, the catch-all logger of the instance supervisor and of every instance.
//! With `-r service[/logger[/pipeline]]`, `dir` (which may exist) gets s6-rc source
//! directories instead: `dir/service` (`type` longrun, `producer-for` logger when there is
//! one, no `instance/` or `instances/`: s6-instance-create makes them) and, with a logger
//! (which needs `-L`), `dir/logger` (`consumer-for`, `pipeline-name`). `-c` is clamped to
//! 1..90000 and doubled when `-L` is given without `-r` (each instance may have a logger).
//! Directories are 0755 whatever the umask; without `-r` the run scripts are made
//! executable for whoever may read them. A failure leaves what was made, as upstream.
//!
//! The run script sends stderr to stdout, drops to `user` with `s6-setuidgid` when `-u`
//! is given, and execs `s6-svscan -d3 -C max -- instance`. The logger runs
//! `[s6-setuidgid loguser] s6-log -bd3 -- [t] [T] nN sS [SM] [pPREFIX] logdir`. As
//! s6-usertree-maker's, the scripts are `/bin/sh` scripts naming our programs by absolute
//! path, where upstream writes execline ones (docs/ARCHITECTURE.md); the prefix goes in
//! quoted, as one directive, where upstream pastes it unquoted.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use s6rs_sys::cli::{self, parse_uint, show, Fatal, Flag, Show, Spec};
use s6rs_sys::{exec, fd};

use crate::instance;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-instance-maker",
    operands: "template dir",
    about: "Writes an instanced service: a service directory that supervises instances, each \
            a copy of template, created and deleted later with s6-instance-create and \
            s6-instance-delete.",
    doc: "s6-instance-maker.html",
    flags: &[
        Flag::arg('c', "max", Show::Own, "plan for at most this many instances (default 500, 1..90000)"),
        Flag::arg('u', "user", Show::Own, "run the instance supervisor and the instances as this user"),
        Flag::arg('l', "loguser", Show::Own, "run the logger as this user"),
        Flag::arg('L', "logdir", Show::Own, "log the service and its instances into this absolute logdir"),
        Flag::arg('t', "stamptype", Show::Own, "0 no timestamp, 1 TAI64N (default), 2 ISO 8601, 3 both"),
        Flag::arg('n', "nfiles", Show::Own, "archive files kept in logdir (default 10)"),
        Flag::arg('s', "filesize", Show::Own, "largest current file (default 1000000)"),
        Flag::arg('S', "maxsize", Show::Own, "largest total size of the archives (default 0: no limit)"),
        Flag::arg('P', "prefix", Show::Own, "prefix every logged line with this"),
        Flag::arg(
            'r',
            "service[/logger[/pipeline]]",
            Show::Own,
            "write s6-rc source directories dir/service (and dir/logger) instead",
        ),
    ],
};

/// What the command line asks for.
#[derive(Debug, Clone)]
struct Maker {
    max: u32,
    user: Option<String>,
    loguser: Option<String>,
    logdir: Option<String>,
    stamps: u32,
    nfiles: u32,
    filesize: u64,
    maxsize: u64,
    prefix: Option<String>,
    /// (service, logger, pipeline) with `-r`.
    rc: Option<(String, Option<String>, Option<String>)>,
}

fn parse(args: &[OsString]) -> Result<(Maker, OsString, OsString), Fatal> {
    let usage = || SPEC.usage_error();
    let mut m = Maker {
        max: 500,
        user: None,
        loguser: None,
        logdir: None,
        stamps: 1,
        nfiles: 10,
        filesize: 1_000_000,
        maxsize: 0,
        prefix: None,
        rc: None,
    };
    let mut rc = None;
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str().to_owned();
        match opt.c {
            'c' => m.max = parse_uint(&arg).ok_or_else(usage)?,
            'u' => m.user = Some(arg),
            'l' => m.loguser = Some(arg),
            'L' => m.logdir = Some(arg),
            't' => m.stamps = parse_uint(&arg).ok_or_else(usage)?,
            'n' => m.nfiles = parse_uint(&arg).ok_or_else(usage)?,
            's' => m.filesize = parse_uint(&arg).ok_or_else(usage)?,
            'S' => m.maxsize = parse_uint(&arg).ok_or_else(usage)?,
            'P' => m.prefix = Some(arg),
            'r' => rc = Some(arg),
            _ => return Err(usage()),
        }
    }
    let [template, dir, ..] = g.operands() else { return Err(usage()) };
    if m.logdir.as_ref().is_some_and(|l| !l.starts_with('/')) {
        return Err(Fatal::bad("logdir must be absolute"));
    }
    if m.stamps > 3 {
        return Err(Fatal::bad("stamptype must be 0, 1, 2 or 3"));
    }
    if m.user.as_ref().is_some_and(|u| u.contains([' ', '\t', '\n'])) {
        return Err(Fatal::bad("invalid user"));
    }
    m.max = m.max.clamp(1, 90_000);
    if m.logdir.is_some() && rc.is_none() {
        m.max *= 2;
    }
    if let Some(r) = rc {
        m.rc = Some(rc_names(&r, m.logdir.is_some())?);
    }
    Ok((m, template.clone(), dir.clone()))
}

/// Splits `-r`'s `service[/logger[/pipeline]]` with upstream's checks and messages.
fn rc_names(r: &str, logged: bool) -> Result<(String, Option<String>, Option<String>), Fatal> {
    if r.contains('\n') {
        return Err(Fatal::bad("newlines are forbidden in s6-rc names"));
    }
    if r.starts_with('/') {
        return Err(Fatal::bad("service name cannot be empty"));
    }
    let Some((service, rest)) = r.split_once('/') else {
        if logged {
            return Err(Fatal::bad("logdir specified (-L) but logger name not specified (-r)"));
        }
        return Ok((r.to_owned(), None, None));
    };
    if rest.is_empty() {
        return Err(Fatal::bad(
            "argument to -r must be: service or service/logger or service/logger/pipeline",
        ));
    }
    if rest.starts_with('/') {
        return Err(Fatal::bad("logger name cannot be empty"));
    }
    if !logged {
        return Err(Fatal::bad("logger specified (-r) but logdir not specified (-L)"));
    }
    let (logger, pipeline) = match rest.split_once('/') {
        None => (rest, None),
        Some((_, "")) => return Err(Fatal::bad("pipeline name cannot be empty")),
        Some((_, p)) if p.contains('/') => return Err(Fatal::bad("slashes are forbidden in s6-rc names")),
        Some((l, p)) => (l, Some(p.to_owned())),
    };
    Ok((service.to_owned(), Some(logger.to_owned()), pipeline))
}

/// `s` quoted for the shell: single quotes, each `'` written as `'\''`.
fn q(s: &[u8]) -> String {
    format!("'{}'", String::from_utf8_lossy(s).replace('\'', "'\\''"))
}

/// One of our programs, by absolute path, quoted.
fn ours(name: &str) -> String {
    q(exec::sibling(name).as_os_str().as_bytes())
}

impl Maker {
    /// The instance supervisor's run script.
    fn run_script(&self) -> String {
        let mut s = String::from("#!/bin/sh -e\nexec 2>&1\nexec ");
        if let Some(u) = &self.user {
            s += &format!("{} {} ", ours("s6-setuidgid"), q(u.as_bytes()));
        }
        s += &format!("{} -d3 -C{} -- instance\n", ours("s6-svscan"), self.max);
        s
    }

    /// The logger's run script.
    fn log_script(&self, logdir: &str) -> String {
        let mut s = String::from("#!/bin/sh -e\nexec ");
        if let Some(u) = &self.loguser {
            s += &format!("{} {} ", ours("s6-setuidgid"), q(u.as_bytes()));
        }
        s += &format!("{} -bd3 -- ", ours("s6-log"));
        if self.stamps & 1 != 0 {
            s += "t ";
        }
        if self.stamps & 2 != 0 {
            s += "T ";
        }
        s += &format!("n{} s{} ", self.nfiles, self.filesize);
        if self.maxsize != 0 {
            s += &format!("S{} ", self.maxsize);
        }
        if let Some(p) = &self.prefix {
            s += &format!("{} ", q(format!("p{p}").as_bytes()));
        }
        s += &q(logdir.as_bytes());
        s.push('\n');
        s
    }

    /// Writes the service directory `dir` with its template; `rc` is `Some(producer-for)`
    /// with `-r`.
    fn write_service(&self, dir: &Path, template: &Path, rc: Option<Option<&str>>) -> Result<(), Fatal> {
        mkdir(dir, false)?;
        write_file(&dir.join("notification-fd"), b"3\n")?;
        let run = dir.join("run");
        write_file(&run, self.run_script().as_bytes())?;
        match rc {
            Some(logger) => {
                write_file(&dir.join("type"), b"longrun\n")?;
                if let Some(l) = logger {
                    write_file(&dir.join("producer-for"), format!("{l}\n").as_bytes())?;
                }
            }
            None => {
                make_executable(&run)?;
                mkdir(&dir.join("instance"), false)?;
                mkdir(&dir.join("instances"), false)?;
            }
        }
        let to = dir.join("template");
        instance::copy_tree(template, &to).map_err(|e| {
            Fatal::sys(
                format_args!(
                    "copy file hierarchy from {} to {}",
                    show(template.as_os_str()),
                    show(to.as_os_str())
                ),
                &e,
            )
        })
    }

    /// Writes the logger's directory `dir`; `rc` is (service, pipeline) with `-r`.
    fn write_logger(&self, dir: &Path, logdir: &str, rc: Option<(&str, Option<&str>)>) -> Result<(), Fatal> {
        mkdir(dir, false)?;
        write_file(&dir.join("notification-fd"), b"3\n")?;
        let run = dir.join("run");
        write_file(&run, self.log_script(logdir).as_bytes())?;
        match rc {
            Some((service, pipeline)) => {
                write_file(&dir.join("type"), b"longrun\n")?;
                write_file(&dir.join("consumer-for"), format!("{service}\n").as_bytes())?;
                match pipeline {
                    Some(p) => write_file(&dir.join("pipeline-name"), format!("{p}\n").as_bytes()),
                    None => Ok(()),
                }
            }
            None => make_executable(&run),
        }
    }
}

/// Runs s6-instance-maker.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (m, template, dir) = parse(&args)?;
    let (template, dir) = (Path::new(&template), Path::new(&dir));
    match (&m.rc, &m.logdir) {
        (Some((service, logger, pipeline)), logdir) => {
            mkdir(dir, true)?;
            m.write_service(&dir.join(service), template, Some(logger.as_deref()))?;
            if let (Some(logger), Some(logdir)) = (logger, logdir) {
                m.write_logger(&dir.join(logger), logdir, Some((service, pipeline.as_deref())))?;
            }
        }
        (None, logdir) => {
            m.write_service(dir, template, None)?;
            if let Some(logdir) = logdir {
                m.write_logger(&dir.join("log"), logdir, None)?;
            }
        }
    }
    Ok(0)
}

/// Writes `data` to a new file `path` (replacing any), mode 0666 under the umask.
fn write_file(path: &Path, data: &[u8]) -> Result<(), Fatal> {
    let res = (|| {
        let mut f =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o666).open(path)?;
        f.write_all(data)
    })();
    res.map_err(|e| Fatal::sys(format_args!("write to {}", show(path.as_os_str())), &e))
}

/// Makes `dir` with mode 0755 whatever the umask; it must not exist unless `may_exist`.
fn mkdir(dir: &Path, may_exist: bool) -> Result<(), Fatal> {
    instance::make_dir(dir, 0o755, may_exist)
        .map_err(|e| Fatal::sys(format_args!("mkdir {}", show(dir.as_os_str())), &e))
}

/// Makes `run` executable for whoever may read it (upstream's rule, from the umask).
fn make_executable(run: &Path) -> Result<(), Fatal> {
    let mask = fd::umask(0o022);
    fd::umask(mask);
    let m = !mask & 0o777;
    let mode = (m & 0o666) | ((m >> 2) & 0o111);
    std::fs::set_permissions(run, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Fatal::sys(format_args!("chmod {}", show(run.as_os_str())), &e))?;
    if m & 0o400 == 0 {
        cli::warn(format_args!("weird umask, check permissions manually on {}", show(run.as_os_str())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<(Maker, OsString, OsString), Fatal> {
        parse(&a.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn rc_names_are_checked_as_upstream() {
        assert_eq!(rc_names("a", false).unwrap(), ("a".into(), None, None));
        assert_eq!(rc_names("a/b", true).unwrap(), ("a".into(), Some("b".into()), None));
        assert_eq!(rc_names("a/b/c", true).unwrap(), ("a".into(), Some("b".into()), Some("c".into())));
        let msg = |r: &str, l: bool| rc_names(r, l).unwrap_err().msg;
        assert_eq!(msg("/b", true), "service name cannot be empty");
        assert_eq!(msg("a", true), "logdir specified (-L) but logger name not specified (-r)");
        assert_eq!(msg("a/b", false), "logger specified (-r) but logdir not specified (-L)");
        assert_eq!(
            msg("a/", true),
            "argument to -r must be: service or service/logger or service/logger/pipeline"
        );
        assert_eq!(msg("a//c", true), "logger name cannot be empty");
        assert_eq!(msg("a/b/", true), "pipeline name cannot be empty");
        assert_eq!(msg("a/b/c/d", true), "slashes are forbidden in s6-rc names");
        assert_eq!(msg("a\nx/b", true), "newlines are forbidden in s6-rc names");
    }

    #[test]
    fn options_are_checked_and_max_is_clamped() {
        let msg = |a: &[&str]| p(a).unwrap_err().msg;
        assert_eq!(msg(&["-L", "logs", "t", "d"]), "logdir must be absolute");
        assert_eq!(msg(&["-t", "4", "t", "d"]), "stamptype must be 0, 1, 2 or 3");
        assert_eq!(msg(&["-u", "a b", "t", "d"]), "invalid user");
        assert!(p(&["-c", "x", "t", "d"]).unwrap_err().usage);
        assert!(p(&["t"]).unwrap_err().usage);
        assert_eq!(p(&["t", "d"]).unwrap().0.max, 500);
        assert_eq!(p(&["-c0", "t", "d"]).unwrap().0.max, 1);
        assert_eq!(p(&["-c", "100000", "t", "d"]).unwrap().0.max, 90_000);
        assert_eq!(p(&["-c", "100000", "-L", "/l", "t", "d"]).unwrap().0.max, 180_000);
        assert_eq!(p(&["-L", "/l", "-r", "a/b", "t", "d"]).unwrap().0.max, 500);
    }

    #[test]
    fn scripts() {
        let (m, _, _) = p(&["-u", "it's", "-c", "7", "t", "d"]).unwrap();
        assert_eq!(
            m.run_script(),
            format!(
                "#!/bin/sh -e\nexec 2>&1\nexec {} 'it'\\''s' {} -d3 -C7 -- instance\n",
                ours("s6-setuidgid"),
                ours("s6-svscan")
            )
        );
        let (m, _, _) = p(&[
            "-t", "3", "-n", "5", "-s", "4096", "-S", "9", "-P", "x y", "-l", "lg", "-L", "/l", "t", "d",
        ])
        .unwrap();
        assert_eq!(
            m.log_script("/l"),
            format!(
                "#!/bin/sh -e\nexec {} 'lg' {} -bd3 -- t T n5 s4096 S9 'px y' '/l'\n",
                ours("s6-setuidgid"),
                ours("s6-log")
            )
        );
        let (m, _, _) = p(&["-t", "0", "t", "d"]).unwrap();
        assert!(m.log_script("/l").ends_with(" -bd3 -- n10 s1000000 '/l'\n"));
    }
}
