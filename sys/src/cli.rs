//! Command-line conventions of skalibs programs: s6-style getopt, the fatal/warning message
//! grammar, exit codes and the `main` wrapper every binary goes through.
//!
//! Messages look like `PROG: fatal: unable to VERB OBJ: strerror-text` and
//! `PROG: warning: ...`; usage errors print `PROG: usage: ...` and exit 100.

use std::ffi::{CStr, OsStr, OsString};
use std::fmt;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::sync::RwLock;

mod errno_text;
mod spec;

pub use spec::{Flag, Show, Spec};

/// Exit code for a usage error or bad input.
pub const EXIT_USAGE: u8 = 100;
/// Exit code for an internal inconsistency.
pub const EXIT_BUG: u8 = 101;
/// Exit code for a temporary or system-call failure.
pub const EXIT_SYS: u8 = 111;
/// Exit code when an exec failed for another reason than "not found".
pub const EXIT_EXEC: u8 = 126;
/// Exit code when the program to exec was not found.
pub const EXIT_NOTFOUND: u8 = 127;

// Names are leaked on purpose: a program sets its name once or twice in its life, and
// handing out `&'static str` keeps every message path free of locking and allocation.
static PROG: RwLock<Option<&'static str>> = RwLock::new(None);

/// Sets the program name used as the prefix of every message. The first call wins.
pub(crate) fn set_prog(name: &str) {
    let mut p = PROG.write().unwrap_or_else(|e| e.into_inner());
    if p.is_none() {
        *p = Some(Box::leak(name.to_owned().into_boxed_str()));
    }
}

/// Replaces the program name even if one is set: for programs whose messages name what
/// they work on, such as `s6-supervise DIR`.
pub fn rename_prog(name: &str) {
    let mut p = PROG.write().unwrap_or_else(|e| e.into_inner());
    *p = Some(Box::leak(name.to_owned().into_boxed_str()));
}

/// The program name used as the prefix of messages.
pub fn prog() -> &'static str {
    PROG.read().unwrap_or_else(|e| e.into_inner()).unwrap_or("s6-rs")
}

/// A fatal error: the exit code and the message that follows `PROG: fatal: `
/// (or `PROG: usage: ` for usage errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal {
    /// The process exit code.
    pub code: u8,
    /// The message, without the program prefix.
    pub msg: String,
    /// Whether this is a usage message (`usage:` rather than `fatal:`).
    pub usage: bool,
}

impl Fatal {
    /// A fatal error with an arbitrary exit code and message.
    pub fn new(code: u8, msg: impl Into<String>) -> Fatal {
        Fatal { code, msg: msg.into(), usage: false }
    }

    /// A usage error: exit 100 with `PROG: usage: USAGE`.
    pub fn usage(usage: impl Into<String>) -> Fatal {
        Fatal { code: EXIT_USAGE, msg: usage.into(), usage: true }
    }

    /// Bad input (exit 100) with a message.
    pub fn bad(msg: impl Into<String>) -> Fatal {
        Fatal::new(EXIT_USAGE, msg)
    }

    /// A system error (exit 111): `unable to WHAT: strerror`.
    pub fn sys(what: impl fmt::Display, err: &io::Error) -> Fatal {
        Fatal::new(EXIT_SYS, format!("unable to {what}: {}", errtext(err)))
    }

    /// A system error with a chosen exit code: `unable to WHAT: strerror`.
    pub fn sys_code(code: u8, what: impl fmt::Display, err: &io::Error) -> Fatal {
        Fatal::new(code, format!("unable to {what}: {}", errtext(err)))
    }
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.usage { "usage" } else { "fatal" };
        write!(f, "{}: {kind}: {}", prog(), self.msg)
    }
}

/// The text glibc's `strerror` gives for an errno value (C locale). The table is ours, not
/// the linked C library's: real s6 links glibc, and messages must read the same.
pub fn strerror(errno: i32) -> String {
    match strerror_known(errno) {
        Some(text) => text.to_owned(),
        None => format!("Unknown error {errno}"),
    }
}

