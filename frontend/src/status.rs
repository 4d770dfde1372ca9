//! `s6-rs status`: every service of a tree in one look.
//!
//! The record of each service comes from supervise's `svstatus` reader and s6-svstat's own
//! field printer (`supervise::cmd::svstat::field`), so every value agrees with `s6-svstat -o`
//! by construction; the death count comes from supervise's `dtally` format.
//!
//! JSON output (`--json`) is one object per line, per service and per logger:
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `service` | string | name (entry in the scan directory, or the operand; a logger is `NAME/log`) |
//! | `dir` | string | the service directory |
//! | `logger` | bool | this is the logger of the service before it |
//! | `state` | string | `up`, `down`, `finishing`, `not started`, or why nothing could be read: `no supervise dir`, `supervisor not running`, `bad status file`, `unreadable` |
//! | `up`, `wantedup`, `normallyup`, `ready`, `paused` | bool | as `s6-svstat -o` |
//! | `pid`, `pgid`, `exitcode`, `signum` | integer | as `s6-svstat -o` (-1 when none) |
//! | `signal` | string or null | as `s6-svstat -o` (null where it prints `NA`) |
//! | `updownsince`, `readysince` | string | TAI64N labels, as `s6-svstat -o` |
//! | `updownfor`, `readyfor` | integer | seconds, as `s6-svstat -o` |
//! | `deaths` | integer or null | records in the death tally |
//! | `failing` | string or null | `permanently failed` or `dying in a loop` |
//! | `error` | string or null | the system error behind an `unreadable` state |
//!
//! The s6-svstat keys are present only when the status record could be read.
//!
//! A service is *permanently failed* when it is down, not wanted up, has no `down` file and
//! its last `./run` exited non-zero: what a `./finish` exiting 125 (s6-permafailon) leaves;
//! it is *dying in a loop* when it is wanted up and its death tally holds at least
//! [`LOOP_DEATHS`] deaths in the last [`LOOP_WINDOW`] seconds.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use s6rs_supervise::cmd::svok::is_supervised;
use s6rs_supervise::cmd::svstat::{field, Field, View};
use s6rs_supervise::dtally;
use s6rs_supervise::svstatus::{self, Status};
use s6rs_sys::tai::Tain;

use crate::scan::{self, Service};

/// Deaths within [`LOOP_WINDOW`] that make a wanted-up service "dying in a loop".
pub const LOOP_DEATHS: usize = 3;
/// Seconds of death-tally history that count towards [`LOOP_DEATHS`].
pub const LOOP_WINDOW: u64 = 60;

/// `s6-rs status`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scan directories (each expands to its services) or service directories.
    #[arg(default_value = "/run/service")]
    pub dirs: Vec<PathBuf>,
    /// One JSON object per line, with the fields of `s6-svstat -o`.
    #[arg(long, conflicts_with = "prometheus")]
    pub json: bool,
    /// Prometheus text exposition format, for node_exporter's textfile collector.
    #[arg(long)]
    pub prometheus: bool,
}

/// The fields of `s6-svstat -o`, typed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Fields {
    /// Something runs and it is not `./finish`.
    pub up: bool,
    /// The supervisor wants it up.
    pub wantedup: bool,
    /// No `./down` file.
    pub normallyup: bool,
    /// Up and ready.
    pub ready: bool,
    /// Stopped with `s6-svc -p`.
    pub paused: bool,
    /// Pid of `./run`, -1 when down.
    pub pid: i64,
    /// Its process group (the service leads a session).
    pub pgid: i64,
    /// Exit code of the last `./run`, -1 when it was killed, is up or never ran.
    pub exitcode: i64,
    /// Signal that killed the last `./run`, by name.
    pub signal: Option<String>,
    /// The same, by number, -1 when none.
    pub signum: i64,
    /// TAI64N label of the last up/down transition.
    pub updownsince: String,
    /// TAI64N label of the last readiness transition.
    pub readysince: String,
    /// Seconds since the last up/down transition.
    pub updownfor: u64,
    /// Seconds since the last readiness transition.
    pub readyfor: u64,
}

