//! The s6-log script language (upstream page: s6-log.html, "Logging script syntax"): a pure
//! parser from the directive words to a compiled [`Script`], and the selection walk that
//! decides which actions a line goes to.
//!
//! A script is a sequence of groups, each some selection directives then some actions:
//!
//! * selections `+RE`, `-RE`, `f`;
//! * sticky controls `nN sN SN lN rN RN EN ^N pPREFIX p !CMD ?CMD` (they apply to every later
//!   action and logdir);
//! * one-shot controls `t` and `T` (only the next action);
//! * actions `1`, `2`, `=FILE`, and logdirs (a word starting with `/` or `.`).
//!
//! Errors are found as upstream finds them: a first pass over every word checks the shapes
//! (`syntax error at directive`, `unrecognized directive`, `no action directive specified`),
//! then a second pass reads the values in order (`unrecognized directive` for a bad number or
//! regex, `directive lN conflicts with previous s directive`). All exit 100.
//!
//! # Regular expressions
//!
//! Upstream compiles `+`/`-` patterns with glibc `regcomp(REG_EXTENDED | REG_NOSUB |
//! REG_NEWLINE)` in the C locale and tests each line, unanchored, with `regexec`. We compile
//! them with [`s6rs_sys::ere`] and its `newline` flag, which matches bytes with Unicode off.
//! Lines never contain a newline or a NUL (both end a line), so `^` and `$` are the start and
//! end of the line and `.` matches any byte. Matching is a yes/no question, so
//! leftmost-longest versus leftmost-first makes no difference. The POSIX corners that still
//! differ are listed in [`s6rs_sys::ere`]; a pattern it refuses (a back-reference, a
//! multi-character collating element) is an `unrecognized directive` (exit 100).
//!
//! An empty pattern (`-` or `+` alone) matches every line without running a regex.
//!
//! # Deviation
//!
//! Upstream keeps "run the processor with `/bin/sh`" in the same per-action flag word as `t`
//! and `T`, so it is reset by the next action: a second logdir after `?CMD` runs CMD through
//! execlineb. The documentation says a processor applies to all the next logdirs; we follow
//! the documentation, and the interpreter stays with its processor.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

use regex::bytes::Regex;
use s6rs_sys::cli::Fatal;
use s6rs_sys::ere;

/// Default number of archives kept (`n`).
pub const DEFAULT_COUNT: u32 = 10;
/// Default rotation size (`s`).
pub const DEFAULT_SIZE: u32 = 99999;
/// Smallest accepted rotation size; smaller values are raised to it.
pub const MIN_SIZE: u32 = 4096;
/// Largest accepted rotation size; larger values are lowered to it.
pub const MAX_SIZE: u32 = 268_435_455;
/// Default tolerance (`l`).
pub const DEFAULT_TOLERANCE: u32 = 2000;
/// Default retry delay in milliseconds (`r`).
pub const DEFAULT_RETRY_MS: u32 = 2000;
/// Default alert size (`E`).
pub const DEFAULT_ALERT_SIZE: usize = 200;
/// Default status-file size (`^`).
pub const DEFAULT_STATUS_SIZE: usize = 1001;

/// Selection patterns are compiled as upstream's `REG_NEWLINE` (see the module documentation).
const LINES: ere::Flags = ere::Flags { newline: true };

/// One selection directive.
#[derive(Debug)]
pub enum Selection {
    /// `+RE`: select a deselected line that matches (`None`: the empty pattern, every line).
    Select(Option<Regex>),
    /// `-RE`: deselect a selected line that matches (`None`: every line).
    Deselect(Option<Regex>),
    /// `f`: select exactly the lines no earlier action took.
    Fallthrough,
}

/// Where an action sends the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `1`: standard output.
    Stdout,
    /// `2`: an alert on standard error, the line cut to `size` bytes (0: whole line).
    Alert {
        /// The `E` value in force.
        size: usize,
    },
    /// `=FILE`: the status file, padded or cut to `size` bytes (0: as is).
    Status {
        /// The file to replace.
        path: PathBuf,
        /// `path` + `.new`, computed once.
        tmp: PathBuf,
        /// The `^` value in force.
        size: usize,
    },
    /// A logdir, by index into [`Script::logdirs`].
    Logdir(usize),
}