/// [`strerror`] without allocating (for a forked child): `None` where glibc would say
/// "Unknown error N".
pub(crate) fn strerror_known(errno: i32) -> Option<&'static str> {
    usize::try_from(errno).ok().and_then(|i| errno_text::GLIBC.get(i).copied().flatten())
}

/// The strerror text of an `io::Error` (no Rust "(os error N)" suffix).
pub fn errtext(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(n) => strerror(n),
        None => err.to_string(),
    }
}

/// Writes `line` and a newline on stderr in one `write`. Rust's stderr is unbuffered, so
/// `writeln!` on it makes a system call per formatted piece, and two processes sharing a
/// log pipe (s6-ipcserverd and its children) would interleave their lines mid-line.
pub fn err_line(line: fmt::Arguments<'_>) {
    let mut buf = line.to_string();
    buf.push('\n');
    let _ = io::stderr().lock().write_all(buf.as_bytes());
}

/// Prints `PROG: warning: MSG` on stderr.
pub fn warn(msg: impl fmt::Display) {
    err_line(format_args!("{}: warning: {msg}", prog()));
}

/// Prints `PROG: warning: unable to WHAT: strerror` on stderr.
pub fn warn_sys(what: impl fmt::Display, err: &io::Error) {
    warn(format_args!("unable to {what}: {}", errtext(err)));
}

/// Prints `PROG: info: MSG` on stderr.
pub fn info(msg: impl fmt::Display) {
    err_line(format_args!("{}: info: {msg}", prog()));
}

/// The entry point of every binary: runs `run` on the arguments after argv\[0\], prints a
/// fatal error if there is one, and exits with the returned code. `--help` as the only
/// argument prints the program's help (from its [`Spec`]) and exits 0.
pub fn main(spec: &'static Spec, run: fn(Vec<OsString>) -> Result<u8, Fatal>) -> ! {
    finish(spec, run, std::env::args_os().skip(1).collect())
}

/// [`main`](fn@main) for a C `main` (see [`entry!`](crate::entry)): the arguments come from `argv`, since
/// only glibc hands them to Rust's standard library when its runtime start-up is skipped.
///
/// # Safety
/// `argv` must hold `argc` pointers to NUL-terminated strings, as the C runtime passes them.
pub unsafe fn main_argv(
    spec: &'static Spec,
    run: fn(Vec<OsString>) -> Result<u8, Fatal>,
    argc: i32,
    argv: *const *const libc::c_char,
) -> ! {
    let n = usize::try_from(argc).unwrap_or(0);
    let args = (1..n)
        .map(|i| {
            // SAFETY: the caller guarantees argv[0..argc] are valid C strings.
            let c = unsafe { CStr::from_ptr(*argv.add(i)) };
            OsStr::from_bytes(c.to_bytes()).to_os_string()
        })
        .collect();
    finish(spec, run, args)
}

fn finish(spec: &'static Spec, run: fn(Vec<OsString>) -> Result<u8, Fatal>, args: Vec<OsString>) -> ! {
    set_prog(spec.name);
    if args.len() == 1 && args[0] == "--help" {
        let ok = io::stdout().lock().write_all(spec.help().as_bytes()).is_ok();
        std::process::exit(if ok { 0 } else { i32::from(EXIT_SYS) })
    }
    let code = match run(args) {
        Ok(code) => code,
        Err(f) => {
            err_line(format_args!("{f}"));
            f.code
        }
    };
    let _ = io::stdout().flush();
    std::process::exit(i32::from(code))
}

