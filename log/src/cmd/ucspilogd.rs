//! ucspilogd: turn syslog-style lines into readable log lines (upstream page:
//! ucspilogd.html). Lines end at `\n` or NUL and always leave with `\n`. A leading
//! `@<tai64n> ` label is kept first; then the value of each named environment variable
//! (or the `-D` default) and `": "`; then a leading `<N>` becomes `facility.priority: `.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use s6rs_sys::cli::{Fatal, Flag, Show, Spec};

/// The command line, as 2.15's.
pub const SPEC: Spec = Spec {
    name: "ucspilogd",
    operands: "[ var... ]",
    about: "Turns syslog-style messages on stdin into readable log lines on stdout, each \
            prefixed with the values of the named variables.",
    doc: "ucspilogd.html",
    flags: &[Flag::arg(
        'D',
        "default",
        Show::Own,
        "print this for a variable that is not set (default <undefined>)",
    )],
};

/// Runs ucspilogd.
pub fn run(args: Vec<OsString>) -> Result<u8, Fatal> {
    let mut undef: OsString = "<undefined>".into();
    let mut g = SPEC.getopt(&args);
    while let Some(opt) = g.next() {
        match opt {
            Ok(o) if o.c == 'D' => undef = o.arg.unwrap_or_default(),
            _ => return Err(SPEC.usage_error()),
        }
    }
    // The values are read once, at start-up, as upstream does.
    let mut head = Vec::new();
    for var in g.operands() {
        let val = std::env::var_os(var).unwrap_or_else(|| undef.clone());
        head.extend_from_slice(val.as_bytes());
        head.extend_from_slice(b": ");
    }
    crate::filter::default_sigpipe();
    crate::filter::lines(true, |line, _, out| {
        let mut pos = 0;
        // A TAI64N label: `@`, 24 characters without a space, a space, and more after it.
        if line.first() == Some(&b'@') && line.len() >= 26 && memchr::memchr(b' ', &line[..26]) == Some(25) {
            out.extend_from_slice(&line[..26]);
            pos = 26;
        }
        out.extend_from_slice(&head);
        if let Some(code) = crate::syslog::decode(&line[pos..]) {
            code.write_to(out);
            pos += code.len;
        }
        out.extend_from_slice(&line[pos..]);
        out.push(b'\n');
    })?;
    Ok(0)
}
