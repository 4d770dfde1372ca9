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
use std::path::Path;

use s6rs_sys::cli::{Fatal, Flag, Show, Spec};

use crate::script::{self, ours, quote, Kind, Logger, RcNames, LOGGER_FLAGS};

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
        LOGGER_FLAGS[0],
        LOGGER_FLAGS[1],
        LOGGER_FLAGS[2],
        LOGGER_FLAGS[3],
        LOGGER_FLAGS[4],
        LOGGER_FLAGS[5],
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
    /// With `-r`: the logger is always named.
    rc: Option<RcNames>,
    log: Logger,
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
        log: Logger::default(),
        user: String::new(),
        logdir: String::new(),
    };
    let mut rc = None;
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str().to_owned();
        if m.log.option(opt.c, &arg, usage)? {
            continue;
        }
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
    m.log.check()?;
    if let Some(r) = rc {
        m.rc = Some(script::rc_names(&r, false, true)?);
    }
    if !is_portable_login(&m.user) {
        return Err(Fatal::bad(format!("user name is not a portable login name: {}", m.user)));
    }
    Ok((m, dir.clone()))
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
        let user = quote(self.user.as_bytes());
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
                quote(envdir.as_bytes())
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
        s += &format!("subst {}\nPATH=$_out\nexport PATH\n", quote(self.path.as_bytes()));
        s += &format!(
            "subst {}\nexec {} -d3 -- \"$_out\"\n",
            quote(self.scandir.as_bytes()),
            ours("s6-svscan")
        );
        s
    }

    /// Writes the service directory `dir`; `producer_for` is the logger's name with `-r`.
    fn write_service(&self, dir: &Path, producer_for: Option<&str>) -> Result<(), Fatal> {
        let kind = match producer_for {
            Some(_) => Kind::Rc { producer_for, consumer_for: None, pipeline_name: None },
            None => Kind::Service,
        };
        script::write_dir(dir, &self.run_script(), kind)
    }

    /// Writes the logger's directory `dir`; `rc` is (service, pipeline) with `-r`.
    fn write_logger(&self, dir: &Path, rc: Option<(&str, Option<&str>)>) -> Result<(), Fatal> {
        let kind = match rc {
            Some((service, pipeline_name)) => {
                Kind::Rc { producer_for: None, consumer_for: Some(service), pipeline_name }
            }
            None => Kind::Service,
        };
        script::write_dir(dir, &self.log.script(&self.logdir), kind)
    }
}

/// Runs s6-usertree-maker.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (m, dir) = parse(&args)?;
    let dir = Path::new(&dir);
    match &m.rc {
        Some(rc) => {
            script::make_dir(dir, true)?;
            m.write_service(&dir.join(&rc.service), rc.logger.as_deref())?;
            if let Some(logger) = &rc.logger {
                m.write_logger(&dir.join(logger), Some((&rc.service, rc.pipeline.as_deref())))?;
            }
        }
        None => {
            m.write_service(dir, None)?;
            m.write_logger(&dir.join("log"), None)?;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<(Maker, OsString), Fatal> {
        parse(&a.iter().map(OsString::from).collect::<Vec<_>>())
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
        let s = m.log.script(&m.logdir);
        let want = format!(
            "#!/bin/sh -e\nexec {} 'log' {} -bd3 -- t T n5 s4096 S100000 'px y' '/l'\n",
            ours("s6-setuidgid"),
            ours("s6-log")
        );
        assert_eq!(s, want);
        let (m, _) = p(&["-t", "0", "u", "/l", "d"]).unwrap();
        assert!(m.log.script(&m.logdir).ends_with(" -bd3 -- n10 s1000000 '/l'\n"));
    }
}
