//! Control fifos: `supervise/control` (read by s6-supervise) and `.s6-svscan/control` (read
//! by s6-svscan). Writers send every command byte in one `write()` (FORMATS.md §1.4, §3.1;
//! upstream `s6_svc_write`).

use std::io;
use std::path::Path;

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