/// Everything known of one service.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// Shown name.
    pub service: String,
    /// Its directory.
    pub dir: String,
    /// It is a logger.
    pub logger: bool,
    /// One word (or phrase) for the row.
    pub state: &'static str,
    /// The status record, when readable.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Fields>,
    /// Records in the death tally.
    pub deaths: Option<usize>,
    /// Why the service counts as failing.
    pub failing: Option<&'static str>,
    /// The error behind `unreadable`.
    pub error: Option<String>,
}

fn fields(v: &View) -> Fields {
    let s = |f| field(f, v);
    let b = |f| s(f) == "true";
    let i = |f| s(f).parse::<i64>().unwrap_or(-1);
    let sig = s(Field::Signal);
    Fields {
        up: b(Field::Up),
        wantedup: b(Field::WantedUp),
        normallyup: b(Field::NormallyUp),
        ready: b(Field::Ready),
        paused: b(Field::Paused),
        pid: i(Field::Pid),
        pgid: i(Field::Pid),
        exitcode: i(Field::ExitCode),
        signal: (sig != "NA").then_some(sig),
        signum: i(Field::Signum),
        updownsince: s(Field::UpdownSince),
        readysince: s(Field::ReadySince),
        updownfor: s(Field::UpdownFor).parse().unwrap_or(0),
        readyfor: s(Field::ReadyFor).parse().unwrap_or(0),
    }
}

/// Reads the death tally without repairing it: a status reader writes nothing.
fn deaths(dir: &Path) -> Option<Vec<dtally::Death>> {
    match std::fs::read(dtally::path(dir)) {
        Ok(d) => dtally::unpack_all(&d),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Some(Vec::new()),
        Err(_) => None,
    }
}

fn errtext(e: &io::Error) -> String {
    e.raw_os_error().map_or_else(|| e.to_string(), s6rs_sys::cli::strerror)
}

/// Looks at one service; never fails: what cannot be read becomes its state.
pub fn record(svc: &Service, now: Tain) -> Record {
    let mut r = Record {
        service: svc.name.clone(),
        dir: svc.dir.display().to_string(),
        logger: svc.logger,
        state: "unreadable",
        fields: None,
        deaths: None,
        failing: None,
        error: None,
    };
    if !svc.dir.join("supervise").is_dir() {
        r.state = "no supervise dir";
        return r;
    }
    match is_supervised(&svc.dir) {
        Ok(true) => {}
        Ok(false) => {
            r.state = "supervisor not running";
            return r;
        }
        Err(e) => {
            r.error = Some(errtext(&e));
            return r;
        }
    }
    let mut st = match std::fs::read(svc.dir.join("supervise/status")) {
        Ok(b) if b.len() == svstatus::SIZE => match Status::unpack(&b) {
            Some(st) => st,
            None => {
                r.state = "bad status file";
                return r;
            }
        },
        Ok(_) => {
            r.state = "bad status file";
            return r;
        }
        Err(e) => {
            r.error = Some(errtext(&e));
            return r;
        }
    };
    if st.stamp > now {
        st.stamp = now;
    }
    let normallyup = svc.dir.join("down").symlink_metadata().is_err();
    let f = fields(&View { st, normallyup, now });
    r.state = if f.up {
        "up"
    } else if st.finishing {
        "finishing"
    } else if st.pid == 0 && st.paused {
        "not started"
    } else {
        "down"
    };
    let tally = deaths(&svc.dir);
    r.deaths = tally.as_ref().map(Vec::len);
    let recent = tally.map_or(0, |t| {
        t.iter().filter(|d| d.stamp <= now && d.stamp.elapsed_at(now).as_secs() < LOOP_WINDOW).count()
    });
    r.failing = if !f.up && !f.wantedup && f.normallyup && f.exitcode > 0 && r.state == "down" {
        Some("permanently failed")
    } else if f.wantedup && recent >= LOOP_DEATHS {
        Some("dying in a loop")
    } else {
        None
    };
    r.fields = Some(f);
    r
}

/// Every record for the operands, in order.
pub fn records(dirs: &[PathBuf]) -> io::Result<Vec<Record>> {
    let now = Tain::now();
    Ok(scan::expand(dirs)?.iter().map(|s| record(s, now)).collect())
}

/// `3d4h`, `2h5m`, `4m10s`, `7s`: two units at most, for a table cell.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

