//! Environment directories (daemontools `envdir`, skalibs `envdir_internal`): one file per
//! variable, read into a list of environment changes. Used by s6-envdir and by the `env/`
//! directories of access rules (FORMATS.md §0.7).
//!
//! For each entry whose name neither starts with `.` nor contains `=`:
//! * an empty file unsets the variable;
//! * otherwise the value is the file's first line with trailing spaces, tabs and `\r`
//!   removed (or, verbatim, the whole file minus one final newline), NUL bytes becoming
//!   `\n` (or another chosen byte);
//! * without `noclamp`, only the first 4095 bytes of each file are read.
//!
//! Changes come back in directory order, as `readdir` gives it.
//!
//! One deliberate difference: skalibs' unclamped first-line reader turns a file whose only
//! line has no final newline into an empty value (`NAME=`); here that line is the value, as
//! in every other mode and as the s6-envdir documentation describes.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use crate::exec::EnvMod;

/// How many bytes of a file are read without [`Options::noclamp`] (skalibs' limit).
pub const CLAMP: usize = 4095;

/// Reading options (s6-envdir's `-f`, `-n`, `-L`, `-c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Take the whole file, not just its first line (`-f`).
    pub verbatim: bool,
    /// Keep trailing blanks of the first line, or the final newline with `verbatim` (`-n`).
    pub nochomp: bool,
    /// Read files whole instead of their first [`CLAMP`] bytes (`-L`).
    pub noclamp: bool,
    /// What a NUL byte in a file becomes (`-c`); NUL itself is invalid (EINVAL).
    pub nullis: u8,
    /// Refuse entries that are not regular files (a FIFO, a device) instead of reading
    /// them: for readers that must never wait, such as a server checking a client's
    /// access rules. s6-envdir reads whatever is there, as upstream does.
    pub regular_only: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { verbatim: false, nochomp: false, noclamp: false, nullis: b'\n', regular_only: false }
    }
}

/// Reads `dir` into environment changes: `(NAME, Some(value))` to set, `(NAME, None)` to
/// unset. A file that vanishes between the directory listing and its opening is an error
/// (EIDRM), so that a missing directory (ENOENT) stays distinguishable.
pub fn read(dir: &Path, opts: &Options) -> io::Result<Vec<EnvMod>> {
    if opts.nullis == 0 {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut mods = Vec::new();
    let mut buf = Vec::new();
    // Each file's path is built in this one buffer, not allocated per entry.
    let mut path = dir.as_os_str().as_bytes().to_vec();
    path.push(b'/');
    let base = path.len();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if !is_variable(name.as_bytes()) {
            continue;
        }
        buf.clear();
        // The listing already tells a regular file (d_type): no need to check it again
        // after opening. (Replaced by a FIFO in between, it is still opened non-blocking,
        // so it cannot make the reader wait.)
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        path.truncate(base);
        path.extend_from_slice(name.as_bytes());
        read_file(Path::new(OsStr::from_bytes(&path)), opts, regular, &mut buf)?;
        mods.push((name, value(&mut buf, opts)));
    }
    Ok(mods)
}

/// Whether a directory entry named `name` is a variable: not a dot file, no `=`.
pub fn is_variable(name: &[u8]) -> bool {
    name.first() != Some(&b'.') && !name.contains(&b'=')
}

/// The value a file holding `contents` gives under `opts` (`None`: unset), as [`read`]
/// computes it from the file: the same clamp, the same line and blank rules. The pure
/// half of [`read`], for callers (and fuzzers) that already hold the bytes.
pub fn value_of(contents: &[u8], opts: &Options) -> Option<OsString> {
    let read = if opts.noclamp { contents } else { &contents[..contents.len().min(CLAMP)] };
    value(&mut read.to_vec(), opts)
}

