//! `s6-usertree-maker [ -d userscandir ] [ -p path ] [ -E envdir [ -e var ... ] ]
//! [ -r service/logger[/pipeline] ] [ -l loguser ] [ -t stamptype ] [ -n nfiles ]
//! [ -s filesize ] [ -S maxsize ] [ -P prefix ] user logdir dir`: write a service
//! directory that runs `user`'s own supervision tree, with a catch-all logger. Offline: it
//! starts nothing. Upstream doc/s6-usertree-maker.html; INVENTORY.md §1.8.
//!
//! Without `-r`, `dir` is made as a service directory (it must not exist) with its logger in
//! `dir/log`; with `-r svc/logger[/pipeline]`, `dir` (which may exist) gets two s6-rc source
//! directories, `dir/svc` (`type` longrun, `producer-for`) and `dir/logger` (`consumer-for`,
//! `pipeline-name` when given). Both have `notification-fd` 3. Directories are made 0755
//! whatever the umask; without `-r` the run scripts are made executable for whoever may
//! read them (upstream's rule); with `-r` they are left to s6-rc-compile. A failure leaves
//! what was made, as upstream does.
//!
//! The service's run script, at each start: sends stderr to stdout; empties the
//! environment but for `PATH`; sets `USER`, then `UID`, `GID`, `GIDLIST` (s6-envuidgid
//! `-i`) and drops to the user (s6-applyuidgid `-U`); sets `HOME` to the user's home
//! directory; with `-E`, adds the variables of `envdir` (s6-envdir `-i`); replaces
//! `${USER}`, `${HOME}`, `${UID}`, `${GID}` and `${GIDLIST}` in each `-e` variable (unset
//! reads as empty), in `-p`'s path (default `/usr/bin:/bin`), which becomes `PATH`, and in
//! `-d`'s scandir (default `${HOME}/service`); then execs `s6-svscan -d3 -- userscandir`.
//! The logger runs `[s6-setuidgid loguser] s6-log -bd3 -- [t] [T] nN sS [SM] [pPREFIX]
//! logdir` (`-t`: 0 no stamp, 1 TAI64N, the default, 2 ISO 8601, 3 both).
//!
//! The scripts are `/bin/sh` scripts where upstream writes execline ones (see
//! docs/ARCHITECTURE.md): the s6 programs in them are our siblings by absolute path; the
//! service's script runs itself again (`"$0"`, the `./run` s6-supervise started) for the
//! steps after each chain-loader, with the step in `$1` (`/user`, `/env`: a supervisor's
//! `$1` is the service's name, which has no `/`), and the substitutions are done by a shell
//! function on the values, never by `eval`. Two consequences of the shell, refused here
//! with exit 100 rather than written into a script that would fail: the user name must be
//! a portable login name (letters, digits, `.`, `_`, `-`, not starting with `-`), since the
//! home directory comes from the shell's `~user`; and each `-e` name must be a shell
//! variable name. The prefix (`-P`) goes into the logger's script quoted, as one
//! directive, where upstream pastes it unquoted.

use std::ffi::OsString;
use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use s6rs_sys::cli::{self, parse_uint, show, Fatal, Flag, Show, Spec};
use s6rs_sys::exec;
use s6rs_sys::fd;

/// The command line, as upstream's.
pub const SPEC: Spec = Spec {
    name: "s6-usertree-maker",
    operands: "user logdir dir",
    about: "Writes a service directory that runs a user's own supervision tree, with a \
            catch-all logger for it.",
    doc: "s6-usertree-maker.html",
    flags: &[
        Flag::arg('d', "userscandir", Show::Own, "the user's scandir (default ${HOME}/service; substituted)"),
        Flag::arg('p', "path", Show::Own, "the tree's PATH (default /usr/bin:/bin; substituted)"),
        Flag::arg(
            'E',
            "envdir",
            Show::Text("-E envdir [ -e var ... ]"),
            "add the variables of envdir (s6-envdir)",
        ),
        Flag::arg('e', "var", Show::Hidden, "substitute into this variable of envdir (repeatable)"),
        Flag::arg(
            'r',
            "service/logger[/pipeline]",
            Show::Own,
            "write s6-rc source directories dir/service and dir/logger instead",
        ),
        Flag::arg('l', "loguser", Show::Own, "run the catch-all logger as this user (default: root)"),
        Flag::arg('t', "stamptype", Show::Own, "0 no timestamp, 1 TAI64N (default), 2 ISO 8601, 3 both"),
        Flag::arg('n', "nfiles", Show::Own, "archive files kept in logdir (default 10)"),
        Flag::arg('s', "filesize", Show::Own, "largest current file (default 1000000)"),
        Flag::arg('S', "maxsize", Show::Own, "largest total size of the archives (default 0: no limit)"),
        Flag::arg('P', "prefix", Show::Own, "prefix every logged line with this"),
    ],
};

