//! The fuzz corpora as regression tests on stable Rust: every file of `fuzz/corpus/NAME/`
//! goes through the harness `NAME` of `fuzz/harness.rs`, the code the fuzz targets run
//! (fuzz/README.md). A missing or empty corpus fails: a replay that checks nothing must
//! not pass.

use std::path::Path;

use crate::fuzz_harness::TARGETS;

/// Runs every corpus file of `name` through its harness; fails naming the files that panic.
fn replay(name: &str) {
    let run = TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f).expect("no such harness");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(name);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()));
    let mut files: Vec<_> = entries.map(|e| e.expect("readdir").path()).collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    let mut failed = Vec::new();
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            failed.push(f.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{name}: {} of {} inputs failed: {failed:#?}", failed.len(), files.len());
}

/// Every harness has a replay test below.
#[test]
fn every_target_is_replayed() {
    let tested = [
        "control",
        "status",
        "dtally",
        "log_script",
        "ere",
        "access_fs",
        "access_cdb",
        "unixmessage",
        "envdir",
        "tzif",
        "tz_string",
        "tai64n",
        "sudo_request",
        "fdholder_request",
    ];
    let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, tested);
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name));
            }
        )*
    };
}

replay_tests!(
    control,
    status,
    dtally,
    log_script,
    ere,
    access_fs,
    access_cdb,
    unixmessage,
    envdir,
    tzif,
    tz_string,
    tai64n,
    sudo_request,
    fdholder_request
);