/// Reads what `value` needs of one file into `buf`.
fn read_file(path: &Path, opts: &Options, regular: bool, buf: &mut Vec<u8>) -> io::Result<()> {
    let opened = match (opts.regular_only, regular) {
        (true, true) => crate::fd::open_read_quiet(path),
        (true, false) => crate::fd::open_regular(path),
        (false, _) => File::open(path),
    };
    let file = opened.map_err(|e| {
        if e.raw_os_error() == Some(libc::ENOENT) {
            io::Error::from_raw_os_error(libc::EIDRM)
        } else {
            e
        }
    })?;
    if !opts.noclamp && opts.verbatim {
        file.take(CLAMP as u64).read_to_end(buf)?;
    } else if !opts.noclamp {
        // Only the first line of the first CLAMP bytes matters: stop once it is complete
        // (a short file is then read in one `read`, not two).
        let mut chunk = [0u8; CLAMP];
        while buf.len() < CLAMP {
            let n = (&file).read(&mut chunk[..CLAMP - buf.len()])?;
            buf.extend_from_slice(&chunk[..n]);
            if n == 0 || chunk[..n].contains(&b'\n') {
                break;
            }
        }
    } else if opts.verbatim {
        (&file).read_to_end(buf)?;
    } else {
        // Only the first line matters: stop reading once it is complete.
        let mut chunk = [0u8; 4096];
        loop {
            let n = (&file).read(&mut chunk)?;
            buf.extend_from_slice(&chunk[..n]);
            if n == 0 || chunk[..n].contains(&b'\n') {
                break;
            }
        }
    }
    Ok(())
}