/// The most `-e` variables (upstream's limit).
const VARS_MAX: usize = 64;

/// What the command line asks for.
#[derive(Debug, Clone)]
struct Maker {
    scandir: String,
    path: String,
    envdir: Option<String>,
    vars: Vec<String>,
    /// (service, logger, pipeline) with `-r`.
    rc: Option<(String, String, Option<String>)>,
    loguser: Option<String>,
    stamps: u32,
    nfiles: u32,
    filesize: u64,
    maxsize: u64,
    prefix: Option<String>,
    user: String,
    logdir: String,
}

fn parse(args: &[OsString]) -> Result<(Maker, OsString), Fatal> {
    let usage = || SPEC.usage_error();
    let mut m = Maker {
        scandir: "${HOME}/service".into(),
        path: "/usr/bin:/bin".into(),
        envdir: None,
        vars: Vec::new(),
        rc: None,
        loguser: None,
        stamps: 1,
        nfiles: 10,
        filesize: 1_000_000,
        maxsize: 0,
        prefix: None,
        user: String::new(),
        logdir: String::new(),
    };
    let mut rc = None;
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str().to_owned();
        match opt.c {
            'd' => m.scandir = arg,
            'p' => m.path = arg,
            'E' => m.envdir = Some(arg),
            'e' => {
                if m.vars.len() >= VARS_MAX {
                    return Err(Fatal::bad("too many -e variables"));
                }
                if !is_shell_name(&arg) {
                    return Err(Fatal::bad(format!("invalid variable name: {arg}")));
                }
                m.vars.push(arg);
            }
            'r' => rc = Some(arg),
            'l' => m.loguser = Some(arg),
            't' => m.stamps = parse_uint(&arg).ok_or_else(usage)?,
            'n' => m.nfiles = parse_uint(&arg).ok_or_else(usage)?,
            's' => m.filesize = parse_uint(&arg).ok_or_else(usage)?,
            'S' => m.maxsize = parse_uint(&arg).ok_or_else(usage)?,
            'P' => m.prefix = Some(arg),
            _ => return Err(usage()),
        }
    }
    let [user, logdir, dir, ..] = g.operands() else { return Err(usage()) };
    m.user = user.to_string_lossy().into_owned();
    m.logdir = logdir.to_string_lossy().into_owned();
    if !m.logdir.starts_with('/') {
        return Err(Fatal::bad("logdir must be absolute"));
    }
    if !m.scandir.starts_with('/') && !m.scandir.starts_with("${HOME}/") {
        return Err(Fatal::bad("userscandir must be absolute or start with ${HOME}/"));
    }
    if m.stamps > 3 {
        return Err(Fatal::bad("stamptype must be 0, 1, 2 or 3"));
    }
    if let Some(r) = rc {
        m.rc = Some(rc_names(&r)?);
    }
    if !is_portable_login(&m.user) {
        return Err(Fatal::bad(format!("user name is not a portable login name: {}", m.user)));
    }
    Ok((m, dir.clone()))
}

/// Splits `-r`'s `service/logger[/pipeline]` with upstream's checks and messages.
fn rc_names(r: &str) -> Result<(String, String, Option<String>), Fatal> {
    let shape = || Fatal::bad("argument to -r must be: service/logger or service/logger/pipeline");
    if r.contains('\n') {
        return Err(Fatal::bad("newlines are forbidden in s6-rc names"));
    }
    if r.starts_with('/') {
        return Err(Fatal::bad("service name cannot be empty"));
    }
    let (service, rest) = r.split_once('/').ok_or_else(shape)?;
    if rest.is_empty() {
        return Err(shape());
    }
    if rest.starts_with('/') {
        return Err(Fatal::bad("logger name cannot be empty"));
    }
    let (logger, pipeline) = match rest.split_once('/') {
        None => (rest, None),
        Some((_, "")) => return Err(Fatal::bad("pipeline name cannot be empty")),
        Some((_, p)) if p.contains('/') => return Err(Fatal::bad("slashes are forbidden in s6-rc names")),
        Some((l, p)) => (l, Some(p.to_owned())),
    };
    Ok((service.to_owned(), logger.to_owned(), pipeline))
}

