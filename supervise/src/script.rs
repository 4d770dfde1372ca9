//! Writing services for later: what s6-instance-maker and s6-usertree-maker share. Shell
//! quoting and our programs' absolute paths for the `/bin/sh` run scripts they (and
//! s6-svscanboot) write (see
//! docs/ARCHITECTURE.md: upstream writes execline ones), the catch-all logger (its options
//! and its `s6-log` run script), the `-r service/logger/pipeline` names of s6-rc source
//! directories, and the writing of a service or s6-rc source directory with upstream's
//! modes and messages.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use s6rs_sys::cli::{self, parse_uint, show, Fatal, Flag, Show};
use s6rs_sys::{exec, fd};

use crate::instance;

/// `s` quoted for the shell, byte for byte: single quotes, each `'` written as `'\''`.
pub(crate) fn quote_bytes(s: &[u8]) -> Vec<u8> {
    let mut q = Vec::with_capacity(s.len() + 2);
    q.push(b'\'');
    for &b in s {
        if b == b'\'' {
            q.extend_from_slice(b"'\\''");
        } else {
            q.push(b);
        }
    }
    q.push(b'\'');
    q
}

/// [`quote_bytes`] for the makers' text scripts (bytes that are not UTF-8 become U+FFFD).
pub(crate) fn quote(s: &[u8]) -> String {
    String::from_utf8_lossy(&quote_bytes(s)).into_owned()
}

/// One of our programs, by absolute path, quoted byte for byte: a generated script runs the
/// s6-rs of the installation that wrote it, never what PATH finds.
pub(crate) fn ours_bytes(name: &str) -> Vec<u8> {
    quote_bytes(exec::sibling(name).as_os_str().as_bytes())
}

/// [`ours_bytes`] as text.
pub(crate) fn ours(name: &str) -> String {
    String::from_utf8_lossy(&ours_bytes(name)).into_owned()
}

/// The logger options, in the makers' usage-line order: `[ -l loguser ] [ -t stamptype ]
/// [ -n nfiles ] [ -s filesize ] [ -S maxsize ] [ -P prefix ]`.
pub(crate) const LOGGER_FLAGS: [Flag; 6] = [
    Flag::arg('l', "loguser", Show::Own, "run the logger as this user (default: root)"),
    Flag::arg('t', "stamptype", Show::Own, "0 no timestamp, 1 TAI64N (default), 2 ISO 8601, 3 both"),
    Flag::arg('n', "nfiles", Show::Own, "archive files kept in logdir (default 10)"),
    Flag::arg('s', "filesize", Show::Own, "largest current file (default 1000000)"),
    Flag::arg('S', "maxsize", Show::Own, "largest total size of the archives (default 0: no limit)"),
    Flag::arg('P', "prefix", Show::Own, "prefix every logged line with this"),
];

/// The catch-all logger a maker writes: [`LOGGER_FLAGS`] parsed.
#[derive(Debug, Clone)]
pub(crate) struct Logger {
    /// `-l`.
    pub loguser: Option<String>,
    /// `-t`: bit 0 TAI64N, bit 1 ISO 8601.
    pub stamps: u32,
    /// `-n`.
    pub nfiles: u32,
    /// `-s`.
    pub filesize: u64,
    /// `-S` (0: no limit).
    pub maxsize: u64,
    /// `-P`.
    pub prefix: Option<String>,
}

impl Default for Logger {
    fn default() -> Self {
        Logger { loguser: None, stamps: 1, nfiles: 10, filesize: 1_000_000, maxsize: 0, prefix: None }
    }
}