/// One action with the decorations in force for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Where the line goes.
    pub target: Target,
    /// `t`: prepend the TAI64N label and a space.
    pub tai: bool,
    /// `T`: prepend the local ISO 8601 time and two spaces (after the TAI64N label).
    pub local: bool,
    /// `pPREFIX`: prepend the prefix and a space (after the stamps).
    pub prefix: Option<Vec<u8>>,
}

/// A group: selections, then the actions that run on the line if it is selected then.
#[derive(Debug, Default)]
pub struct Group {
    /// The selection directives, in order.
    pub sels: Vec<Selection>,
    /// The actions, in order.
    pub acts: Vec<Action>,
}

/// The program a logdir runs on each rotated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processor {
    /// `?CMD`: `/bin/sh -c CMD`; otherwise (`!CMD`) `execlineb -Pc CMD`.
    pub shell: bool,
    /// The command string.
    pub cmd: OsString,
}

/// A logdir and the sticky settings in force where it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogdirSpec {
    /// The directory, as written.
    pub path: PathBuf,
    /// `n`: archives kept.
    pub count: u32,
    /// `s`: rotation size.
    pub size: u32,
    /// `S`: cap on the archives' total size (0: none).
    pub total: u64,
    /// `l`: rotate once `size + tolerance` reaches `s`.
    pub tolerance: u32,
    /// `r`: delay before retrying after an error.
    pub retry: Duration,
    /// `R`: rotate every this many seconds (0: never).
    pub period: u32,
    /// `!` / `?`: the processor, if any.
    pub processor: Option<Processor>,
}

/// A compiled script.
#[derive(Debug, Default)]
pub struct Script {
    /// The groups, in order.
    pub groups: Vec<Group>,
    /// Every logdir, in order of appearance.
    pub logdirs: Vec<LogdirSpec>,
    /// Set when directives after the last action were ignored (upstream warns).
    pub extraneous: bool,
}

impl Script {
    /// Whether any action wants the TAI64N label, and whether any wants local time: the
    /// clock is read once per line only if so.
    pub fn stamps(&self) -> (bool, bool) {
        let acts = || self.groups.iter().flat_map(|g| g.acts.iter());
        (acts().any(|a| a.tai), acts().any(|a| a.local))
    }

    /// Walks the selections for `line` and calls `f` with every action the line goes to,
    /// in script order.
    pub fn select(&self, line: &[u8], mut f: impl FnMut(&Action)) {
        let mut selected = true;
        let mut acted = false;
        for g in &self.groups {
            for sel in &g.sels {
                match sel {
                    Selection::Fallthrough => selected = !acted,
                    Selection::Select(re) => {
                        if !selected && re.as_ref().is_none_or(|r| r.is_match(line)) {
                            selected = true;
                        }
                    }
                    Selection::Deselect(re) => {
                        if selected && re.as_ref().is_none_or(|r| r.is_match(line)) {
                            selected = false;
                        }
                    }
                }
            }
            if selected {
                acted = true;
                for a in &g.acts {
                    f(a);
                }
            }
        }
    }
}

fn unrecognized(word: &OsStr) -> Fatal {
    Fatal::bad(format!("unrecognized directive: {}", word.to_string_lossy()))
}

fn syntax(word: &OsStr) -> Fatal {
    Fatal::bad(format!("syntax error at directive: {}", word.to_string_lossy()))
}

/// skalibs `uint320_scan` and friends on a whole word: decimal digits only, no overflow.
fn number<T: std::str::FromStr>(word: &OsStr) -> Result<T, Fatal> {
    let digits = &word.as_bytes()[1..];
    std::str::from_utf8(digits)
        .ok()
        .and_then(s6rs_sys::cli::parse_uint::<T>)
        .ok_or_else(|| unrecognized(word))
}