/// A shell variable name.
fn is_shell_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

/// A login name the shell's `~user` takes as it is.
fn is_portable_login(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
}

/// `s` quoted for the shell: single quotes, each `'` written as `'\''`.
fn q(s: &[u8]) -> String {
    let s = String::from_utf8_lossy(s);
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// One of our programs, by absolute path, quoted.
fn ours(name: &str) -> String {
    q(exec::sibling(name).as_os_str().as_bytes())
}

/// The shell function that replaces `${USER}`, `${HOME}`, `${UID}`, `${GID}` and
/// `${GIDLIST}` in `$1` with the variables' values, leaving any other `${` as it is; the
/// result is in `$_out`.
const SUBST: &str = r#"subst() {
  _in=$1
  _out=
  while :; do
    case $_in in
      *'${'*)
        _out=$_out${_in%%'${'*}
        _in=${_in#*'${'}
        case $_in in
          USER\}*) _out=$_out$USER; _in=${_in#USER\}} ;;
          HOME\}*) _out=$_out$HOME; _in=${_in#HOME\}} ;;
          UID\}*) _out=$_out$UID; _in=${_in#UID\}} ;;
          GID\}*) _out=$_out$GID; _in=${_in#GID\}} ;;
          GIDLIST\}*) _out=$_out$GIDLIST; _in=${_in#GIDLIST\}} ;;
          *) _out=$_out'${' ;;
        esac ;;
      *) _out=$_out$_in; break ;;
    esac
  done
}
"#;

impl Maker {
    /// The service's run script.
    fn run_script(&self) -> String {
        let user = q(self.user.as_bytes());
        let mut s = String::from("#!/bin/sh -e\n");
        s += "# Runs the supervision tree of one user. The chain-loaders run this script\n";
        s += "# again with the next step as its argument: \"/user\" or \"/env\", which no\n";
        s += "# service name (what a supervisor gives as $1) can be.\n";
        s += SUBST;
        s += &format!("case ${{1-}} in\n/user)\n  HOME=~{}\n  export HOME\n", self.user);
        if let Some(envdir) = &self.envdir {
            s += &format!(
                "  exec {} -i -- {} /bin/sh -e \"$0\" /env\n",
                ours("s6-envdir"),
                q(envdir.as_bytes())
            );
        }
        s += "  ;;\n/env)\n  ;;\n*)\n  exec 2>&1\n";
        s += &format!(
            "  exec env -i ${{PATH+\"PATH=$PATH\"}} USER={user} \\\n    {} -i -- {user} \\\n    {} -U -- \\\n    /bin/sh -e \"$0\" /user\n  ;;\n",
            ours("s6-envuidgid"),
            ours("s6-applyuidgid"),
        );
        s += "esac\n";
        if self.envdir.is_some() {
            for v in &self.vars {
                s += &format!("subst \"${{{v}-}}\"\n{v}=$_out\nexport {v}\n");
            }
        }
        s += &format!("subst {}\nPATH=$_out\nexport PATH\n", q(self.path.as_bytes()));
        s += &format!("subst {}\nexec {} -d3 -- \"$_out\"\n", q(self.scandir.as_bytes()), ours("s6-svscan"));
        s
    }

    /// The logger's run script.
    fn log_script(&self) -> String {
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
        s += &q(self.logdir.as_bytes());
        s.push('\n');
        s
    }

    /// Writes the service directory `dir`; `producer_for` is the logger's name with `-r`.
    fn write_service(&self, dir: &Path, producer_for: Option<&str>) -> Result<(), Fatal> {
        make_dir(dir, false)?;
        write_file(&dir.join("notification-fd"), b"3\n")?;
        let run = dir.join("run");
        write_file(&run, self.run_script().as_bytes())?;
        match producer_for {
            Some(logger) => {
                write_file(&dir.join("type"), b"longrun\n")?;
                write_file(&dir.join("producer-for"), format!("{logger}\n").as_bytes())
            }
            None => make_executable(&run),
        }
    }