impl Logger {
    /// Takes option `c` with `arg` when it is one of [`LOGGER_FLAGS`] (`Ok(true)`); a bad
    /// number is `usage`.
    pub(crate) fn option(&mut self, c: char, arg: &str, usage: impl Fn() -> Fatal) -> Result<bool, Fatal> {
        match c {
            'l' => self.loguser = Some(arg.to_owned()),
            't' => self.stamps = parse_uint(arg).ok_or_else(&usage)?,
            'n' => self.nfiles = parse_uint(arg).ok_or_else(&usage)?,
            's' => self.filesize = parse_uint(arg).ok_or_else(&usage)?,
            'S' => self.maxsize = parse_uint(arg).ok_or_else(&usage)?,
            'P' => self.prefix = Some(arg.to_owned()),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Upstream's check of `-t`, made once the options are read.
    pub(crate) fn check(&self) -> Result<(), Fatal> {
        if self.stamps > 3 {
            return Err(Fatal::bad("stamptype must be 0, 1, 2 or 3"));
        }
        Ok(())
    }

    /// The logger's run script: `[s6-setuidgid loguser] s6-log -bd3 -- [t] [T] nN sS [SM]
    /// ['pPREFIX'] logdir`. The prefix goes in quoted, as one directive, where upstream
    /// pastes it unquoted.
    pub(crate) fn script(&self, logdir: &str) -> String {
        let mut s = String::from("#!/bin/sh -e\nexec ");
        if let Some(u) = &self.loguser {
            s += &format!("{} {} ", ours("s6-setuidgid"), quote(u.as_bytes()));
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
            s += &format!("{} ", quote(format!("p{p}").as_bytes()));
        }
        s += &quote(logdir.as_bytes());
        s.push('\n');
        s
    }
}

/// The s6-rc names of `-r service[/logger[/pipeline]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RcNames {
    /// The service's source directory.
    pub service: String,
    /// The logger's, when there is one.
    pub logger: Option<String>,
    /// The pipeline's name, when given.
    pub pipeline: Option<String>,
}

/// Splits `-r`'s argument with upstream's checks and messages. `logger_optional`: a lone
/// `service` is accepted (s6-instance-maker) rather than refused (s6-usertree-maker);
/// `logged`: a logdir was given, which a logger needs and which needs a logger.
pub(crate) fn rc_names(r: &str, logger_optional: bool, logged: bool) -> Result<RcNames, Fatal> {
    let shape = || {
        Fatal::bad(if logger_optional {
            "argument to -r must be: service or service/logger or service/logger/pipeline"
        } else {
            "argument to -r must be: service/logger or service/logger/pipeline"
        })
    };
    if r.contains('\n') {
        return Err(Fatal::bad("newlines are forbidden in s6-rc names"));
    }
    if r.starts_with('/') {
        return Err(Fatal::bad("service name cannot be empty"));
    }
    let Some((service, rest)) = r.split_once('/') else {
        if !logger_optional {
            return Err(shape());
        }
        if logged {
            return Err(Fatal::bad("logdir specified (-L) but logger name not specified (-r)"));
        }
        return Ok(RcNames { service: r.to_owned(), logger: None, pipeline: None });
    };
    if rest.is_empty() {
        return Err(shape());
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
    Ok(RcNames { service: service.to_owned(), logger: Some(logger.to_owned()), pipeline })
}

/// What a written directory is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind<'a> {
    /// A service directory for s6-supervise: its `run` is made executable.
    Service,
    /// An s6-rc source directory (`type` longrun; `run` is left to s6-rc-compile), with
    /// the pipeline files that are `Some`.
    Rc {
        /// `producer-for`.
        producer_for: Option<&'a str>,
        /// `consumer-for`.
        consumer_for: Option<&'a str>,
        /// `pipeline-name`.
        pipeline_name: Option<&'a str>,
    },
}

/// Makes `dir` (it must not exist) with `notification-fd` 3 and the run script `run`,
/// then what `kind` asks for.
pub(crate) fn write_dir(dir: &Path, run: &str, kind: Kind<'_>) -> Result<(), Fatal> {
    make_dir(dir, false)?;
    write_file(&dir.join("notification-fd"), b"3\n")?;
    let run_path = dir.join("run");
    write_file(&run_path, run.as_bytes())?;
    match kind {
        Kind::Service => make_executable(&run_path),
        Kind::Rc { producer_for, consumer_for, pipeline_name } => {
            write_file(&dir.join("type"), b"longrun\n")?;
            for (file, value) in [
                ("producer-for", producer_for),
                ("consumer-for", consumer_for),
                ("pipeline-name", pipeline_name),
            ] {
                if let Some(v) = value {
                    write_file(&dir.join(file), format!("{v}\n").as_bytes())?;
                }
            }
            Ok(())
        }
    }
}

/// Writes `data` to a new file `path` (replacing any), mode 0666 under the umask.
pub(crate) fn write_file(path: &Path, data: &[u8]) -> Result<(), Fatal> {
    let res = (|| {
        let mut f =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o666).open(path)?;
        f.write_all(data)
    })();
    res.map_err(|e| Fatal::sys(format_args!("write to {}", show(path.as_os_str())), &e))
}

