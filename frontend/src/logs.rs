//! `s6-rs logs`: a service's log with readable local times, archives in order then
//! `current`, and `-f` to follow it across rotations.
//!
//! Times are converted by log's own s6-tai64nlocal code (`log::cmd::tai64nlocal::convert`),
//! and the logdir is found by parsing the logger's s6-log command line with log's own script
//! parser (`log::script::parse`): the first logdir directive, relative to the logger's
//! service directory, with `$VAR` and `${VAR...}` taken from this process's environment.
//!
//! Following keeps `current` open: the rename that rotates it leaves the open file holding
//! every line written before it, which is read to its end before the new `current` is
//! opened, so no line is missed or repeated. A `previous` (a rotated file a processor is
//! still reading) never read here is read whole. An archive is printed only when it holds
//! a file never read here, rotated and archived between two looks: it is not a printed
//! file renamed (same inode), nor, when a `!`/`?` processor wrote it anew, the archive of
//! the oldest printed file still waiting for one (archives are named by the time they are
//! made, after that file was last seen unarchived; a file archived before then is another).
//! Without a processor the output keeps the log's order; with one, a file rotated and
//! processed entirely between two looks comes from its processed archive, which can land
//! after the first lines of the next `current`.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use s6rs_log::cmd::tai64nlocal::convert;
use s6rs_log::stamp::{Clock, MAX_LEN};
use s6rs_sys::tai::Tain;

/// How often `-f` looks for new lines and rotations.
pub const POLL: Duration = Duration::from_millis(100);

/// `s6-rs logs`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A service directory (its logger's run script names the logdir) or a logdir.
    pub dir: PathBuf,
    /// Keep printing lines as they are logged, across rotations.
    #[arg(short, long)]
    pub follow: bool,
    /// Print only the last N lines (before following).
    #[arg(short = 'n', long = "lines", value_name = "N")]
    pub lines: Option<usize>,
}

fn is_archive(name: &str) -> bool {
    name.starts_with('@') && (name.ends_with(".s") || name.ends_with(".u"))
}

/// The archives of a logdir, oldest first (their TAI64N names sort by time).
pub fn archives(logdir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut v: Vec<String> = std::fs::read_dir(logdir)?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_archive(n))
        .collect();
    v.sort();
    Ok(v.into_iter().map(|n| logdir.join(n)).collect())
}

fn is_logdir(dir: &Path) -> bool {
    dir.join("current").exists() || archives(dir).is_ok_and(|a| !a.is_empty())
}

