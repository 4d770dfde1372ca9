//! Control fifos: `supervise/control` (read by s6-supervise) and `.s6-svscan/control` (read
//! by s6-svscan). Writers send every command byte in one `write()` (FORMATS.md §1.4, §3.1;
//! upstream `s6_svc_write`).
//!
//! Each fifo's alphabet is one table here, used in both directions: s6-svc and
//! s6-svscanctl encode with [`Command::byte`] and [`ScanCommand::byte`], s6-supervise and
//! s6-svscan decode with [`Command::from_byte`] and [`ScanCommand::from_byte`]. What a
//! command does is the reader's business (the supervisor's state x command table); the
//! table only says which byte it is and, for the commands that send a fixed signal, which
//! signal and where to.

use std::io;
use std::path::Path;

/// A fixed signal a command sends to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    /// The signal number.
    pub number: i32,
    /// True to signal the service's whole process group (`killpg`), false its pid only.
    pub group: bool,
}

/// A command byte of `supervise/control`: every byte s6-svc sends and s6-supervise
/// understands (FORMATS.md §1.4). s6-supervise ignores any other byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `a`: SIGALRM to the service.
    Alarm,
    /// `b`: SIGABRT.
    Abort,
    /// `q`: SIGQUIT.
    Quit,
    /// `h`: SIGHUP.
    Hup,
    /// `k`: SIGKILL.
    Kill,
    /// `t`: SIGTERM.
    Term,
    /// `i`: SIGINT.
    Int,
    /// `1`: SIGUSR1.
    Usr1,
    /// `2`: SIGUSR2.
    Usr2,
    /// `p`: SIGSTOP, and mark the service paused.
    Pause,
    /// `c`: SIGCONT, and clear paused.
    Cont,
    /// `y`: SIGWINCH.
    Winch,
    /// `r`: the down signal (`./down-signal`, default SIGTERM), leaving wantup alone.
    Restart,
    /// `l`: the reload signal (`./reload-signal`, default SIGHUP).
    Reload,
    /// `P`: SIGSTOP to the process group, and mark paused.
    GroupPause,
    /// `C`: SIGCONT to the process group, and clear paused.
    GroupCont,
    /// `K`: SIGKILL to the process group.
    GroupKill,
    /// `o`: run once: want down, and start if down.
    Once,
    /// `d`: want down, and stop the service.
    Down,
    /// `u`: want up, and start if down.
    Up,
    /// `D`: create `./down`, then `d`.
    DownFile,
    /// `U`: remove `./down`, then `u`.
    UpFile,
    /// `x`: the supervisor exits once the service is down.
    Exit,
    /// `O`: want down, nothing else (do not restart).
    NoRestart,
    /// `Q`: create `./down` and `O`. (2.15.1 ignores it by mistake; 2.11 honours it.)
    NoRestartFile,
}

/// One command of [`SUPERVISE`]: its byte and the fixed signal it sends, if any.
#[derive(Debug, Clone, Copy)]
struct Entry {
    cmd: Command,
    byte: u8,
    signal: Option<Signal>,
}

const fn to_pid(cmd: Command, byte: u8, number: i32) -> Entry {
    Entry { cmd, byte, signal: Some(Signal { number, group: false }) }
}

const fn to_group(cmd: Command, byte: u8, number: i32) -> Entry {
    Entry { cmd, byte, signal: Some(Signal { number, group: true }) }
}

const fn plain(cmd: Command, byte: u8) -> Entry {
    Entry { cmd, byte, signal: None }
}

