//! Which services the operands name: a service directory stands for itself, a scan
//! directory for every service in it, as s6-svscan sees them (entries not starting with a
//! dot); each service's logger (`log/`) follows it.

use std::io;
use std::path::{Path, PathBuf};

/// One supervised directory to report on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// How it is shown: the entry name inside a scan directory, the operand otherwise;
    /// a logger is its service's name followed by `/log`.
    pub name: String,
    /// The service directory.
    pub dir: PathBuf,
    /// This is the logger of the service listed before it.
    pub logger: bool,
}

/// A directory is a service directory when it has a `run` file; anything else given on the
/// command line is taken for a scan directory.
pub fn is_servicedir(dir: &Path) -> bool {
    dir.join("run").symlink_metadata().is_ok()
}

/// Expands the operands, in order, scan directories sorted by name.
pub fn expand(operands: &[PathBuf]) -> io::Result<Vec<Service>> {
    let mut out = Vec::new();
    for op in operands {
        if is_servicedir(op) {
            push(&mut out, op.display().to_string(), op.clone());
            continue;
        }
        let mut names: Vec<String> = std::fs::read_dir(op)
            .map_err(|e| io::Error::new(e.kind(), format!("unable to open {}: {e}", op.display())))?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .filter(|n| op.join(n).is_dir())
            .collect();
        names.sort();
        for n in names {
            let dir = op.join(&n);
            push(&mut out, n, dir);
        }
    }
    Ok(out)
}

fn push(out: &mut Vec<Service>, name: String, dir: PathBuf) {
    let log = dir.join("log");
    let has_log = log.is_dir();
    out.push(Service { name: name.clone(), dir, logger: false });
    if has_log {
        out.push(Service { name: format!("{name}/log"), dir: log, logger: true });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scandir_expands_sorted_with_loggers() {
        let t = std::env::temp_dir().join(format!("s6rs-frontend-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        for d in ["b/log", "a", ".s6-svscan", "c"] {
            std::fs::create_dir_all(t.join(d)).unwrap();
        }
        std::fs::write(t.join("c/run"), "").unwrap();
        std::fs::write(t.join("stray-file"), "").unwrap();
        let v = expand(std::slice::from_ref(&t)).unwrap();
        let names: Vec<&str> = v.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "b/log", "c"]);
        assert!(v[2].logger && v[2].dir == t.join("b/log"));
        // A service directory stands for itself.
        let v = expand(&[t.join("c")]).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].name, t.join("c").display().to_string());
        std::fs::remove_dir_all(&t).unwrap();
    }
}
