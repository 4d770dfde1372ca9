//! `s6-rs`: s6-rs's own front-end command for people and monitoring, an extension beyond s6
//! (README's extension table). It reads the files the s6 programs read — status records,
//! death tallies — through the library crates and reimplements none of them.
//!
//! This is the one place clap belongs (ARCHITECTURE.md, "Where programs live"): a command
//! for people, with subcommands and long options, not an upstream program whose getopt
//! rules and exit codes must be exact.

#![deny(missing_docs)]

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub mod check;
pub mod events;
pub mod logs;
pub mod scan;
pub mod status;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "s6-rs",
    version,
    about = "Look at a whole s6 supervision tree: status of every service (a table, JSON or Prometheus metrics), checks of service directories, logs, live events.",
    after_help = "Example:\n  s6-rs status /run/service"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One row per service (its logger beneath it): state, pid, time in state, readiness,
    /// wanted up, last exit, deaths in the tally, failing.
    #[command(
        after_help = "Examples:\n  s6-rs status /run/service\n  s6-rs status --json /run/service/sshd\n  s6-rs status --prometheus /run/service > /var/lib/node_exporter/s6.prom"
    )]
    Status(status::Args),
    /// Lints service directories: `run` and `finish` executable, setting files valid and in
    /// range, `log/` a service directory too. Prints `path: problem` lines; exits 1 if any.
    #[command(
        after_help = "Example:\n  s6-rs check /etc/s6/sv/sshd && s6-svlink /run/service /etc/s6/sv/sshd"
    )]
    Check(check::Args),
    /// A service's log with local times: archives in order, then `current`; `-f` follows it
    /// across rotations.
    #[command(after_help = "Examples:\n  s6-rs logs -n 20 /run/service/sshd\n  s6-rs logs -f /var/log/sshd")]
    Logs(logs::Args),
    /// Prints every transition (start, up, ready, down, finished, exit) of every service as it
    /// happens, with its time; follows services added to a scan directory.
    #[command(
        after_help = "Examples:\n  s6-rs events /run/service\n  s6-rs events --json /run/service | jq -c 'select(.event == \"down\")'"
    )]
    Events(events::Args),
}

/// Directories given on a command line.
pub type Dirs = Vec<PathBuf>;

/// Parses `args` (program name first) and runs the subcommand; returns the exit code.
/// Usage errors are clap's (exit 2, as every clap program); system errors exit 111.
pub fn main(args: Vec<OsString>) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return code as u8;
        }
    };
    let r = match cli.command {
        Command::Status(a) => status::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Logs(a) => logs::run(&a),
        Command::Events(a) => events::run(&a),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`s6-rs status | head`) is a normal end for a reader.
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("s6-rs: fatal: {e}");
                return 111;
            }
            0
        }
    }
}