/// The `supervise/control` alphabet, in [`Command`] order (`Command as usize` indexes it).
/// `r` and `l` send signals too, but which one is a service-directory file's to say.
const SUPERVISE: [Entry; 25] = [
    to_pid(Command::Alarm, b'a', libc::SIGALRM),
    to_pid(Command::Abort, b'b', libc::SIGABRT),
    to_pid(Command::Quit, b'q', libc::SIGQUIT),
    to_pid(Command::Hup, b'h', libc::SIGHUP),
    to_pid(Command::Kill, b'k', libc::SIGKILL),
    to_pid(Command::Term, b't', libc::SIGTERM),
    to_pid(Command::Int, b'i', libc::SIGINT),
    to_pid(Command::Usr1, b'1', libc::SIGUSR1),
    to_pid(Command::Usr2, b'2', libc::SIGUSR2),
    to_pid(Command::Pause, b'p', libc::SIGSTOP),
    to_pid(Command::Cont, b'c', libc::SIGCONT),
    to_pid(Command::Winch, b'y', libc::SIGWINCH),
    plain(Command::Restart, b'r'),
    plain(Command::Reload, b'l'),
    to_group(Command::GroupPause, b'P', libc::SIGSTOP),
    to_group(Command::GroupCont, b'C', libc::SIGCONT),
    to_group(Command::GroupKill, b'K', libc::SIGKILL),
    plain(Command::Once, b'o'),
    plain(Command::Down, b'd'),
    plain(Command::Up, b'u'),
    plain(Command::DownFile, b'D'),
    plain(Command::UpFile, b'U'),
    plain(Command::Exit, b'x'),
    plain(Command::NoRestart, b'O'),
    plain(Command::NoRestartFile, b'Q'),
];

impl Command {
    /// The command a byte stands for; `None` for bytes s6-supervise ignores.
    pub fn from_byte(b: u8) -> Option<Command> {
        SUPERVISE.iter().find(|e| e.byte == b).map(|e| e.cmd)
    }

    /// The command an option letter of s6-svc stands for (the letter is the byte).
    pub fn from_letter(c: char) -> Option<Command> {
        u8::try_from(c).ok().and_then(Command::from_byte)
    }

    /// The byte that carries this command.
    pub const fn byte(self) -> u8 {
        SUPERVISE[self as usize].byte
    }

    /// The fixed signal this command sends, and where; `None` for the commands that send
    /// none, and for `r` and `l`, whose signal the service directory chooses.
    pub const fn signal(self) -> Option<Signal> {
        SUPERVISE[self as usize].signal
    }

    /// The command that sends exactly `number` to the service's pid (s6-svc's `-s`):
    /// `None` for a signal that is not in the user-available list.
    pub fn for_signal(number: i32) -> Option<Command> {
        let want = Some(Signal { number, group: false });
        SUPERVISE.iter().find(|e| e.signal == want).map(|e| e.cmd)
    }
}

/// A command byte of `.s6-svscan/control`: every byte s6-svscanctl sends and s6-svscan
/// understands (FORMATS.md §3.2). s6-svscan warns about any other byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanCommand {
    /// `z`: reap zombies now.
    Reap,
    /// `a`: rescan now.
    Alarm,
    /// `b`: abort: exec the finish procedure without waiting for the supervisors.
    Abort,
    /// `h`: rescan, then stop the supervisors of services gone.
    Hup,
    /// `i`: as `t`.
    Int,
    /// `t`: stop everything: main supervisors get SIGTERM, loggers SIGHUP; then finish.
    Term,
    /// `q`: stop everything, loggers' supervisors with SIGTERM too; then finish.
    Quit,
    /// `n`: stop the supervisors of services gone at the last scan.
    Nuke,
    /// `N`: as `n`, with SIGTERM for loggers too.
    NukeAll,
}

/// The `.s6-svscan/control` alphabet, in [`ScanCommand`] order.
const SVSCAN: [(ScanCommand, u8); 9] = [
    (ScanCommand::Reap, b'z'),
    (ScanCommand::Alarm, b'a'),
    (ScanCommand::Abort, b'b'),
    (ScanCommand::Hup, b'h'),
    (ScanCommand::Int, b'i'),
    (ScanCommand::Term, b't'),
    (ScanCommand::Quit, b'q'),
    (ScanCommand::Nuke, b'n'),
    (ScanCommand::NukeAll, b'N'),
];

