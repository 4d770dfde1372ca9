//! `s6-svstat [ -uwNrpgest | -o fields ] [ -n ] servicedir`: print a service's state, as a
//! human summary or as a list of fields (upstream doc/s6-svstat.html, 2.15 behaviour).
//!
//! 2.15 over 2.11: the up line names the process group (`up (pid P pgid P)`), a supervisor
//! that has not started the service yet shows `down (not started yet)` with no durations,
//! `paused` is only true while something runs, and `-o` fields must be spelled in full.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;

use s6rs_sys::cli::{Fatal, Flag, Show, Spec};
use s6rs_sys::tai::Tain;

use crate::svstatus::Status;

/// The command line, as 2.15's. Without field options, one human-readable line.
pub const SPEC: Spec = Spec {
    name: "s6-svstat",
    operands: "servicedir",
    about: "Prints the state of a supervised service, as a summary line or as chosen fields.",
    doc: "s6-svstat.html",
    flags: &FLAGS,
};

/// s6-svstat's options, in usage-line order (s6-instance-status takes all but `-g`).
pub(crate) const FLAGS: [Flag; 11] = [
        Flag::new('u', Show::Own, "print whether it is up (-o up)"),
        Flag::new('w', Show::Cluster, "print whether it is wanted up (-o wantedup)"),
        Flag::new('N', Show::Cluster, "print whether it is normally up (-o normallyup)"),
        Flag::new('r', Show::Cluster, "print whether it is ready (-o ready)"),
        Flag::new('p', Show::Cluster, "print its pid (-o pid)"),
        Flag::new('g', Show::Cluster, "print its process group (-o pgid)"),
        Flag::new('e', Show::Cluster, "print the last exit code (-o exitcode)"),
        Flag::new('s', Show::Cluster, "print the last killing signal (-o signal)"),
        Flag::new('t', Show::Cluster, "print the seconds since the last up or down (-o updownfor)"),
        Flag::arg(
            'o',
            "up,wantedup,normallyup,ready,paused,pid,pgid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor",
            Show::Or,
            "print these fields, comma-separated, in this order",
        ),
        Flag::new('n', Show::Own, "in the summary line, show signals by number"),
];

/// At most this many fields per invocation.
pub(crate) const MAX_FIELDS: usize = 16;

/// One value `-o` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `up`: something runs and it is not `./finish`.
    Up,
    /// `wantedup`.
    WantedUp,
    /// `normallyup`: no `./down` file.
    NormallyUp,
    /// `ready`: up (or finishing) and ready.
    Ready,
    /// `paused`.
    Paused,
    /// `pid` and `pgid` (the service is a session leader, so both are the same).
    Pid,
    /// `exitcode` of the last `./run`.
    ExitCode,
    /// `signal` that killed the last `./run`, by name.
    Signal,
    /// `signum`: the same, by number.
    Signum,
    /// `updownsince`: TAI64N label of the last up/down transition.
    UpdownSince,
    /// `readysince`: TAI64N label of the last readiness transition.
    ReadySince,
    /// `updownfor`: seconds since the last up/down transition.
    UpdownFor,
    /// `readyfor`: seconds since the last readiness transition.
    ReadyFor,
}

const FIELDS: [(&str, Field); 14] = [
    ("exitcode", Field::ExitCode),
    ("normallyup", Field::NormallyUp),
    ("paused", Field::Paused),
    ("pgid", Field::Pid),
    ("pid", Field::Pid),
    ("ready", Field::Ready),
    ("readyfor", Field::ReadyFor),
    ("readysince", Field::ReadySince),
    ("signal", Field::Signal),
    ("signum", Field::Signum),
    ("up", Field::Up),
    ("updownfor", Field::UpdownFor),
    ("updownsince", Field::UpdownSince),
    ("wantedup", Field::WantedUp),
];

/// What a reader knows: the status record, whether `./down` is absent, and the time.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// The record, with a future `stamp` already clamped to `now`.
    pub st: Status,
    /// No `./down` file.
    pub normallyup: bool,
    /// The current time.
    pub now: Tain,
}

fn is_up(st: &Status) -> bool {
    st.pid != 0 && !st.finishing
}

/// 2.15 s6-supervise's first status write has `paused` set as a marker.
fn not_started_yet(st: &Status) -> bool {
    st.pid == 0 && !st.finishing && st.paused
}

/// Whole seconds from `t` to `now`, with skalibs' unsigned wrap-around when `t` is later.
fn seconds_since(now: Tain, t: Tain) -> u64 {
    now.sec.wrapping_sub(t.sec).wrapping_sub(u64::from(now.nano < t.nano))
}

fn signame(sig: i32) -> String {
    format!("SIG{}", s6rs_sys::sig::short_name(sig).unwrap_or("???"))
}

/// The signal that killed `./run` last, for the field printers.
fn last_signal(st: &Status) -> Option<i32> {
    let w = i32::from(st.wstat);
    (!not_started_yet(st) && !is_up(st) && libc::WIFSIGNALED(w)).then(|| libc::WTERMSIG(w))
}