/// Makes `dir` with mode 0755 whatever the umask; it must not exist unless `may_exist`.
pub(crate) fn make_dir(dir: &Path, may_exist: bool) -> Result<(), Fatal> {
    instance::make_dir(dir, 0o755, may_exist)
        .map_err(|e| Fatal::sys(format_args!("mkdir {}", show(dir.as_os_str())), &e))
}

/// Makes `run` executable for whoever may read it (upstream's rule, from the umask).
pub(crate) fn make_executable(run: &Path) -> Result<(), Fatal> {
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

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(quote(b"a b"), "'a b'");
        assert_eq!(quote(b"it's"), "'it'\\''s'");
        // Byte for byte where a path is not UTF-8 (s6-svscanboot's logdir).
        assert_eq!(quote_bytes(b"\xff'"), b"'\xff'\\'''");
    }

    #[test]
    fn rc_names_are_checked_as_upstream() {
        let names = |s: &str, l: Option<&str>, p: Option<&str>| RcNames {
            service: s.into(),
            logger: l.map(Into::into),
            pipeline: p.map(Into::into),
        };
        // s6-instance-maker: the logger is optional, and goes with -L.
        assert_eq!(rc_names("a", true, false).unwrap(), names("a", None, None));
        assert_eq!(rc_names("a/b", true, true).unwrap(), names("a", Some("b"), None));
        assert_eq!(rc_names("a/b/c", true, true).unwrap(), names("a", Some("b"), Some("c")));
        let msg = |r: &str, l: bool| rc_names(r, true, l).unwrap_err().msg;
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
        // s6-usertree-maker: a logger is required, and there is always a logdir.
        assert_eq!(rc_names("a/b/c", false, true).unwrap(), names("a", Some("b"), Some("c")));
        let msg = |r: &str| rc_names(r, false, true).unwrap_err().msg;
        assert_eq!(msg("a"), "argument to -r must be: service/logger or service/logger/pipeline");
        assert_eq!(msg("a/"), "argument to -r must be: service/logger or service/logger/pipeline");
        assert_eq!(msg("a//c"), "logger name cannot be empty");
    }

    #[test]
    fn logger_options_and_script() {
        let mut l = Logger::default();
        let usage = || Fatal::bad("usage");
        for (c, a) in [('t', "3"), ('n', "5"), ('s', "4096"), ('S', "9"), ('P', "x y"), ('l', "lg")] {
            assert!(l.option(c, a, usage).unwrap());
        }
        assert!(!l.option('L', "/l", usage).unwrap());
        assert_eq!(l.option('n', "x", usage).unwrap_err().msg, "usage");
        assert_eq!(
            l.script("/l"),
            format!(
                "#!/bin/sh -e\nexec {} 'lg' {} -bd3 -- t T n5 s4096 S9 'px y' '/l'\n",
                ours("s6-setuidgid"),
                ours("s6-log")
            )
        );
        assert!(l.check().is_ok());
        l.stamps = 4;
        assert_eq!(l.check().unwrap_err().msg, "stamptype must be 0, 1, 2 or 3");
        let l = Logger { stamps: 0, ..Logger::default() };
        assert!(l.script("/l").ends_with(" -bd3 -- n10 s1000000 '/l'\n"));
    }
}