/// The first pass: shapes only, over every word, and whether the script has an action.
fn check_shapes(words: &[OsString]) -> Result<bool, Fatal> {
    let mut groups_closed = 0usize;
    let mut acted = false;
    for w in words {
        let b = w.as_bytes();
        let Some(&c) = b.first() else { return Err(unrecognized(w)) };
        match c {
            b'f' | b'+' | b'-' => {
                if c == b'f' && b.len() > 1 {
                    return Err(syntax(w));
                }
                if acted {
                    groups_closed += 1;
                    acted = false;
                }
            }
            b'n' | b's' | b'S' | b'l' | b'r' | b'R' | b'E' | b'^' | b'p' | b'!' | b'?' => {}
            b't' | b'T' => {
                if b.len() > 1 {
                    return Err(syntax(w));
                }
            }
            b'1' | b'2' => {
                if b.len() > 1 {
                    return Err(syntax(w));
                }
                acted = true;
            }
            b'.' | b'/' => acted = true,
            b'=' => {
                if b.len() == 1 {
                    return Err(syntax(w));
                }
                acted = true;
            }
            _ => return Err(unrecognized(w)),
        }
    }
    if acted {
        return Ok(false);
    }
    if groups_closed > 0 {
        return Ok(true);
    }
    Err(Fatal::bad("no action directive specified"))
}