fn tf(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

/// The text of one field.
pub fn field(f: Field, v: &View) -> String {
    let st = &v.st;
    let w = i32::from(st.wstat);
    match f {
        Field::Up => tf(is_up(st)),
        Field::WantedUp => tf(st.wantup),
        Field::NormallyUp => tf(v.normallyup),
        Field::Ready => tf(st.pid != 0 && st.ready),
        Field::Paused => tf(st.paused && st.pid != 0),
        Field::Pid if is_up(st) => st.pid.to_string(),
        Field::Pid => "-1".to_owned(),
        Field::ExitCode if !not_started_yet(st) && !is_up(st) && libc::WIFEXITED(w) => {
            libc::WEXITSTATUS(w).to_string()
        }
        Field::ExitCode => "-1".to_owned(),
        Field::Signal => last_signal(st).map_or_else(|| "NA".to_owned(), signame),
        Field::Signum => last_signal(st).unwrap_or(-1).to_string(),
        Field::UpdownSince => st.stamp.label(),
        Field::ReadySince => st.readystamp.label(),
        Field::UpdownFor => seconds_since(v.now, st.stamp).to_string(),
        Field::ReadyFor => seconds_since(v.now, st.readystamp).to_string(),
    }
}

/// The human summary line (without the newline). `numeric` prints signal numbers.
pub fn summary(v: &View, numeric: bool) -> String {
    let st = &v.st;
    let up = is_up(st);
    let fresh = not_started_yet(st);
    let w = i32::from(st.wstat);
    let mut s = if up {
        format!("up (pid {0} pgid {0}) ", st.pid)
    } else if fresh {
        "down (not started yet) ".to_owned()
    } else if libc::WIFSIGNALED(w) {
        let sig = libc::WTERMSIG(w);
        let what = if numeric { sig.to_string() } else { signame(sig) };
        format!("down (signal {what}) ")
    } else {
        format!("down (exitcode {}) ", libc::WEXITSTATUS(w))
    };
    if !fresh {
        s.push_str(&format!("{} seconds", seconds_since(v.now, st.stamp)));
    }
    if up && !v.normallyup {
        s.push_str(", normally down");
    }
    if !up && v.normallyup {
        s.push_str(", normally up");
    }
    if up && st.paused {
        s.push_str(", paused");
    }
    if !up && st.wantup {
        s.push_str(", want up");
    }
    if up && !st.wantup {
        s.push_str(", want down");
    }
    if st.ready && !fresh {
        s.push_str(&format!(", ready {} seconds", seconds_since(v.now, st.readystamp)));
    }
    s
}

/// Parses an `-o` list onto `fields`. An empty list adds nothing; a trailing comma is fine.
fn parse_fields(arg: &str, fields: &mut Vec<Field>) -> Result<(), Fatal> {
    let mut rest = arg;
    while !rest.is_empty() {
        let (name, tail) = rest.split_once(',').unwrap_or((rest, ""));
        let f = FIELDS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, f)| f)
            .ok_or_else(|| Fatal::bad(format!("invalid option field: {name}")))?;
        push(fields, f)?;
        rest = tail;
    }
    Ok(())
}

fn push(fields: &mut Vec<Field>, f: Field) -> Result<(), Fatal> {
    if fields.len() >= MAX_FIELDS {
        return Err(Fatal::bad("too many option fields"));
    }
    fields.push(f);
    Ok(())
}

