//! `s6-rs --help`, every subcommand's `--help` with an example, `--version`, and clap's
//! refusal of a bad command line.

use std::process::Command;
use std::time::Duration;

use crate::support::*;

const SUBCOMMANDS: &[&str] = &["status", "check", "logs", "events"];

fn s6rs(args: &[&str]) -> (Option<i32>, String, String) {
    let mut c = Command::new(bin("s6-rs"));
    c.args(args);
    let o = run(c, Duration::from_secs(10));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (o.status.code(), text(&o.stdout), text(&o.stderr))
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let (code, out, _) = s6rs(&["--help"]);
    assert_eq!(code, Some(0));
    for sub in SUBCOMMANDS {
        assert!(out.contains(&format!("\n  {sub} ")), "s6-rs --help does not list {sub}:\n{out}");
        let (code, out, err) = s6rs(&[sub, "--help"]);
        assert_eq!(code, Some(0), "{sub}: {err}");
        assert!(out.contains(&format!("Usage: s6-rs {sub}")), "{out}");
        assert!(out.contains(&format!("\n  s6-rs {sub} ")), "s6-rs {sub} --help has no example:\n{out}");
    }
}

#[test]
fn version_and_bad_command_lines() {
    let (code, out, _) = s6rs(&["--version"]);
    assert_eq!(code, Some(0));
    assert_eq!(out, format!("s6-rs {}\n", env!("CARGO_PKG_VERSION")));
    let (code, _, err) = s6rs(&["status", "--bogus"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--bogus"), "{err}");
    let (code, _, _) = s6rs(&["status", "--json", "--prometheus", "."]);
    assert_eq!(code, Some(2));
}