/// Defines a binary's C `main`, bypassing Rust's runtime start-up, then runs
/// [`main`](fn@main). Use it in a file that starts with `#![no_main]`:
///
/// ```text
/// #![no_main]
/// s6rs_sys::entry!(s6rs_supervise::cmd::svok::SPEC, s6rs_supervise::cmd::svok::run);
/// ```
///
/// Rust's start-up reads `/proc/self/maps` to place a stack guard and ignores SIGPIPE.
/// Skipping it saves a heap page in every supervisor (a process per service, so it counts).
/// A program using this entry point starts with SIGPIPE as its parent left it, and must
/// ignore it itself if it writes to pipes or sockets that may close (s6-supervise does).
/// Arguments are taken from `main`'s own `argv` (musl leaves `std::env::args_os` empty then).
#[macro_export]
macro_rules! entry {
    ($spec:path, $run:path) => {
        #[no_mangle]
        extern "C" fn main(argc: i32, argv: *const *const ::std::ffi::c_char) -> i32 {
            // SAFETY: the C runtime passes argc and argv as they came from execve.
            unsafe { $crate::cli::main_argv(&$spec, $run, argc, argv) }
        }
    };
}

/// Lossy display of an OS string for messages.
pub fn show(s: &OsStr) -> std::borrow::Cow<'_, str> {
    s.to_string_lossy()
}

/// One parsed option: the option character and its argument, if it takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    /// The option character.
    pub c: char,
    /// The argument, for options declared with a trailing `:`.
    pub arg: Option<OsString>,
}

impl Opt {
    /// The argument as UTF-8 text (options with arguments always have one).
    pub fn arg_str(&self) -> &str {
        self.arg.as_deref().and_then(OsStr::to_str).unwrap_or("")
    }
}

/// skalibs-style getopt: flags cluster (`-du`), an argument may be attached (`-t5`) or be the
/// next word, `--` ends options, parsing stops at the first operand or at a lone `-`, and
/// options come back in command-line order.
///
/// The options it knows come from a program's table ([`Spec::getopt`]); [`Getopt::next`]
/// reads short options only, [`Getopt::next_long`] long ones (skalibs `gol`) as well.
#[derive(Debug)]
pub struct Getopt<'a> {
    args: &'a [OsString],
    flags: &'a [Flag],
    idx: usize,
    pos: usize,
}

impl<'a> Getopt<'a> {
    /// Starts parsing `args` (argv without argv\[0\]) against a program's option table.
    pub(crate) fn with_table(args: &'a [OsString], flags: &'a [Flag]) -> Getopt<'a> {
        Getopt { args, flags, idx: 0, pos: 0 }
    }

    /// Whether `c` is a short option, and if so whether it takes an argument.
    fn short(&self, c: char) -> Option<bool> {
        self.flags.iter().find(|f| f.short == c && !f.show.long_only()).map(|f| f.arg.is_some())
    }

    /// The option letter a long name stands for, and whether it takes an argument.
    fn long_name(&self, name: &[u8]) -> Option<(char, bool)> {
        self.flags
            .iter()
            .find(|f| f.long.is_some_and(|l| l.as_bytes() == name))
            .map(|f| (f.short, f.arg.is_some()))
    }

    /// Index of the first operand once parsing has finished.
    pub fn index(&self) -> usize {
        self.idx
    }

    /// The operands left once parsing has finished.
    pub fn operands(&self) -> &'a [OsString] {
        &self.args[self.idx.min(self.args.len())..]
    }

    /// The next option; `Err(c)` for an unknown option or a missing argument.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<Opt, char>> {
        if self.pos == 0 {
            let word = self.args.get(self.idx)?.as_bytes();
            if word == b"--" {
                self.idx += 1;
                return None;
            }
            if word.len() < 2 || word[0] != b'-' {
                return None;
            }
            self.pos = 1;
        }
        let word = self.args[self.idx].as_bytes();
        let c = word[self.pos] as char;
        self.pos += 1;
        let at_end = self.pos >= word.len();
        let Some(takes_arg) = self.short(c) else {
            if at_end {
                self.advance();
            }
            return Some(Err(c));
        };
        if !takes_arg {
            if at_end {
                self.advance();
            }
            return Some(Ok(Opt { c, arg: None }));
        }
        let arg = if !at_end {
            OsStr::from_bytes(&word[self.pos..]).to_owned()
        } else {
            match self.args.get(self.idx + 1) {
                Some(a) => {
                    self.idx += 1;
                    a.clone()
                }
                None => {
                    self.advance();
                    return Some(Err(c));
                }
            }
        };
        self.advance();
        Some(Ok(Opt { c, arg: Some(arg) }))
    }

    fn advance(&mut self) {
        self.idx += 1;
        self.pos = 0;
    }
}