impl ScanCommand {
    /// The command a byte stands for; `None` for bytes s6-svscan does not know.
    pub fn from_byte(b: u8) -> Option<ScanCommand> {
        SVSCAN.iter().find(|e| e.1 == b).map(|e| e.0)
    }

    /// The command an option letter of s6-svscanctl stands for (the letter is the byte).
    pub fn from_letter(c: char) -> Option<ScanCommand> {
        u8::try_from(c).ok().and_then(ScanCommand::from_byte)
    }

    /// The byte that carries this command.
    pub const fn byte(self) -> u8 {
        SVSCAN[self as usize].1
    }
}

/// The bytes for `cmds`, in order, ready for one [`send`].
pub fn encode<const N: usize>(cmds: [Command; N]) -> [u8; N] {
    cmds.map(Command::byte)
}

/// The bytes for `cmds`, in order, ready for one [`send`] to s6-svscan.
pub fn encode_scan<const N: usize>(cmds: [ScanCommand; N]) -> [u8; N] {
    cmds.map(ScanCommand::byte)
}

/// Why a command could not be delivered.
#[derive(Debug)]
pub enum SendError {
    /// Nobody reads the fifo (ENXIO), or the control directory does not exist.
    NotListening,
    /// The control directory exists but the fifo is missing or of the wrong type.
    Broken(io::Error),
    /// Any other system error.
    Io(io::Error),
}

/// Writes `cmds` into `DIR/SUBDIR/control`, where SUBDIR is `supervise` or `.s6-svscan`.
///
/// When the fifo cannot be opened, the directories are examined as upstream
/// `s6_svc_writectl` does: a missing or unreadable `DIR` is an `Io` error, a missing `SUBDIR`
/// means nobody ever listened, and anything else is a broken control directory.
pub fn send(dir: &Path, subdir: &str, cmds: &[u8]) -> Result<(), SendError> {
    let ctl = dir.join(subdir);
    let fifo = ctl.join("control");
    let f = match s6rs_sys::fd::open_write_nb(&fifo) {
        Ok(f) => f,
        Err(e) => {
            return Err(match e.raw_os_error() {
                Some(libc::ENXIO) => SendError::NotListening,
                Some(libc::ENOENT) | Some(libc::ENOTDIR) | Some(libc::EISDIR) => investigate(dir, &ctl, e),
                _ => SendError::Io(e),
            })
        }
    };
    use std::os::fd::AsFd;
    s6rs_sys::fd::set_nonblock(f.as_fd(), false).map_err(SendError::Io)?;
    if cmds.is_empty() {
        return Ok(());
    }
    s6rs_sys::fd::write_all(f.as_fd(), cmds).map_err(SendError::Io)
}

fn open_dir(p: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY).open(p)
}

