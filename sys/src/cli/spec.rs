//! A program's options, declared once: the parser, the long options, the usage line and the
//! `--help` text are all derived from one table, so they can never drift apart.
//!
//! The usage line is rendered in upstream's shape: each bracket holds alternatives separated
//! by `|`, and flags without an argument may cluster inside one alternative (`-abqhk`). The
//! table's order is the usage line's order; [`Show`] says where each flag goes.

use std::ffi::OsString;
use std::fmt::Write as _;

use super::{Fatal, Getopt};

/// Where a flag appears in the usage line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Opens a new bracket: `[ -x ]` or `[ -x arg ]`.
    Own,
    /// Another alternative in the current bracket: `[ ... | -x ]`.
    Or,
    /// Clusters with the flag before it in the current alternative: `-ab` then `-abx`.
    Cluster,
    /// Joins the current alternative after a space, for options given together:
    /// `[ -U | -u uid -g gid ]`.
    Then,
    /// Like [`Show::Own`], with this text inside the bracket instead of the flag's own
    /// rendering (for options whose argument is one of a few letters, as `-wu | -wU`).
    Text(&'static str),
    /// Accepted, described by `--help`, but not in the usage line (compatibility flags).
    Hidden,
    /// Only a long option: the letter is an internal name, not accepted as `-x`.
    LongOnly,
    /// Only a long option (as [`Show::LongOnly`]), in a bracket of its own in the usage line:
    /// `[ --name=arg ]`.
    LongOwn,
    /// Only a long option, another alternative in the current bracket: `[ ... | --name ]`.
    LongOr,
}

impl Show {
    /// Whether the flag is only a long option (its letter is not accepted as `-x`).
    pub fn long_only(self) -> bool {
        matches!(self, Show::LongOnly | Show::LongOwn | Show::LongOr)
    }
}

/// One option of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    /// The option letter (for [`Show::LongOnly`] flags, the letter the parser reports).
    pub short: char,
    /// Its `--name` spelling, if it has one (`--name=VALUE` when it takes an argument).
    pub long: Option<&'static str>,
    /// The argument's name in the usage line, if the option takes one.
    pub arg: Option<&'static str>,
    /// Where it goes in the usage line.
    pub show: Show,
    /// One line for `--help`.
    pub help: &'static str,
}

impl Flag {
    /// A flag without an argument or long name.
    pub const fn new(short: char, show: Show, help: &'static str) -> Flag {
        Flag { short, long: None, arg: None, show, help }
    }

    /// An option taking an argument named `arg`.
    pub const fn arg(short: char, arg: &'static str, show: Show, help: &'static str) -> Flag {
        Flag { short, long: None, arg: Some(arg), show, help }
    }

    /// The same flag with a long spelling.
    pub const fn long(self, name: &'static str) -> Flag {
        Flag { long: Some(name), ..self }
    }
}

/// Everything a program says about its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The program's name, as installed.
    pub name: &'static str,
    /// The operands after the options, as the usage line shows them (may be empty).
    pub operands: &'static str,
    /// One sentence on what the program does.
    pub about: &'static str,
    /// The upstream documentation page the program implements (`s6-svc.html`); empty for
    /// a program of s6-rs's own (an extension).
    pub doc: &'static str,
    /// The options, in usage-line order.
    pub flags: &'static [Flag],
}

impl Spec {
    /// A parser over `args` (argv without argv\[0\]) for this table's options.
    pub fn getopt<'a>(&'a self, args: &'a [OsString]) -> Getopt<'a> {
        Getopt::with_table(args, self.flags)
    }

    /// The usage line: the name, the options in upstream's bracket shape, the operands.
    pub fn usage(&self) -> String {
        let mut out = String::from(self.name);
        let mut open = false;
        let mut cluster = false;
        for f in self.flags {
            match f.show {
                Show::Hidden | Show::LongOnly => continue,
                Show::LongOwn | Show::LongOr => {
                    if f.show == Show::LongOr {
                        out.push_str(" | ");
                    } else {
                        if open {
                            out.push_str(" ]");
                        }
                        out.push_str(" [ ");
                    }
                    let _ = write!(out, "--{}", f.long.unwrap_or_default());
                    if let Some(a) = f.arg {
                        let _ = write!(out, "={a}");
                    }
                    (open, cluster) = (true, false);
                    continue;
                }
                Show::Cluster if cluster => {
                    out.push(f.short);
                    continue;
                }
                Show::Own | Show::Text(_) | Show::Cluster => {
                    if open {
                        out.push_str(" ]");
                    }
                    out.push_str(" [ ");
                }
                Show::Or => out.push_str(" | "),
                Show::Then => out.push(' '),
            }
            open = true;
            match (f.show, f.arg) {
                (Show::Text(t), _) => out.push_str(t),
                (_, Some(a)) => {
                    let _ = write!(out, "-{} {a}", f.short);
                }
                (_, None) => {
                    let _ = write!(out, "-{}", f.short);
                }
            }
            cluster = f.arg.is_none() && !matches!(f.show, Show::Text(_));
        }
        if open {
            out.push_str(" ]");
        }
        if !self.operands.is_empty() {
            out.push(' ');
            out.push_str(self.operands);
        }
        out
    }