/// An option that [`Getopt::next_long`] refuses, with skalibs `gol`'s wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadOpt {
    /// An unknown short option.
    Short(char),
    /// A short option that takes an argument came last.
    MissingArg(char),
    /// `--=VALUE`: no name.
    Invalid(String),
    /// `--NAME` with no such flag.
    Boolean(String),
    /// `--NAME=VALUE` with no such option taking an argument.
    WithArg(String),
}

impl BadOpt {
    /// The fatal error a program reports for it: exit 100, with the usage text for a
    /// missing argument and gol's own messages otherwise.
    pub fn fatal(&self, usage: &str) -> Fatal {
        match self {
            BadOpt::Short(c) => Fatal::bad(format!("unrecognized short option: {c}")),
            BadOpt::MissingArg(_) => Fatal::usage(usage),
            BadOpt::Invalid(w) => Fatal::bad(format!("invalid option: {w}")),
            BadOpt::Boolean(w) => Fatal::bad(format!("unrecognized boolean option: {w}")),
            BadOpt::WithArg(w) => Fatal::bad(format!("unrecognized option with argument: {w}")),
        }
    }
}

impl<'a> Getopt<'a> {
    /// The next option, short or long, in command-line order (skalibs `gol`): a word
    /// `--NAME` or `--NAME=VALUE` is looked up among the flags' long names; a long option
    /// takes its value only in the `=` form.
    pub fn next_long(&mut self) -> Option<Result<Opt, BadOpt>> {
        if self.pos == 0 {
            let word = self.args.get(self.idx)?.as_bytes();
            if word.len() > 2 && word.starts_with(b"--") {
                self.idx += 1;
                return Some(self.long(word));
            }
        }
        let res = self.next()?;
        Some(
            res.map_err(
                |c| if self.short(c) == Some(true) { BadOpt::MissingArg(c) } else { BadOpt::Short(c) },
            ),
        )
    }

    fn long(&self, word: &[u8]) -> Result<Opt, BadOpt> {
        let text = String::from_utf8_lossy(word).into_owned();
        let body = &word[2..];
        match body.iter().position(|&b| b == b'=') {
            Some(0) => Err(BadOpt::Invalid(text)),
            Some(eq) => match self.long_name(&body[..eq]) {
                Some((c, true)) => Ok(Opt { c, arg: Some(OsStr::from_bytes(&body[eq + 1..]).to_owned()) }),
                _ => Err(BadOpt::WithArg(text)),
            },
            None => match self.long_name(body) {
                Some((c, false)) => Ok(Opt { c, arg: None }),
                _ => Err(BadOpt::Boolean(text)),
            },
        }
    }
}