/// Runs s6-svstat.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut g = SPEC.getopt(&args);
    let mut numeric = false;
    let mut fields = Vec::new();
    while let Some(opt) = g.next() {
        let opt = opt.map_err(|_| SPEC.usage_error())?;
        let f = match opt.c {
            'n' => {
                numeric = true;
                continue;
            }
            'o' => {
                parse_fields(&opt.arg.as_deref().unwrap_or_default().to_string_lossy(), &mut fields)?;
                continue;
            }
            'u' => Field::Up,
            'w' => Field::WantedUp,
            'N' => Field::NormallyUp,
            'r' => Field::Ready,
            'p' | 'g' => Field::Pid,
            'e' => Field::ExitCode,
            's' => Field::Signal,
            't' => Field::UpdownFor,
            _ => return Err(SPEC.usage_error()),
        };
        push(&mut fields, f)?;
    }
    let Some(dir) = g.operands().first() else { return Err(SPEC.usage_error()) };
    let name = dir.to_string_lossy();
    let dir = Path::new(dir);
    if !super::svok::is_supervised(dir).map_err(|e| Fatal::sys(format_args!("check {name}"), &e))? {
        return Err(Fatal::new(1, format!("unable to read status for {name}: s6-supervise not running")));
    }
    let mut st = Status::read(dir).map_err(|e| Fatal::sys(format_args!("read status for {name}"), &e))?;
    let now = Tain::now();
    if st.stamp > now {
        st.stamp = now;
    }
    let normallyup = match std::fs::metadata(dir.join("down")) {
        Ok(_) => false,
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => return Err(Fatal::sys(format_args!("access {name}/down"), &e)),
    };
    let view = View { st, normallyup, now };
    let mut line = if fields.is_empty() {
        summary(&view, numeric)
    } else {
        fields.iter().map(|&f| field(f, &view)).collect::<Vec<_>>().join(" ")
    };
    line.push('\n');
    let mut out = io::stdout().lock();
    out.write_all(line.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Fatal::sys("write to stdout", &e))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Tain = Tain { sec: 0x4000_0000_6b04_da80, nano: 500_000_000 };

    fn view(st: Status, normallyup: bool) -> View {
        View { st, normallyup, now: NOW }
    }

    fn ago(secs: u64) -> Tain {
        Tain { sec: NOW.sec - secs, nano: 600_000_000 }
    }

    #[test]
    fn up_ready_line_and_fields() {
        let st = Status {
            stamp: ago(10),
            readystamp: ago(4),
            pid: 4242,
            wantup: true,
            ready: true,
            ..Default::default()
        };
        let v = view(st, true);
        assert_eq!(summary(&v, false), "up (pid 4242 pgid 4242) 9 seconds, ready 3 seconds");
        let all: Vec<String> = FIELDS.iter().map(|&(_, f)| field(f, &v)).collect();
        assert_eq!(
            all,
            [
                "-1",
                "true",
                "false",
                "4242",
                "4242",
                "true",
                "3",
                "@400000006b04da7c23c34600",
                "NA",
                "-1",
                "true",
                "9",
                "@400000006b04da7623c34600",
                "true"
            ]
        );
    }

    #[test]
    fn down_lines() {
        let st = Status {
            stamp: ago(3),
            readystamp: ago(2),
            wstat: 15,
            ready: true,
            wantup: true,
            ..Default::default()
        };
        assert_eq!(
            summary(&view(st, false), false),
            "down (signal SIGTERM) 2 seconds, want up, ready 1 seconds"
        );
        assert_eq!(
            summary(&view(st, true), true),
            "down (signal 15) 2 seconds, normally up, want up, ready 1 seconds"
        );
        let st = Status { stamp: ago(3), wstat: 7 << 8, ..Default::default() };
        assert_eq!(summary(&view(st, true), false), "down (exitcode 7) 2 seconds, normally up");
        assert_eq!(field(Field::ExitCode, &view(st, true)), "7");
        assert_eq!(field(Field::Signal, &view(st, true)), "NA");
    }

    #[test]
    fn not_started_yet_has_no_durations() {
        let st = Status {
            stamp: ago(3),
            readystamp: ago(3),
            paused: true,
            wantup: true,
            ready: true,
            ..Default::default()
        };
        let v = view(st, true);
        assert_eq!(summary(&v, false), "down (not started yet) , normally up, want up");
        assert_eq!(field(Field::Paused, &v), "false");
        assert_eq!(field(Field::ExitCode, &v), "-1");
        assert_eq!(field(Field::Pid, &v), "-1");
    }

    #[test]
    fn up_paused_want_down_normally_down() {
        let st = Status { stamp: ago(1), readystamp: ago(1), pid: 9, paused: true, ..Default::default() };
        assert_eq!(
            summary(&view(st, false), false),
            "up (pid 9 pgid 9) 0 seconds, normally down, paused, want down"
        );
    }

    #[test]
    fn finishing_is_down_with_finish_pid_hidden() {
        let st = Status {
            stamp: ago(1),
            readystamp: ago(5),
            pid: 77,
            wstat: 9,
            finishing: true,
            wantup: true,
            ..Default::default()
        };
        let v = view(st, true);
        assert_eq!(summary(&v, false), "down (signal SIGKILL) 0 seconds, normally up, want up");
        assert_eq!(field(Field::Pid, &v), "-1");
        assert_eq!(field(Field::Signum, &v), "9");
        assert_eq!(field(Field::Up, &v), "false");
    }

    #[test]
    fn future_readystamp_wraps_like_skalibs() {
        let st =
            Status { stamp: ago(1), readystamp: Tain { sec: NOW.sec + 1, nano: 0 }, ..Default::default() };
        assert_eq!(field(Field::ReadyFor, &view(st, true)), u64::MAX.to_string());
    }

    #[test]
    fn field_lists() {
        let mut f = Vec::new();
        parse_fields("up,pgid,", &mut f).unwrap();
        assert_eq!(f, [Field::Up, Field::Pid]);
        assert_eq!(parse_fields("up,,pid", &mut f).unwrap_err().msg, "invalid option field: ");
        assert_eq!(parse_fields("u", &mut Vec::new()).unwrap_err().msg, "invalid option field: u");
        let mut f = Vec::new();
        parse_fields(&["up"; 16].join(","), &mut f).unwrap();
        assert_eq!(parse_fields("up", &mut f).unwrap_err().msg, "too many option fields");
    }
}