const HEADER: [&str; 9] = ["SERVICE", "STATE", "PID", "FOR", "READY", "WANTED", "LAST", "DEATHS", "FAILING"];

fn cells(r: &Record) -> [String; 9] {
    let name = if r.logger { format!("  {}", r.service) } else { r.service.clone() };
    let dash = || "-".to_owned();
    let Some(f) = &r.fields else {
        return [name, r.state.to_owned(), dash(), dash(), dash(), dash(), dash(), dash(), dash()];
    };
    let state = if f.paused { format!("{} (paused)", r.state) } else { r.state.to_owned() };
    let last = match (&f.signal, f.exitcode) {
        (Some(s), _) => s.clone(),
        (None, c) if c >= 0 => format!("exit {c}"),
        _ => dash(),
    };
    [
        name,
        state,
        if f.pid > 0 { f.pid.to_string() } else { dash() },
        if r.state == "not started" { dash() } else { human_duration(f.updownfor) },
        if f.ready { "yes".into() } else { "no".into() },
        if f.wantedup { "up".into() } else { "down".into() },
        last,
        r.deaths.map_or_else(dash, |d| d.to_string()),
        r.failing.map_or_else(dash, str::to_owned),
    ]
}

fn state_style(r: &Record) -> Style {
    match (&r.fields, r.state) {
        (Some(f), "up") if f.wantedup => AnsiColor::Green.on_default(),
        (Some(f), _) if !f.wantedup => AnsiColor::Yellow.on_default(),
        _ => AnsiColor::Red.on_default().bold(),
    }
}

