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
use std::path::Path;

use s6rs_sys::cli::{parse_uint, show, Fatal, Flag, Show, Spec};

use crate::instance;
use crate::script::{self, ours, quote, Kind, Logger, RcNames, LOGGER_FLAGS};

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
        LOGGER_FLAGS[0],
        Flag::arg('L', "logdir", Show::Own, "log the service and its instances into this absolute logdir"),
        LOGGER_FLAGS[1],
        LOGGER_FLAGS[2],
        LOGGER_FLAGS[3],
        LOGGER_FLAGS[4],
        LOGGER_FLAGS[5],
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
    logdir: Option<String>,
    log: Logger,
    /// With `-r`.
    rc: Option<RcNames>,
}

fn parse(args: &[OsString]) -> Result<(Maker, OsString, OsString), Fatal> {
    let usage = || SPEC.usage_error();
    let mut m = Maker { max: 500, user: None, logdir: None, log: Logger::default(), rc: None };
    let mut rc = None;
    let mut g = SPEC.getopt(args);
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| usage())?;
        let arg = opt.arg_str().to_owned();
        if m.log.option(opt.c, &arg, usage)? {
            continue;
        }
        match opt.c {
            'c' => m.max = parse_uint(&arg).ok_or_else(usage)?,
            'u' => m.user = Some(arg),
            'L' => m.logdir = Some(arg),
            'r' => rc = Some(arg),
            _ => return Err(usage()),
        }
    }
    let [template, dir, ..] = g.operands() else { return Err(usage()) };
    if m.logdir.as_ref().is_some_and(|l| !l.starts_with('/')) {
        return Err(Fatal::bad("logdir must be absolute"));
    }
    m.log.check()?;
    if m.user.as_ref().is_some_and(|u| u.contains([' ', '\t', '\n'])) {
        return Err(Fatal::bad("invalid user"));
    }
    m.max = m.max.clamp(1, 90_000);
    if m.logdir.is_some() && rc.is_none() {
        m.max *= 2;
    }
    if let Some(r) = rc {
        m.rc = Some(script::rc_names(&r, true, m.logdir.is_some())?);
    }
    Ok((m, template.clone(), dir.clone()))
}

impl Maker {
    /// The instance supervisor's run script.
    fn run_script(&self) -> String {
        let mut s = String::from("#!/bin/sh -e\nexec 2>&1\nexec ");
        if let Some(u) = &self.user {
            s += &format!("{} {} ", ours("s6-setuidgid"), quote(u.as_bytes()));
        }
        s += &format!("{} -d3 -C{} -- instance\n", ours("s6-svscan"), self.max);
        s
    }

    /// Writes the service directory `dir` with its template; `rc` is `Some(producer-for)`
    /// with `-r`.
    fn write_service(&self, dir: &Path, template: &Path, rc: Option<Option<&str>>) -> Result<(), Fatal> {
        let kind = match rc {
            Some(producer_for) => Kind::Rc { producer_for, consumer_for: None, pipeline_name: None },
            None => Kind::Service,
        };
        script::write_dir(dir, &self.run_script(), kind)?;
        if rc.is_none() {
            script::make_dir(&dir.join("instance"), false)?;
            script::make_dir(&dir.join("instances"), false)?;
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
        let kind = match rc {
            Some((service, pipeline_name)) => {
                Kind::Rc { producer_for: None, consumer_for: Some(service), pipeline_name }
            }
            None => Kind::Service,
        };
        script::write_dir(dir, &self.log.script(logdir), kind)
    }
}

/// Runs s6-instance-maker.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let (m, template, dir) = parse(&args)?;
    let (template, dir) = (Path::new(&template), Path::new(&dir));
    match (&m.rc, &m.logdir) {
        (Some(rc), logdir) => {
            script::make_dir(dir, true)?;
            m.write_service(&dir.join(&rc.service), template, Some(rc.logger.as_deref()))?;
            if let (Some(logger), Some(logdir)) = (&rc.logger, logdir) {
                m.write_logger(&dir.join(logger), logdir, Some((&rc.service, rc.pipeline.as_deref())))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<(Maker, OsString, OsString), Fatal> {
        parse(&a.iter().map(OsString::from).collect::<Vec<_>>())
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
            m.log.script("/l"),
            format!(
                "#!/bin/sh -e\nexec {} 'lg' {} -bd3 -- t T n5 s4096 S9 'px y' '/l'\n",
                ours("s6-setuidgid"),
                ours("s6-log")
            )
        );
        let (m, _, _) = p(&["-t", "0", "t", "d"]).unwrap();
        assert!(m.log.script("/l").ends_with(" -bd3 -- n10 s1000000 '/l'\n"));
    }
}