/// Parses an unsigned decimal integer as skalibs' `uint_scan` does for whole arguments.
pub fn parse_uint<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Checks an fd number given on the command line for the program to use (a notification
/// fd, a console holder): at least 3, and open. The errors exit 100: `WHAT must be 3 or
/// more`, or `INVALID: Bad file descriptor`.
pub fn given_fd(n: i64, what: &str, invalid: &str) -> Result<i32, Fatal> {
    if n < 3 {
        return Err(Fatal::bad(format!("{what} must be 3 or more")));
    }
    let n = i32::try_from(n).unwrap_or(-1);
    if !crate::fd::is_open(n) {
        let e = io::Error::from_raw_os_error(libc::EBADF);
        return Err(Fatal::bad(format!("{invalid}: {}", errtext(&e))));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::args;

    /// A flag for the parser tests: `x` or, with `arg`, `x:` in getopt's letter notation.
    const fn flag(c: char, arg: bool) -> Flag {
        if arg {
            Flag::arg(c, "arg", Show::Own, "")
        } else {
            Flag::new(c, Show::Own, "")
        }
    }

    fn collect(v: &[&str], flags: &[Flag]) -> (Vec<Result<Opt, char>>, Vec<OsString>) {
        let a = args(v);
        let mut g = Getopt::with_table(&a, flags);
        let mut out = Vec::new();
        while let Some(o) = g.next() {
            out.push(o);
        }
        let rest = g.operands().to_vec();
        (out, rest)
    }

    fn o(c: char, arg: Option<&str>) -> Result<Opt, char> {
        Ok(Opt { c, arg: arg.map(OsString::from) })
    }

    const DUT: &[Flag] = &[flag('d', false), flag('u', false), flag('t', true)];

    #[test]
    fn clusters_in_order() {
        let (opts, rest) = collect(&["-du", "-t5", "dir"], DUT);
        assert_eq!(opts, vec![o('d', None), o('u', None), o('t', Some("5"))]);
        assert_eq!(rest, args(&["dir"]));
    }

    #[test]
    fn separate_argument_and_double_dash() {
        let (opts, rest) = collect(&["-T", "100", "--", "-x"], &[flag('T', true), flag('x', false)]);
        assert_eq!(opts, vec![o('T', Some("100"))]);
        assert_eq!(rest, args(&["-x"]));
    }

    #[test]
    fn stops_at_first_operand() {
        let (opts, rest) = collect(&["-a", "prog", "-b"], &[flag('a', false), flag('b', false)]);
        assert_eq!(opts, vec![o('a', None)]);
        assert_eq!(rest, args(&["prog", "-b"]));
    }

    #[test]
    fn lone_dash_is_operand() {
        let (opts, rest) = collect(&["-", "x"], &[flag('a', false)]);
        assert!(opts.is_empty());
        assert_eq!(rest, args(&["-", "x"]));
    }

    #[test]
    fn unknown_and_missing_argument() {
        let (opts, _) = collect(&["-z"], &[flag('a', false)]);
        assert_eq!(opts, vec![Err('z')]);
        let (opts, _) = collect(&["-t"], &[flag('t', true)]);
        assert_eq!(opts, vec![Err('t')]);
    }

    #[test]
    fn attached_argument_after_cluster() {
        let (opts, _) = collect(&["-wuT500"], &[flag('w', false), flag('u', false), flag('T', true)]);
        assert_eq!(opts, vec![o('w', None), o('u', None), o('T', Some("500"))]);
    }

    #[test]
    fn hidden_flags_parse_and_long_only_letters_do_not() {
        let flags = [Flag::new('0', Show::Hidden, ""), Flag::new('F', Show::LongOnly, "").long("fg")];
        let (opts, _) = collect(&["-0", "-F"], &flags);
        assert_eq!(opts, vec![o('0', None), Err('F')]);
    }

    const LONGS: &[Flag] = &[flag('v', false).long("verbose"), flag('t', true).long("timeout")];

    fn collect_long(v: &[&str]) -> (Vec<Result<Opt, BadOpt>>, Vec<OsString>) {
        let a = args(v);
        let mut g = Getopt::with_table(&a, LONGS);
        let mut out = Vec::new();
        while let Some(o) = g.next_long() {
            let stop = o.is_err();
            out.push(o);
            if stop {
                break;
            }
        }
        (out, g.operands().to_vec())
    }

    #[test]
    fn long_options_mix_with_short_in_order() {
        let (opts, rest) = collect_long(&["-v", "--timeout=5", "--verbose", "-t7", "dir", "-v"]);
        let want = vec![
            Ok(Opt { c: 'v', arg: None }),
            Ok(Opt { c: 't', arg: Some("5".into()) }),
            Ok(Opt { c: 'v', arg: None }),
            Ok(Opt { c: 't', arg: Some("7".into()) }),
        ];
        assert_eq!(opts, want);
        assert_eq!(rest, args(&["dir", "-v"]));
        let (opts, rest) = collect_long(&["--timeout=", "--", "--verbose"]);
        assert_eq!(opts, vec![Ok(Opt { c: 't', arg: Some("".into()) })]);
        assert_eq!(rest, args(&["--verbose"]));
    }

    #[test]
    fn long_option_errors_use_gol_wording() {
        let (opts, _) = collect_long(&["--timeout", "5"]);
        assert_eq!(opts, vec![Err(BadOpt::Boolean("--timeout".into()))]);
        let (opts, _) = collect_long(&["--verbose=1"]);
        assert_eq!(opts, vec![Err(BadOpt::WithArg("--verbose=1".into()))]);
        let (opts, _) = collect_long(&["--=1"]);
        assert_eq!(opts, vec![Err(BadOpt::Invalid("--=1".into()))]);
        let (opts, _) = collect_long(&["-x"]);
        assert_eq!(opts, vec![Err(BadOpt::Short('x'))]);
        let (opts, _) = collect_long(&["-t"]);
        assert_eq!(opts, vec![Err(BadOpt::MissingArg('t'))]);
        let f = BadOpt::WithArg("--verbose=1".into()).fatal("x");
        assert_eq!(
            (f.code, f.msg.as_str(), f.usage),
            (100, "unrecognized option with argument: --verbose=1", false)
        );
        assert!(BadOpt::MissingArg('t').fatal("prog [ -t n ]").usage);
        assert_eq!(BadOpt::Short('x').fatal("u").msg, "unrecognized short option: x");
    }

    #[test]
    fn strerror_is_plain() {
        assert_eq!(strerror(libc::ENOENT), "No such file or directory");
        let e = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(errtext(&e), "Permission denied");
        // Texts where musl and glibc differ: ours are glibc's, as real s6 prints them.
        assert_eq!(strerror(libc::EADDRINUSE), "Address already in use");
        assert_eq!(strerror(libc::ENAMETOOLONG), "File name too long");
        assert_eq!(strerror(libc::ETIMEDOUT), "Connection timed out");
        assert_eq!(strerror(41), "Unknown error 41");
        assert_eq!(strerror(-3), "Unknown error -3");
        assert_eq!(strerror(4096), "Unknown error 4096");
    }

    #[test]
    fn given_fd_is_3_or_more_and_open() {
        assert_eq!(given_fd(2, "notif", "bad notif").unwrap_err().msg, "notif must be 3 or more");
        let e = given_fd(999, "notif", "bad notif").unwrap_err();
        assert_eq!((e.code, e.msg.as_str()), (EXIT_USAGE, "bad notif: Bad file descriptor"));
        assert_eq!(
            given_fd(i64::from(u32::MAX), "x", "bad x").unwrap_err().msg,
            "bad x: Bad file descriptor"
        );
        let (r, _w) = crate::fd::pipe().unwrap();
        let n = std::os::fd::AsRawFd::as_raw_fd(&r);
        assert_eq!(given_fd(i64::from(n), "x", "bad x").unwrap(), n);
    }

    #[test]
    fn uint_parsing() {
        assert_eq!(parse_uint::<u32>("42"), Some(42));
        assert_eq!(parse_uint::<u32>("-1"), None);
        assert_eq!(parse_uint::<u32>(""), None);
        assert_eq!(parse_uint::<u32>("4x"), None);
    }
}
