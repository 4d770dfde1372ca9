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
pub fn send(dir: &Path, subdir: &str, cmds: &[u8]) -> Result<(), SendError> {
    let ctl = dir.join(subdir);
    let fifo = ctl.join("control");
    let f = match s6rs_sys::fd::open_write_nb(&fifo) {
        Ok(f) => f,
        Err(e) => {
            return Err(match e.raw_os_error() {
                Some(libc::ENXIO) => SendError::NotListening,
                Some(libc::ENOENT) | Some(libc::ENOTDIR) | Some(libc::EISDIR) => {
                    match std::fs::symlink_metadata(&ctl) {
                        Err(m) if m.kind() == io::ErrorKind::NotFound => SendError::NotListening,
                        _ => SendError::Broken(e),
                    }
                }
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