/// Expands `$NAME`, `${NAME}` and `${NAME:...}` from the environment; `None` if one is unset.
fn expand(word: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = word;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        let (name, tail) = if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}')?;
            let inner = &r[..end];
            let name_end =
                inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(inner.len());
            (&inner[..name_end], &r[end + 1..])
        } else {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        out.push_str(&std::env::var(name).ok()?);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

/// The s6-log directive words of a run script: what follows `s6-log` and its options, with
/// quotes removed and variables expanded.
fn directives(script: &str) -> Option<Vec<OsString>> {
    let line = script.lines().find(|l| !l.trim_start().starts_with('#') && l.contains("s6-log"))?;
    let mut words = line.split_whitespace().skip_while(|w| !w.trim_matches(['"', '\'']).ends_with("s6-log"));
    words.next()?;
    let mut out = Vec::new();
    let mut options = true;
    let mut skip_arg = false;
    for w in words {
        let w = w.trim_matches(['"', '\'']);
        if skip_arg {
            skip_arg = false;
            continue;
        }
        if options {
            if w == "--" {
                options = false;
                continue;
            }
            if let Some(flags) = w.strip_prefix('-') {
                // -d, -l and -t take a value, attached or in the next word.
                if let Some(p) = flags.find(['d', 'l', 't']) {
                    skip_arg = p + 1 == flags.len();
                }
                continue;
            }
            options = false;
        }
        out.push(OsString::from(expand(w)?));
    }
    Some(out)
}

/// The logdir a service's logger writes to, when its run script says so plainly.
pub fn find_logdir(dir: &Path) -> Option<PathBuf> {
    if is_logdir(dir) {
        return Some(dir.to_owned());
    }
    let logger = if dir.join("log/run").is_file() { dir.join("log") } else { dir.to_owned() };
    let script = std::fs::read_to_string(logger.join("run")).ok()?;
    let words = directives(&script)?;
    let parsed = s6rs_log::script::parse(&words).ok()?;
    let first = parsed.logdirs.first()?;
    Some(logger.join(&first.path))
}

/// Turns bytes into lines with readable times.
#[derive(Debug)]
struct Printer {
    clock: Clock,
    stamp: [u8; MAX_LEN],
}

impl Printer {
    fn line(&mut self, line: &[u8], terminated: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(line.len() + 16);
        convert(&mut self.clock, &mut self.stamp, line, terminated, &mut out);
        out
    }
}

/// An open log file read line by line as it grows.
#[derive(Debug)]
struct Tail {
    file: File,
    ino: u64,
    partial: Vec<u8>,
    /// When the file was last seen as `current`.
    current_at: Tain,
    /// Its archive was seen while it was still open here.
    archived: bool,
}

impl Tail {
    fn open(path: &Path) -> io::Result<Tail> {
        let current_at = Tain::now();
        let file = File::open(path)?;
        let ino = file.metadata()?.ino();
        Ok(Tail { file, ino, partial: Vec::new(), current_at, archived: false })
    }

    /// Reads to the end, handing out every complete line.
    fn drain(&mut self, mut emit: impl FnMut(&[u8])) -> io::Result<()> {
        let mut buf = [0u8; 65536];
        loop {
            let n = self.file.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            self.partial.extend_from_slice(&buf[..n]);
            let mut start = 0;
            while let Some(i) = self.partial[start..].iter().position(|&b| b == b'\n') {
                emit(&self.partial[start..start + i]);
                start += i + 1;
            }
            self.partial.drain(..start);
        }
    }
}

fn whole_file(path: &Path, emit: impl FnMut(&[u8], bool)) -> io::Result<()> {
    match std::fs::read(path) {
        Ok(d) => {
            lines_of(&d, emit);
            Ok(())
        }
        // An archive can be removed by s6-log's rotation while we list them.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Hands out the lines of a whole file; the last one is unterminated if the file does
/// not end with a newline.
fn lines_of(data: &[u8], mut emit: impl FnMut(&[u8], bool)) {
    let mut it = data.split(|&b| b == b'\n').peekable();
    while let Some(l) = it.next() {
        let last = it.peek().is_none();
        if last && l.is_empty() {
            break;
        }
        emit(l, !last);
    }
}

/// Runs `s6-rs logs`.
pub fn run(a: &Args) -> io::Result<u8> {
    let logdir = find_logdir(&a.dir).ok_or_else(|| {
        io::Error::other(format!(
            "unable to find the logdir of {}: give the logdir itself (a directory with current)",
            a.dir.display()
        ))
    })?;
    let mut p = Printer { clock: Clock::new(true), stamp: [0; MAX_LEN] };
    let mut out = anstream::stdout().lock();
    let keep = a.lines.unwrap_or(usize::MAX);
    let mut last: VecDeque<Vec<u8>> = VecDeque::new();
    let mut push = |v: Vec<u8>| {
        if keep == 0 {
            return;
        }
        if last.len() == keep {
            last.pop_front();
        }
        last.push_back(v);
    };
    let current = logdir.join("current");
    // The archives listed and the `current` opened must belong together: a rotation between
    // the two would leave an archive that is neither printed nor, later, told apart from
    // the archive of the `current` we hold. List again until nothing moved in between.
    let (seen, tail) = loop {
        let before = archives(&logdir)?;
        let tail = match Tail::open(&current) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if archives(&logdir)? == before {
            break (before, tail);
        }
    };
    for f in &seen {
        whole_file(f, |l, t| push(p.line(l, t)))?;
    }
    let mut f = Follower { logdir: &logdir, current: &current, tail, seen, printed: VecDeque::new() };
    // A rotated file still being processed comes before `current`.
    f.previous(&mut |l: &[u8], t: bool| push(p.line(l, t)))?;
    if let Some(t) = f.tail.as_mut() {
        t.drain(|l| push(p.line(l, true)))?;
        if !a.follow && !t.partial.is_empty() {
            let rest = std::mem::take(&mut t.partial);
            push(p.line(&rest, false));
        }
    }
    for l in last.drain(..) {
        out.write_all(&l)?;
    }
    out.flush()?;
    if !a.follow {
        return Ok(0);
    }
    loop {
        std::thread::sleep(POLL);
        let mut lines = Vec::new();
        f.look(&mut |l: &[u8], t: bool| lines.push(p.line(l, t)))?;
        for l in lines {
            out.write_all(&l)?;
        }
        out.flush()?;
    }
}

/// A file whose lines were printed and whose archive has not been seen yet.
#[derive(Debug)]
struct Printed {
    ino: u64,
    /// A time at which the file was still `current` or `previous`: its archive, made when
    /// its rotation ends, is named after this.
    unarchived_at: Tain,
}

/// `-f`'s state between two looks at the logdir.
#[derive(Debug)]
struct Follower<'a> {
    logdir: &'a Path,
    current: &'a Path,
    tail: Option<Tail>,
    seen: Vec<PathBuf>,
    /// Rotated files already printed, oldest first, whose archives are still to come.
    printed: VecDeque<Printed>,
}

impl Follower<'_> {
    /// One look: new lines of `current`, a rotation of it, a `previous` never read (a
    /// `current` that came and went between two looks, now being processed), and new
    /// archives, printed unless they hold lines already printed.
    fn look(&mut self, emit: &mut impl FnMut(&[u8], bool)) -> io::Result<()> {
        if let Some(t) = self.tail.as_mut() {
            t.drain(|l| emit(l, true))?;
        }
        let before_stat = Tain::now();
        let now = std::fs::metadata(self.current).ok().map(|m| m.ino());
        let rotated = self.tail.as_ref().map(|t| t.ino) != now;
        if let Some(t) = self.tail.as_mut() {
            if rotated {
                t.drain(|l| emit(l, true))?;
                if !t.partial.is_empty() {
                    let rest = std::mem::take(&mut t.partial);
                    emit(&rest, false);
                }
                if !t.archived {
                    self.printed.push_back(Printed { ino: t.ino, unarchived_at: t.current_at });
                }
            } else {
                t.current_at = before_stat;
            }
        }
        if rotated {
            // Its lines are read after the archives, which are older.
            self.tail = match Tail::open(self.current) {
                Ok(t) => Some(t),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
        }
        self.previous(emit)?;
        let all = archives(self.logdir)?;
        let newest = self.seen.last().cloned();
        for f in all.iter().filter(|f| !matches!(&newest, Some(n) if *f <= n)) {
            if !self.already_printed(f) {
                whole_file(f, |l, _| emit(l, true))?;
            }
        }
        self.seen = all;
        if rotated {
            if let Some(t) = self.tail.as_mut() {
                t.drain(|l| emit(l, true))?;
            }
        }
        Ok(())
    }

    /// Reads `previous` whole if it is a file not printed yet: with a processor it stays
    /// there while the processor runs, and its archive will hold processed lines.
    fn previous(&mut self, emit: &mut impl FnMut(&[u8], bool)) -> io::Result<()> {
        let at = Tain::now();
        let path = self.logdir.join("previous");
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let ino = file.metadata()?.ino();
        if self.tail.as_ref().is_some_and(|t| t.ino == ino) {
            return Ok(());
        }
        if let Some(p) = self.printed.iter_mut().find(|p| p.ino == ino) {
            p.unarchived_at = at;
            return Ok(());
        }
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        lines_of(&data, |l, t| emit(l, t));
        self.printed.push_back(Printed { ino, unarchived_at: at });
        Ok(())
    }

    /// Whether a new archive holds lines already printed: it is a printed file renamed
    /// (same inode), or, when the processor rewrote it, the oldest printed file's, if it
    /// was made after that file was last seen unarchived (an archive made before then is
    /// a file never seen, rotated and archived between two looks).
    fn already_printed(&mut self, archive: &Path) -> bool {
        let Ok(meta) = std::fs::metadata(archive) else { return true };
        if self.tail.as_ref().is_some_and(|t| t.ino == meta.ino()) {
            // The `current` we hold, already rotated and archived: the next look reads
            // the rest of it from the open file, and it must not wait for this archive.
            if let Some(t) = self.tail.as_mut() {
                t.archived = true;
            }
            return true;
        }
        if let Some(i) = self.printed.iter().position(|p| p.ino == meta.ino()) {
            self.printed.drain(..=i);
            return true;
        }
        let made =
            archive.file_name().and_then(|n| n.as_encoded_bytes().get(..25).and_then(Tain::parse_label));
        match (self.printed.front(), made) {
            (Some(p), Some(made)) if made > p.unarchived_at => {
                self.printed.pop_front();
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[OsString]) -> Vec<&str> {
        v.iter().map(|w| w.to_str().unwrap()).collect()
    }

    #[test]
    fn directives_of_run_scripts() {
        let d = directives("#!/bin/sh\n# s6-log is here\nexec s6-log -d3 -- t s100000 n5 ./main\n").unwrap();
        assert_eq!(words(&d), ["t", "s100000", "n5", "./main"]);
        let d = directives("#!/bin/execlineb -P\ns6-log -b -l 2000 -t 5 n3 '/var/log/x'\n").unwrap();
        assert_eq!(words(&d), ["n3", "/var/log/x"]);
        std::env::set_var("S6RS_FRONTEND_TEST_LOGS", "/tmp/l");
        let d = directives("exec /usr/bin/s6-log T \"${S6RS_FRONTEND_TEST_LOGS:?}/ticker\"\n").unwrap();
        assert_eq!(words(&d), ["T", "/tmp/l/ticker"]);
        assert!(directives("exec s6-log t $S6RS_FRONTEND_TEST_UNSET/x\n").is_none());
        assert!(directives("exec cat\n").is_none());
    }

    #[test]
    fn archives_sorted_and_logdir_found() {
        let t = std::env::temp_dir().join(format!("s6rs-frontend-logs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        let logdir = t.join("logs/svc");
        std::fs::create_dir_all(&logdir).unwrap();
        std::fs::create_dir_all(t.join("svc/log")).unwrap();
        for n in ["@400000006b04da7f00000000.s", "@400000006b04da7e00000000.u", "current", "lock", "state"] {
            std::fs::write(logdir.join(n), "").unwrap();
        }
        let names: Vec<String> = archives(&logdir)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into())
            .collect();
        assert_eq!(names, ["@400000006b04da7e00000000.u", "@400000006b04da7f00000000.s"]);
        std::fs::write(t.join("svc/log/run"), "#!/bin/sh\nexec s6-log t n5 ../../logs/svc\n").unwrap();
        assert_eq!(find_logdir(&t.join("svc")), Some(t.join("svc/log/../../logs/svc")));
        assert_eq!(find_logdir(&logdir), Some(logdir.clone()));
        std::fs::remove_dir_all(&t).unwrap();
    }
}