/// The table; `out` strips the colours when it is not a terminal.
pub fn write_table(out: &mut dyn Write, recs: &[Record]) -> io::Result<()> {
    let rows: Vec<[String; 9]> = recs.iter().map(cells).collect();
    let mut w = HEADER.map(str::len);
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let bold = Style::new().bold();
    let header: Vec<String> = HEADER.iter().enumerate().map(|(i, h)| format!("{h:<0$}", w[i])).collect();
    writeln!(out, "{bold}{}{bold:#}", header.join("  ").trim_end())?;
    for (r, row) in recs.iter().zip(&rows) {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate() {
            let pad =
                if i + 1 == row.len() { String::new() } else { " ".repeat(w[i] - c.chars().count() + 2) };
            let style = match i {
                1 => state_style(r),
                8 if r.failing.is_some() => AnsiColor::Red.on_default().bold(),
                _ => Style::new(),
            };
            line.push_str(&format!("{style}{c}{style:#}{pad}"));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// One JSON object per line.
pub fn write_json(out: &mut dyn Write, recs: &[Record]) -> io::Result<()> {
    for r in recs {
        serde_json::to_writer(&mut *out, r)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A label value in the exposition format: backslash, quote and newline escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

type Metric = (&'static str, &'static str, fn(&Record) -> Option<f64>);

fn field_metric(r: &Record, f: impl Fn(&Fields) -> f64) -> Option<f64> {
    r.fields.as_ref().map(f)
}

const METRICS: &[Metric] = &[
    ("s6_service_supervised", "1 if a supervisor runs and its status is readable", |r| {
        Some(f64::from(u8::from(r.fields.is_some())))
    }),
    ("s6_service_up", "1 if the service is up", |r| field_metric(r, |f| f64::from(u8::from(f.up)))),
    ("s6_service_ready", "1 if the service is up and ready", |r| {
        field_metric(r, |f| f64::from(u8::from(f.ready)))
    }),
    ("s6_service_wanted_up", "1 if the supervisor wants the service up", |r| {
        field_metric(r, |f| f64::from(u8::from(f.wantedup)))
    }),
    ("s6_service_normally_up", "1 if the service has no down file", |r| {
        field_metric(r, |f| f64::from(u8::from(f.normallyup)))
    }),
    ("s6_service_paused", "1 if the service is paused", |r| {
        field_metric(r, |f| f64::from(u8::from(f.paused)))
    }),
    ("s6_service_pid", "pid of the service, -1 when down", |r| field_metric(r, |f| f.pid as f64)),
    ("s6_service_state_seconds", "seconds since the last up or down transition", |r| {
        field_metric(r, |f| f.updownfor as f64)
    }),
    ("s6_service_last_exit_code", "exit code of the last run, -1 when none", |r| {
        field_metric(r, |f| f.exitcode as f64)
    }),
    ("s6_service_last_signal", "signal that killed the last run, -1 when none", |r| {
        field_metric(r, |f| f.signum as f64)
    }),
    ("s6_service_deaths", "records in the death tally", |r| r.deaths.map(|d| d as f64)),
    ("s6_service_failing", "1 if permanently failed or dying in a loop", |r| {
        r.fields.as_ref().map(|_| f64::from(u8::from(r.failing.is_some())))
    }),
];

/// The text exposition format: every family together, with its HELP and TYPE.
pub fn write_prometheus(out: &mut dyn Write, recs: &[Record]) -> io::Result<()> {
    for (name, help, value) in METRICS {
        writeln!(out, "# HELP {name} {help}")?;
        writeln!(out, "# TYPE {name} gauge")?;
        for r in recs {
            if let Some(v) = value(r) {
                let state = label(r.state);
                writeln!(out, "{name}{{service=\"{}\",state=\"{state}\"}} {v}", label(&r.service))?;
            }
        }
    }
    Ok(())
}

/// Runs `s6-rs status`: 0, or 1 when a service is failing or cannot be read.
pub fn run(a: &Args) -> io::Result<u8> {
    let recs = records(&a.dirs)?;
    let mut out = anstream::stdout().lock();
    if a.json {
        write_json(&mut out, &recs)?;
    } else if a.prometheus {
        write_prometheus(&mut out, &recs)?;
    } else {
        write_table(&mut out, &recs)?;
    }
    out.flush()?;
    Ok(u8::from(recs.iter().any(|r| r.failing.is_some() || r.fields.is_none())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(7), "7s");
        assert_eq!(human_duration(250), "4m10s");
        assert_eq!(human_duration(7500), "2h5m");
        assert_eq!(human_duration(3 * 86400 + 4 * 3600 + 5), "3d4h");
    }

    #[test]
    fn labels_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    fn scratch(tag: &str) -> PathBuf {
        let t = std::env::temp_dir().join(format!("s6rs-frontend-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        std::fs::create_dir_all(&t).unwrap();
        t
    }

    #[test]
    fn unreadable_states_never_fail() {
        let t = scratch("states");
        let now = Tain::now();
        let svc = |n: &str| Service { name: n.into(), dir: t.join(n), logger: false };
        std::fs::create_dir_all(t.join("nosup")).unwrap();
        assert_eq!(record(&svc("nosup"), now).state, "no supervise dir");
        std::fs::create_dir_all(t.join("dead/supervise")).unwrap();
        std::fs::write(t.join("dead/supervise/status"), [0u8; svstatus::SIZE]).unwrap();
        let r = record(&svc("dead"), now);
        assert_eq!(r.state, "supervisor not running");
        assert!(r.fields.is_none());
        let mut out = Vec::new();
        write_json(&mut out, std::slice::from_ref(&r)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["state"], "supervisor not running");
        assert!(v.get("up").is_none());
        let mut out = Vec::new();
        write_prometheus(&mut out, &[r]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("s6_service_supervised{service=\"dead\",state=\"supervisor not running\"} 0\n"));
        assert!(!text.contains("s6_service_up{"));
        std::fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn table_and_failing() {
        let now = Tain::now();
        let st = Status { stamp: now, readystamp: now, wstat: 3 << 8, ..Default::default() };
        let f = fields(&View { st, normallyup: true, now });
        assert_eq!(f.exitcode, 3);
        assert_eq!(f.signal, None);
        let r = Record {
            service: "web".into(),
            dir: "/s/web".into(),
            logger: false,
            state: "down",
            fields: Some(f),
            deaths: Some(2),
            failing: Some("permanently failed"),
            error: None,
        };
        let mut out = Vec::new();
        write_table(&mut out, &[r]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let plain: String = anstream::adapter::strip_str(&text).to_string();
        let lines: Vec<&str> = plain.lines().collect();
        assert!(
            lines[0].starts_with("SERVICE  STATE  PID  FOR  READY  WANTED  LAST    DEATHS  FAILING"),
            "{plain}"
        );
        assert!(
            lines[1]
                .starts_with("web      down   -    0s   no     down    exit 3  2       permanently failed"),
            "{plain}"
        );
    }
}
