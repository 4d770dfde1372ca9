//! `s6-rs`, the front-end command: its subcommands against live trees run by our s6-svscan
//! and by Debian's real one.

mod check;
mod events;
mod help;
mod logs;
mod status;