/// The value a file's bytes give: `None` (unset) for an empty file.
fn value(buf: &mut Vec<u8>, opts: &Options) -> Option<OsString> {
    if buf.is_empty() {
        return None;
    }
    if opts.verbatim {
        if !opts.nochomp && buf.last() == Some(&b'\n') {
            buf.pop();
        }
    } else {
        if let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            buf.truncate(nl);
        }
        if !opts.nochomp {
            // skalibs also drops \r: files edited on other systems end lines with \r\n.
            let keep = buf.iter().rposition(|&b| !matches!(b, b' ' | b'\t' | b'\r')).map_or(0, |i| i + 1);
            buf.truncate(keep);
        }
    }
    for b in buf.iter_mut().filter(|b| **b == 0) {
        *b = opts.nullis;
    }
    Some(OsString::from_vec(std::mem::take(buf)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str, files: &[(&str, &[u8])]) -> Dir {
            let p = std::env::temp_dir().join(format!("s6rs-envdir-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            for (name, body) in files {
                std::fs::write(p.join(name), body).unwrap();
            }
            Dir(p)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn read_map(d: &Dir, opts: Options) -> BTreeMap<String, Option<Vec<u8>>> {
        read(&d.0, &opts)
            .unwrap()
            .into_iter()
            .map(|(n, v)| (n.into_string().unwrap(), v.map(OsString::into_vec)))
            .collect()
    }

    fn set(v: &[u8]) -> Option<Vec<u8>> {
        Some(v.to_vec())
    }

    const GOLDEN: &[(&str, &[u8])] = &[
        ("FOO", b"value1  \nsecond line\n"),
        ("EMPTY", b""),
        ("NUL", b"a\0b\n"),
        ("CR", b"x \t\r\n"),
        ("NL", b"\n"),
        ("BLANKS", b"  \t"),
        ("NONL", b"abc"),
        (".hidden", b"no"),
        ("A=B", b"no"),
    ];

    #[test]
    fn golden_default_mode() {
        // FORMATS.md §0.7, verified against s6 2.11.3.2: FOO=value1, EMPTY unset, NUL=a\nb.
        let d = Dir::new("golden", GOLDEN);
        let m = read_map(&d, Options::default());
        let want: BTreeMap<String, Option<Vec<u8>>> = [
            ("FOO", set(b"value1")),
            ("EMPTY", None),
            ("NUL", set(b"a\nb")),
            ("CR", set(b"x")),
            ("NL", set(b"")),
            ("BLANKS", set(b"")),
            ("NONL", set(b"abc")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(m, want);
    }

    #[test]
    fn nochomp_verbatim_and_nullis() {
        let d = Dir::new("modes", GOLDEN);
        let m = read_map(&d, Options { nochomp: true, ..Options::default() });
        assert_eq!(m["FOO"], set(b"value1  "));
        assert_eq!(m["CR"], set(b"x \t\r"));
        let m = read_map(&d, Options { verbatim: true, ..Options::default() });
        assert_eq!(m["FOO"], set(b"value1  \nsecond line"));
        assert_eq!(m["NL"], set(b""));
        assert_eq!(m["EMPTY"], None);
        let m = read_map(&d, Options { verbatim: true, nochomp: true, ..Options::default() });
        assert_eq!(m["FOO"], set(b"value1  \nsecond line\n"));
        let m = read_map(&d, Options { nullis: b'_', ..Options::default() });
        assert_eq!(m["NUL"], set(b"a_b"));
        let err = read(&d.0, &Options { nullis: 0, ..Options::default() }).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
    }

    #[test]
    fn clamp_and_noclamp() {
        let long = vec![b'x'; 5000];
        let mut long_lines = vec![b'y'; 5000];
        long_lines.extend_from_slice(b"\nnext\n");
        let d = Dir::new("clamp", &[("LONG", &long), ("LINES", &long_lines)]);
        let m = read_map(&d, Options::default());
        assert_eq!(m["LONG"].as_ref().unwrap().len(), CLAMP);
        assert_eq!(m["LINES"].as_ref().unwrap().len(), CLAMP);
        let m = read_map(&d, Options { noclamp: true, ..Options::default() });
        assert_eq!(m["LONG"].as_ref().unwrap().len(), 5000);
        assert_eq!(m["LINES"], Some(vec![b'y'; 5000]));
        let m = read_map(&d, Options { noclamp: true, verbatim: true, ..Options::default() });
        assert_eq!(m["LINES"].as_ref().unwrap().len(), 5000 + 6 - 1);
    }

    #[test]
    fn value_of_matches_read_for_every_golden_file() {
        let d = Dir::new("pure", GOLDEN);
        for opts in [
            Options::default(),
            Options { nochomp: true, ..Options::default() },
            Options { verbatim: true, ..Options::default() },
            Options { verbatim: true, nochomp: true, nullis: b'_', ..Options::default() },
        ] {
            let from_disk: BTreeMap<_, _> = read(&d.0, &opts).unwrap().into_iter().collect();
            for (name, body) in GOLDEN.iter().filter(|(n, _)| is_variable(n.as_bytes())) {
                assert_eq!(from_disk[&OsString::from(name)], value_of(body, &opts), "{name} {opts:?}");
            }
            assert_eq!(from_disk.len(), 7);
        }
        assert_eq!(value_of(&[b'x'; 5000], &Options::default()).unwrap().len(), CLAMP);
    }

    #[test]
    fn missing_dir_is_enoent_and_subdir_is_an_error() {
        let d = Dir::new("errors", &[("A", b"1\n")]);
        let err = read(&d.0.join("nope"), &Options::default()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        std::fs::create_dir(d.0.join("SUB")).unwrap();
        let err = read(&d.0, &Options::default()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EISDIR));
    }

    #[test]
    fn regular_only_refuses_a_fifo_without_waiting() {
        let d = Dir::new("fifo", &[("A", b"1\n")]);
        std::os::unix::fs::symlink(d.0.join("A"), d.0.join("LINK")).unwrap();
        let opts = Options { regular_only: true, ..Options::default() };
        assert_eq!(read_map(&d, opts)["LINK"], Some(b"1".to_vec()));
        crate::fd::mkfifo(&d.0.join("F"), 0o600).unwrap();
        // Opened for reading as s6-envdir does it, this would wait for a writer forever.
        let err = read(&d.0, &opts).unwrap_err();
        assert_eq!(err.to_string(), format!("{} is not a regular file", d.0.join("F").display()));
        std::fs::remove_file(d.0.join("F")).unwrap();
        std::os::unix::fs::symlink("/dev/null", d.0.join("NULL")).unwrap();
        assert!(read(&d.0, &opts).is_err());
        assert_eq!(read_map(&d, Options::default())["NULL"], None);
    }
}