    /// Writes the logger's directory `dir`; `rc` is (service, pipeline) with `-r`.
    fn write_logger(&self, dir: &Path, rc: Option<(&str, Option<&str>)>) -> Result<(), Fatal> {
        make_dir(dir, false)?;
        write_file(&dir.join("notification-fd"), b"3\n")?;
        let run = dir.join("run");
        write_file(&run, self.log_script().as_bytes())?;
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

/// Runs s6-usertree-maker.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (m, dir) = parse(&args)?;
    let dir = Path::new(&dir);
    match &m.rc {
        Some((service, logger, pipeline)) => {
            make_dir(dir, true)?;
            m.write_service(&dir.join(service), Some(logger))?;
            m.write_logger(&dir.join(logger), Some((service, pipeline.as_deref())))?;
        }
        None => {
            m.write_service(dir, None)?;
            m.write_logger(&dir.join("log"), None)?;
        }
    }
    Ok(0)
}

/// Writes `data` to a new file `path` (replacing any), mode 0666 under the umask.
fn write_file(path: &Path, data: &[u8]) -> Result<(), Fatal> {
    let res = (|| {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(0o666).open(path)?;
        f.write_all(data)
    })();
    res.map_err(|e| Fatal::sys(format_args!("write to {}", show(path.as_os_str())), &e))
}

/// Makes `dir` with mode 0755 whatever the umask; it must not exist unless `may_exist`.
fn make_dir(dir: &Path, may_exist: bool) -> Result<(), Fatal> {
    let old = fd::umask(0);
    let res = DirBuilder::new().mode(0o755).create(dir);
    fd::umask(old);
    match res {
        Err(e) if !(may_exist && e.kind() == std::io::ErrorKind::AlreadyExists) => {
            Err(Fatal::sys(format_args!("mkdir {}", show(dir.as_os_str())), &e))
        }
        _ => Ok(()),
    }
}

/// Makes `run` executable for whoever may read it (upstream's rule, from the umask).
fn make_executable(run: &Path) -> Result<(), Fatal> {
    let m = !fd::umask(0o022) & 0o777;
    fd::umask(!m & 0o777);
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

    fn p(a: &[&str]) -> Result<(Maker, OsString), Fatal> {
        parse(&a.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn rc_names_are_checked_as_upstream() {
        assert_eq!(rc_names("a/b").unwrap(), ("a".into(), "b".into(), None));
        assert_eq!(rc_names("a/b/c").unwrap(), ("a".into(), "b".into(), Some("c".into())));
        let msg = |r: &str| rc_names(r).unwrap_err().msg;
        assert_eq!(msg("/b"), "service name cannot be empty");
        assert_eq!(msg("a"), "argument to -r must be: service/logger or service/logger/pipeline");
        assert_eq!(msg("a/"), "argument to -r must be: service/logger or service/logger/pipeline");
        assert_eq!(msg("a//c"), "logger name cannot be empty");
        assert_eq!(msg("a/b/"), "pipeline name cannot be empty");
        assert_eq!(msg("a/b/c/d"), "slashes are forbidden in s6-rc names");
        assert_eq!(msg("a\nx/b"), "newlines are forbidden in s6-rc names");
    }

    #[test]
    fn operands_and_options_are_checked() {
        let msg = |a: &[&str]| p(a).unwrap_err().msg;
        assert_eq!(msg(&["u", "logs", "d"]), "logdir must be absolute");
        assert_eq!(
            msg(&["-d", "svc", "u", "/logs", "d"]),
            "userscandir must be absolute or start with ${HOME}/"
        );
        assert_eq!(msg(&["-t", "4", "u", "/logs", "d"]), "stamptype must be 0, 1, 2 or 3");
        assert_eq!(msg(&["-e", "A=B", "u", "/logs", "d"]), "invalid variable name: A=B");
        assert!(p(&["-t", "x", "u", "/logs", "d"]).unwrap_err().usage);
        assert!(p(&["u", "/logs"]).unwrap_err().usage);
        assert!(p(&["-d", "${HOME}/s", "u", "/logs", "d"]).is_ok());
    }

    #[test]
    fn logger_script_has_upstream_directives() {
        let (m, _) = p(&[
            "-t", "3", "-n", "5", "-s", "4096", "-S", "100000", "-P", "x y", "-l", "log", "u", "/l", "d",
        ])
        .unwrap();
        let s = m.log_script();
        let want = format!(
            "#!/bin/sh -e\nexec {} 'log' {} -bd3 -- t T n5 s4096 S100000 'px y' '/l'\n",
            ours("s6-setuidgid"),
            ours("s6-log")
        );
        assert_eq!(s, want);
        let (m, _) = p(&["-t", "0", "u", "/l", "d"]).unwrap();
        assert!(m.log_script().ends_with(" -bd3 -- n10 s1000000 '/l'\n"));
    }
}