    /// The usage error: exit 100 with `PROG: usage: ` and the usage line.
    pub fn usage_error(&self) -> Fatal {
        Fatal::usage(self.usage())
    }

    /// The `--help` text: usage line, what the program does, each option, the upstream page.
    pub fn help(&self) -> String {
        let mut out = format!("usage: {}\n\n{}\n", self.usage(), self.about);
        let label = |f: &Flag| {
            let mut l = String::new();
            if !f.show.long_only() {
                let _ = write!(l, "-{}", f.short);
                if let Some(a) = f.arg {
                    let _ = write!(l, " {a}");
                }
            }
            if let Some(name) = f.long {
                if !l.is_empty() {
                    l.push_str(", ");
                }
                let _ = write!(l, "--{name}");
                if let Some(a) = f.arg {
                    let _ = write!(l, "={a}");
                }
            }
            l
        };
        if !self.flags.is_empty() {
            out.push_str("\noptions:\n");
            let width = self.flags.iter().map(|f| label(f).len()).max().unwrap_or(0);
            for f in self.flags {
                let _ = writeln!(out, "  {:width$}  {}", label(f), f.help);
            }
        }
        if self.doc.is_empty() {
            out.push_str(
                "\nAn s6-rs extension, not in upstream s6: see the extension table of s6-rs's README.\n",
            );
        } else {
            let _ = writeln!(
                out,
                "\nImplements upstream s6's {}: https://skarnet.org/software/s6/{}",
                self.name, self.doc
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{BadOpt, Opt};

    const FLAGS: &[Flag] = &[
        Flag::arg('w', "u|d", Show::Text("-wu | -wd"), "wait"),
        Flag::arg('T', "timeout", Show::Own, "timeout").long("timeout"),
        Flag::arg('s', "signal", Show::Own, "signal"),
        Flag::new('a', Show::Or, "alarm"),
        Flag::new('b', Show::Cluster, "bump"),
        Flag::new('o', Show::Own, "once"),
        Flag::new('U', Show::Own, "user"),
        Flag::arg('u', "uid", Show::Or, "uid"),
        Flag::arg('g', "gid", Show::Then, "gid"),
        Flag::new('v', Show::Hidden, "verbose").long("verbose"),
        Flag::new('F', Show::LongOnly, "long only").long("foreground"),
        Flag::arg('R', "dir", Show::LongOwn, "rules").long("rules"),
        Flag::new('N', Show::LongOr, "none").long("none"),
    ];
    const SPEC: Spec =
        Spec { name: "prog", operands: "dir...", about: "Does it.", doc: "prog.html", flags: FLAGS };

    use crate::testing::args;

    #[test]
    fn usage_line_has_upstream_shape() {
        assert_eq!(
            SPEC.usage(),
            "prog [ -wu | -wd ] [ -T timeout ] [ -s signal | -ab ] [ -o ] [ -U | -u uid -g gid ] \
             [ --rules=dir | --none ] dir..."
        );
        let a = args(&["-R", "x"]);
        assert_eq!(SPEC.getopt(&a).next_long(), Some(Err(BadOpt::Short('R'))));
        let bare = Spec { name: "x", operands: "", about: "", doc: "", flags: &[] };
        assert_eq!(bare.usage(), "x");
        let e = SPEC.usage_error();
        assert!(e.usage && e.code == 100 && e.msg.starts_with("prog [ -wu"));
    }

    #[test]
    fn table_drives_the_parser() {
        let a = args(&["-wu", "-abT5", "--timeout=7", "--verbose", "--foreground", "dir"]);
        let mut g = SPEC.getopt(&a);
        let mut got = Vec::new();
        while let Some(o) = g.next_long() {
            got.push(o.unwrap());
        }
        let o = |c, arg: Option<&str>| Opt { c, arg: arg.map(OsString::from) };
        assert_eq!(
            got,
            vec![
                o('w', Some("u")),
                o('a', None),
                o('b', None),
                o('T', Some("5")),
                o('T', Some("7")),
                o('v', None),
                o('F', None)
            ]
        );
        assert_eq!(g.operands(), &args(&["dir"])[..]);
        let a = args(&["-F"]);
        assert_eq!(SPEC.getopt(&a).next_long(), Some(Err(BadOpt::Short('F'))));
        let a = args(&["-T"]);
        assert_eq!(SPEC.getopt(&a).next_long(), Some(Err(BadOpt::MissingArg('T'))));
        let a = args(&["--timeout"]);
        assert_eq!(SPEC.getopt(&a).next_long(), Some(Err(BadOpt::Boolean("--timeout".into()))));
    }

    #[test]
    fn help_lists_every_option_and_the_page() {
        let h = SPEC.help();
        assert!(h.starts_with("usage: prog [ -wu | -wd ]"));
        assert!(h.contains("\nDoes it.\n"));
        assert!(h.contains("  -T timeout, --timeout=timeout  timeout\n"));
        assert!(h.contains("  --foreground "));
        assert!(h.contains("  -v, --verbose "));
        assert!(h.ends_with("https://skarnet.org/software/s6/prog.html\n"));
    }
}