/// Parses the directive words (the operands after s6-log's options).
pub fn parse(words: &[OsString]) -> Result<Script, Fatal> {
    let extraneous = check_shapes(words)?;
    let mut script = Script { extraneous, ..Script::default() };
    let mut count = DEFAULT_COUNT;
    let mut size = DEFAULT_SIZE;
    let mut total = 0u64;
    let mut tolerance = DEFAULT_TOLERANCE;
    let mut retry = Duration::from_millis(u64::from(DEFAULT_RETRY_MS));
    let mut period = 0u32;
    let mut alert = DEFAULT_ALERT_SIZE;
    let mut status = DEFAULT_STATUS_SIZE;
    let mut prefix: Option<Vec<u8>> = None;
    let mut processor: Option<Processor> = None;
    let (mut tai, mut local) = (false, false);
    let mut group = Group::default();

    for w in words {
        let b = w.as_bytes();
        let rest = OsStr::from_bytes(&b[1..]);
        match b[0] {
            c @ (b'f' | b'+' | b'-') => {
                let sel = match c {
                    b'f' => Selection::Fallthrough,
                    _ => {
                        let re = if rest.is_empty() {
                            None
                        } else {
                            Some(ere::compile(rest.as_bytes(), LINES).map_err(|_| unrecognized(w))?)
                        };
                        if c == b'+' {
                            Selection::Select(re)
                        } else {
                            Selection::Deselect(re)
                        }
                    }
                };
                if !group.acts.is_empty() {
                    script.groups.push(std::mem::take(&mut group));
                }
                group.sels.push(sel);
            }
            b'n' => count = number(w)?,
            b's' => size = number::<u32>(w)?.clamp(MIN_SIZE, MAX_SIZE),
            b'S' => total = number(w)?,
            b'l' => {
                tolerance = number(w)?;
                if tolerance > size / 2 {
                    return Err(Fatal::bad(format!(
                        "directive {} conflicts with previous s directive",
                        w.to_string_lossy()
                    )));
                }
            }
            b'r' => retry = Duration::from_millis(u64::from(number::<u32>(w)?)),
            b'R' => period = number(w)?,
            b'E' => alert = number::<u32>(w)? as usize,
            b'^' => status = number::<u32>(w)? as usize,
            b'p' => prefix = (!rest.is_empty()).then(|| rest.as_bytes().to_vec()),
            c @ (b'!' | b'?') => {
                processor = (!rest.is_empty()).then(|| Processor { shell: c == b'?', cmd: rest.to_owned() });
            }
            b't' => tai = true,
            b'T' => local = true,
            c @ (b'1' | b'2' | b'=' | b'.' | b'/') => {
                let target = match c {
                    b'1' => Target::Stdout,
                    b'2' => Target::Alert { size: alert },
                    b'=' => {
                        let path = PathBuf::from(rest);
                        let tmp = s6rs_sys::fd::new_path(&path);
                        Target::Status { path, tmp, size: status }
                    }
                    _ => {
                        script.logdirs.push(LogdirSpec {
                            path: PathBuf::from(w),
                            count,
                            size,
                            total,
                            tolerance,
                            retry,
                            period,
                            processor: processor.clone(),
                        });
                        Target::Logdir(script.logdirs.len() - 1)
                    }
                };
                group.acts.push(Action { target, tai, local, prefix: prefix.clone() });
                tai = false;
                local = false;
            }
            _ => return Err(unrecognized(w)),
        }
    }
    if !group.acts.is_empty() {
        script.groups.push(group);
    }
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn p(v: &[&str]) -> Script {
        parse(&words(v)).unwrap()
    }

    fn err(v: &[&str]) -> String {
        let e = parse(&words(v)).unwrap_err();
        assert_eq!(e.code, 100);
        e.msg
    }

    /// The targets a line reaches, as short strings.
    fn route(s: &Script, line: &str) -> Vec<String> {
        let mut out = Vec::new();
        s.select(line.as_bytes(), |a| {
            out.push(match &a.target {
                Target::Stdout => "1".to_string(),
                Target::Alert { .. } => "2".to_string(),
                Target::Status { path, .. } => format!("={}", path.display()),
                Target::Logdir(i) => s.logdirs[*i].path.display().to_string(),
            })
        });
        out
    }

    #[test]
    fn default_selects_everything() {
        let s = p(&["/a"]);
        assert_eq!(route(&s, "x"), ["/a"]);
        let d = &s.logdirs[0];
        assert_eq!((d.count, d.size, d.total, d.tolerance, d.period), (10, 99999, 0, 2000, 0));
        assert_eq!(d.retry, Duration::from_millis(2000));
        assert_eq!(d.processor, None);
    }

    #[test]
    fn plus_and_minus() {
        let s = p(&["-", "+level=(ERROR|WARN)", "/a"]);
        assert_eq!(route(&s, "t level=ERROR boom"), ["/a"]);
        assert!(route(&s, "t level=INFO fine").is_empty());
        let s = p(&["-debug", "1"]);
        assert!(route(&s, "a debug line").is_empty());
        assert_eq!(route(&s, "a normal line"), ["1"]);
        // `+` only selects lines that are deselected; `-` only deselects selected ones.
        let s = p(&["+x", "-y", "+z", "1"]);
        assert_eq!(route(&s, "y z"), ["1"]);
        assert!(route(&s, "y").is_empty());
    }

    #[test]
    fn state_carries_between_groups_and_f_falls_through() {
        let s = p(&["-", "+fatal:", "2", "-", "+^STAT", "=/st", "f", "/d"]);
        assert_eq!(route(&s, "fatal: x"), ["2"]);
        assert_eq!(route(&s, "STAT 1"), ["=/st"]);
        assert_eq!(route(&s, "other"), ["/d"]);
        // Without f the selection state is not reset between groups.
        let s = p(&["+a", "1", "/d"]);
        assert_eq!(route(&s, "b"), ["1", "/d"]);
        let s = p(&["-a", "1", "+b", "/d"]);
        assert_eq!(route(&s, "a b"), ["/d"]);
        assert_eq!(route(&s, "c"), ["1", "/d"]);
    }

    #[test]
    fn sticky_controls_apply_to_later_logdirs() {
        let s = p(&["n3", "s5000", "S20000", "l100", "r50", "R7", "!gzip", "/a", "n0", "p", "/b"]);
        let a = &s.logdirs[0];
        assert_eq!((a.count, a.size, a.total, a.tolerance, a.period), (3, 5000, 20000, 100, 7));
        assert_eq!(a.retry, Duration::from_millis(50));
        assert_eq!(a.processor, Some(Processor { shell: false, cmd: "gzip".into() }));
        let b = &s.logdirs[1];
        assert_eq!((b.count, b.size, b.period), (0, 5000, 7));
        assert_eq!(b.processor, a.processor);
    }

    #[test]
    fn size_is_clamped() {
        assert_eq!(p(&["s10", "/a"]).logdirs[0].size, MIN_SIZE);
        assert_eq!(p(&["s999999999", "/a"]).logdirs[0].size, MAX_SIZE);
    }

    #[test]
    fn processors() {
        let s = p(&["?tr a-z A-Z", "/a", "/b", "!", "/c", "!cat", "?", "/d"]);
        let shell = Some(Processor { shell: true, cmd: "tr a-z A-Z".into() });
        assert_eq!(s.logdirs[0].processor, shell);
        assert_eq!(s.logdirs[1].processor, shell);
        assert_eq!(s.logdirs[2].processor, None);
        assert_eq!(s.logdirs[3].processor, None);
    }

    #[test]
    fn t_and_cap_t_are_one_shot_and_prefix_is_sticky() {
        let s = p(&["t", "T", "pfoo", "1", "2", "p", "t", "=/st"]);
        let acts = &s.groups[0].acts;
        assert_eq!((acts[0].tai, acts[0].local, acts[0].prefix.as_deref()), (true, true, Some(&b"foo"[..])));
        assert_eq!(
            (acts[1].tai, acts[1].local, acts[1].prefix.as_deref()),
            (false, false, Some(&b"foo"[..]))
        );
        assert_eq!((acts[2].tai, acts[2].local, acts[2].prefix.as_deref()), (true, false, None));
        assert_eq!(s.stamps(), (true, true));
        assert_eq!(p(&["1"]).stamps(), (false, false));
    }

    #[test]
    fn alert_and_status_sizes() {
        let s = p(&["E50", "2", "^0", "=/x", "E0", "^20", "2", "=/y"]);
        let t: Vec<_> = s.groups[0].acts.iter().map(|a| a.target.clone()).collect();
        assert_eq!(t[0], Target::Alert { size: 50 });
        assert!(matches!(&t[1], Target::Status { size: 0, tmp, .. } if tmp == &PathBuf::from("/x.new")));
        assert_eq!(t[2], Target::Alert { size: 0 });
        assert!(matches!(&t[3], Target::Status { size: 20, .. }));
    }

    #[test]
    fn relative_logdirs() {
        let s = p(&["./here", ".hidden", "/abs"]);
        let paths: Vec<_> = s.logdirs.iter().map(|d| d.path.display().to_string()).collect();
        assert_eq!(paths, ["./here", ".hidden", "/abs"]);
    }

    #[test]
    fn errors_name_the_directive() {
        assert_eq!(err(&["xyz", "1"]), "unrecognized directive: xyz");
        assert_eq!(err(&["tt", "1"]), "syntax error at directive: tt");
        assert_eq!(err(&["fx", "1"]), "syntax error at directive: fx");
        assert_eq!(err(&["12"]), "syntax error at directive: 12");
        assert_eq!(err(&["=", "1"]), "syntax error at directive: =");
        assert_eq!(err(&["nx", "1"]), "unrecognized directive: nx");
        assert_eq!(err(&["n", "1"]), "unrecognized directive: n");
        assert_eq!(err(&["s-1", "1"]), "unrecognized directive: s-1");
        assert_eq!(err(&["n99999999999", "1"]), "unrecognized directive: n99999999999");
        assert_eq!(err(&["+a(", "1"]), "unrecognized directive: +a(");
        assert_eq!(err(&["s5000", "l3000", "1"]), "directive l3000 conflicts with previous s directive");
        assert_eq!(err(&["n5", "t"]), "no action directive specified");
        assert_eq!(err(&["+x"]), "no action directive specified");
        assert_eq!(err(&[""]), "unrecognized directive: ");
        // Shapes are checked over the whole script before values.
        assert_eq!(err(&["nx", "tt", "1"]), "syntax error at directive: tt");
    }

    #[test]
    fn trailing_selections_are_extraneous() {
        assert!(p(&["1", "+x"]).extraneous);
        assert!(!p(&["1", "t"]).extraneous);
        assert!(!p(&["1"]).extraneous);
        assert_eq!(p(&["1", "+x"]).groups.len(), 1);
    }

    #[test]
    fn big_total_size() {
        assert_eq!(p(&["S99999999999", "/a"]).logdirs[0].total, 99_999_999_999);
    }
}