fn investigate(dir: &Path, ctl: &Path, err: io::Error) -> SendError {
    if let Err(e) = open_dir(dir) {
        return SendError::Io(e);
    }
    match open_dir(ctl) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => SendError::NotListening,
        Err(e) => SendError::Broken(e),
        Ok(_) => SendError::Broken(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervise_table_is_in_enum_order_and_round_trips() {
        for (i, e) in SUPERVISE.iter().enumerate() {
            assert_eq!(e.cmd as usize, i, "{:?}", e.cmd);
            assert_eq!(Command::from_byte(e.cmd.byte()), Some(e.cmd));
        }
        // Every byte s6-svc can send, and only those.
        let all: Vec<u8> = SUPERVISE.iter().map(|e| e.byte).collect();
        assert_eq!(all, b"abqhkti12pcyrlPCKoduDUxOQ");
        for b in 0..=255u8 {
            match Command::from_byte(b) {
                Some(c) => assert_eq!(c.byte(), b),
                None => assert!(!all.contains(&b)),
            }
        }
    }

    #[test]
    fn unknown_supervise_bytes_are_ignored() {
        for b in b"zZ \n0sXnNeE\x00\xff" {
            assert_eq!(Command::from_byte(*b), None, "{:?}", *b as char);
        }
        assert_eq!(Command::from_letter('\u{e9}'), None);
    }

    #[test]
    fn signal_commands_name_their_signal_and_target() {
        let pid = |n| Some(Signal { number: n, group: false });
        let group = |n| Some(Signal { number: n, group: true });
        assert_eq!(Command::Kill.signal(), pid(libc::SIGKILL));
        assert_eq!(Command::GroupKill.signal(), group(libc::SIGKILL));
        assert_eq!(Command::Pause.signal(), pid(libc::SIGSTOP));
        assert_eq!(Command::GroupCont.signal(), group(libc::SIGCONT));
        assert_eq!(Command::Winch.signal(), pid(libc::SIGWINCH));
        for c in [Command::Restart, Command::Reload, Command::Up, Command::Exit] {
            assert_eq!(c.signal(), None, "{c:?}");
        }
        // s6-svc -s: the user-available signals, each to the pid.
        let user = [
            (libc::SIGALRM, b'a'),
            (libc::SIGABRT, b'b'),
            (libc::SIGQUIT, b'q'),
            (libc::SIGHUP, b'h'),
            (libc::SIGKILL, b'k'),
            (libc::SIGTERM, b't'),
            (libc::SIGINT, b'i'),
            (libc::SIGUSR1, b'1'),
            (libc::SIGUSR2, b'2'),
            (libc::SIGSTOP, b'p'),
            (libc::SIGCONT, b'c'),
            (libc::SIGWINCH, b'y'),
        ];
        for (n, b) in user {
            assert_eq!(Command::for_signal(n).map(Command::byte), Some(b), "{n}");
        }
        for n in [0, libc::SIGSEGV, libc::SIGCHLD, libc::SIGPIPE, -1] {
            assert_eq!(Command::for_signal(n), None, "{n}");
        }
    }

    #[test]
    fn svscan_table_is_in_enum_order_and_round_trips() {
        for (i, &(c, b)) in SVSCAN.iter().enumerate() {
            assert_eq!(c as usize, i, "{c:?}");
            assert_eq!(c.byte(), b);
            assert_eq!(ScanCommand::from_byte(b), Some(c));
        }
        let all: Vec<u8> = SVSCAN.iter().map(|e| e.1).collect();
        assert_eq!(all, b"zabhitqnN");
        for b in 0..=255u8 {
            if !all.contains(&b) {
                assert_eq!(ScanCommand::from_byte(b), None, "{b}");
            }
        }
        assert_eq!(encode_scan([ScanCommand::Alarm, ScanCommand::Nuke]), *b"an");
        assert_eq!(encode([Command::Exit, Command::Down]), *b"xd");
    }

    #[test]
    fn errors_are_classified_like_upstream() {
        let base = std::env::temp_dir().join(format!("s6rs-control-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("svc")).unwrap();
        let svc = base.join("svc");
        // No such service dir: a system error, not "not listening".
        assert!(matches!(send(&base.join("nope"), "supervise", b"u"), Err(SendError::Io(_))));
        // No control dir: nobody listens.
        assert!(matches!(send(&svc, "supervise", b"u"), Err(SendError::NotListening)));
        // Control dir without a fifo: broken.
        std::fs::create_dir(svc.join("supervise")).unwrap();
        assert!(matches!(send(&svc, "supervise", b"u"), Err(SendError::Broken(_))));
        // A fifo with no reader: not listening.
        s6rs_sys::fd::mkfifo(&svc.join("supervise/control"), 0o600).unwrap();
        assert!(matches!(send(&svc, "supervise", b"u"), Err(SendError::NotListening)));
        // A reader: delivered in one write.
        let r = s6rs_sys::fd::open_read_nb(&svc.join("supervise/control")).unwrap();
        send(&svc, "supervise", b"ab").unwrap();
        let mut buf = [0u8; 8];
        use std::os::fd::AsFd;
        assert_eq!(s6rs_sys::fd::read(r.as_fd(), &mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"ab");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
