//! The s6-fdholderd wire protocol (FORMATS.md §5), as pure pack and unpack functions shared
//! by the daemon and every client. Nothing here touches a socket: messages travel in ipc's
//! unixmessage framing ([`s6rs_ipc::fdpass`]), which carries the payload and the fds; this
//! module builds and reads the payloads and checks them against the number of fds that came
//! with them.
//!
//! A request is one op byte and its fields:
//!
//! | op | fields | fds |
//! |---|---|---|
//! | `S` store | limit (TAI64N, 12), idlen (1), id, NUL | 1 |
//! | `D` delete | idlen, id, NUL | 0 |
//! | `R` retrieve | delete flag (1), idlen, id, NUL | 0 |
//! | `L` list, `?` getdump | nothing | 0 |
//! | `!` setdump | count (u32 BE) | 0 |
//! | `.` setdump chunk | entries: limit, idlen, id, NUL | one per entry, 1..=255 |
//!
//! Replies start with one byte, 0 or a raw Linux errno. Ids are 1 to 255 bytes with no NUL.
//! A request that does not follow this table is a [`DecodeError`]: the daemon closes that
//! connection without a reply, as s6 does. One choice goes beyond what s6 checks: an id
//! with a NUL inside its announced length is refused (s6 would cut it at the NUL).
//!
//! Dumps travel in chunks of at most [`CHUNK`] entries, one fd per entry, and reach programs
//! through the environment of [`dump_env`] / [`parse_dump_env`].

use std::fmt;
use std::time::Duration;

use s6rs_sys::tai::Tain;

/// The longest id (`S6_FDHOLDER_ID_SIZE`).
pub const ID_MAX: usize = 255;
/// The most entries (and fds) in one dump message (`UNIXMESSAGE_MAXFDS`).
pub const CHUNK: usize = 255;
/// The packed length of a limit.
pub const TAIN_LEN: usize = 12;
/// The longest request payload: a full setdump chunk.
pub const MAX_REQUEST: usize = 1 + CHUNK * (TAIN_LEN + 2 + ID_MAX);

/// "No limit", relative: `2^61` seconds, which the clients add to the current time.
pub const NO_LIMIT: Duration = Duration::from_secs(1 << 61);
/// A limit this far ahead of now or more is shown as no limit (`2^60` s, half of
/// [`NO_LIMIT`]): `S6_FDLIMIT_i` is then left unset.
pub const NO_LIMIT_SHOWN: Duration = Duration::from_secs(1 << 60);

/// The errno values of the protocol (raw Linux numbers, as they travel).
pub mod errno {
    /// The operation is not allowed to this client.
    pub const EPERM: u8 = 1;
    /// No fd under this id.
    pub const ENOENT: u8 = 2;
    /// More setdump chunks are expected.
    pub const EAGAIN: u8 = 11;
    /// The id is taken.
    pub const EBUSY: u8 = 16;
    /// The daemon is full.
    pub const ENFILE: u8 = 23;
}

/// Why a payload is not a valid request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// No byte at all.
    Empty,
    /// A first byte that names no operation.
    UnknownOp(u8),
    /// The payload's length does not fit the operation.
    Length,
    /// An id of length 0 (or, from a client, over [`ID_MAX`]).
    IdLength,
    /// The id has a NUL inside or is not followed by one.
    IdTerminator,
    /// The number of fds that came with the message does not fit the payload.
    FdCount {
        /// What the payload calls for.
        expected: usize,
        /// What came.
        got: usize,
    },
    /// A retrieve's delete flag is neither 0 nor 1.
    Flag(u8),
    /// A counter that disagrees with the one it must match (a dump's message count).
    Count,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Empty => f.write_str("empty message"),
            DecodeError::UnknownOp(b) => write!(f, "unknown operation byte 0x{b:02x}"),
            DecodeError::Length => f.write_str("bad message length"),
            DecodeError::IdLength => f.write_str("bad identifier length"),
            DecodeError::IdTerminator => f.write_str("identifier not NUL-terminated"),
            DecodeError::FdCount { expected, got } => write!(f, "{got} fds where {expected} were due"),
            DecodeError::Flag(b) => write!(f, "bad flag byte 0x{b:02x}"),
            DecodeError::Count => f.write_str("inconsistent counts"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl DecodeError {
    /// The errno a client reports for a reply it cannot read: EPROTO, as s6's clients do.
    pub fn errno(self) -> i32 {
        libc::EPROTO
    }
}

/// One entry of a dump: an id and its absolute limit (the fd travels beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The expiry.
    pub limit: Tain,
    /// The id.
    pub id: &'a [u8],
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<'a> {
    /// `S`: hold the one fd that came with the message.
    Store {
        /// When the daemon drops it.
        limit: Tain,
        /// Its id.
        id: &'a [u8],
    },
    /// `D`: close the fd held under `id`.
    Delete {
        /// The id.
        id: &'a [u8],
    },
    /// `R`: send a copy of the fd held under `id`, and forget it if `delete`.
    Retrieve {
        /// Whether to forget it once sent.
        delete: bool,
        /// The id.
        id: &'a [u8],
    },
    /// `L`: the ids held.
    List,
    /// `?`: every fd with its id and limit.
    GetDump,
    /// `!`: `count` entries are coming in `.` chunks.
    SetDump {
        /// How many.
        count: u32,
    },
    /// `.`: one chunk of a setdump, one fd per entry.
    SetDumpData {
        /// The entries, in the order of the fds.
        entries: Vec<Entry<'a>>,
    },
}

/// Checks an id as the protocol allows it: 1..=255 bytes, no NUL.
pub fn check_id(id: &[u8]) -> Result<(), DecodeError> {
    if id.is_empty() || id.len() > ID_MAX {
        return Err(DecodeError::IdLength);
    }
    if id.contains(&0) {
        return Err(DecodeError::IdTerminator);
    }
    Ok(())
}

/// Reads `idlen id NUL` at the start of `b`: the id and the rest of `b`.
fn take_id(b: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    let (&len, rest) = b.split_first().ok_or(DecodeError::Length)?;
    let len = usize::from(len);
    if len == 0 {
        return Err(DecodeError::IdLength);
    }
    if rest.len() < len + 1 {
        return Err(DecodeError::Length);
    }
    let (id, rest) = rest.split_at(len);
    if id.contains(&0) || rest[0] != 0 {
        return Err(DecodeError::IdTerminator);
    }
    Ok((id, &rest[1..]))
}

/// Reads a whole `idlen id NUL` field: nothing may follow.
fn whole_id(b: &[u8]) -> Result<&[u8], DecodeError> {
    let (id, rest) = take_id(b)?;
    if !rest.is_empty() {
        return Err(DecodeError::Length);
    }
    Ok(id)
}

fn take_tain(b: &[u8]) -> Result<(Tain, &[u8]), DecodeError> {
    if b.len() < TAIN_LEN {
        return Err(DecodeError::Length);
    }
    let (t, rest) = b.split_at(TAIN_LEN);
    let mut a = [0u8; TAIN_LEN];
    a.copy_from_slice(t);
    Ok((Tain::unpack(&a), rest))
}

fn fds(expected: usize, got: usize) -> Result<(), DecodeError> {
    if expected != got {
        return Err(DecodeError::FdCount { expected, got });
    }
    Ok(())
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Reads dump entries filling all of `b`; there must be exactly `nfds` of them.
pub fn decode_entries(b: &[u8], nfds: usize) -> Result<Vec<Entry<'_>>, DecodeError> {
    if nfds == 0 || nfds > CHUNK {
        return Err(DecodeError::FdCount { expected: CHUNK, got: nfds });
    }
    let mut out = Vec::with_capacity(nfds);
    let mut rest = b;
    while !rest.is_empty() {
        if out.len() == nfds {
            return Err(DecodeError::Length);
        }
        let (limit, r) = take_tain(rest)?;
        let (id, r) = take_id(r)?;
        out.push(Entry { limit, id });
        rest = r;
    }
    fds(out.len(), nfds)?;
    Ok(out)
}

/// Decodes a request payload that came with `nfds` fds.
pub fn decode_request(p: &[u8], nfds: usize) -> Result<Request<'_>, DecodeError> {
    let (&op, b) = p.split_first().ok_or(DecodeError::Empty)?;
    match op {
        b'S' => {
            let (limit, r) = take_tain(b)?;
            let id = whole_id(r)?;
            fds(1, nfds)?;
            Ok(Request::Store { limit, id })
        }
        b'D' => {
            let id = whole_id(b)?;
            fds(0, nfds)?;
            Ok(Request::Delete { id })
        }
        b'R' => {
            let (&flag, r) = b.split_first().ok_or(DecodeError::Length)?;
            if flag > 1 {
                return Err(DecodeError::Flag(flag));
            }
            let id = whole_id(r)?;
            fds(0, nfds)?;
            Ok(Request::Retrieve { delete: flag == 1, id })
        }
        b'L' | b'?' => {
            if !b.is_empty() {
                return Err(DecodeError::Length);
            }
            fds(0, nfds)?;
            Ok(if op == b'L' { Request::List } else { Request::GetDump })
        }
        b'!' => {
            if b.len() != 4 {
                return Err(DecodeError::Length);
            }
            fds(0, nfds)?;
            Ok(Request::SetDump { count: be32(b) })
        }
        b'.' => Ok(Request::SetDumpData { entries: decode_entries(b, nfds)? }),
        _ => Err(DecodeError::UnknownOp(op)),
    }
}

fn push_id(out: &mut Vec<u8>, id: &[u8]) {
    out.push(id.len() as u8);
    out.extend_from_slice(id);
    out.push(0);
}

fn push_entry(out: &mut Vec<u8>, e: &Entry<'_>) {
    out.extend_from_slice(&e.limit.pack());
    push_id(out, e.id);
}

impl Request<'_> {
    /// The payload, and how many fds must go with it. Ids are checked ([`check_id`]): a
    /// client reports an id over 255 bytes as ENAMETOOLONG.
    pub fn encode(&self) -> Result<(Vec<u8>, usize), DecodeError> {
        let mut out = Vec::new();
        let nfds = match self {
            Request::Store { limit, id } => {
                check_id(id)?;
                out.push(b'S');
                out.extend_from_slice(&limit.pack());
                push_id(&mut out, id);
                1
            }
            Request::Delete { id } => {
                check_id(id)?;
                out.push(b'D');
                push_id(&mut out, id);
                0
            }
            Request::Retrieve { delete, id } => {
                check_id(id)?;
                out.push(b'R');
                out.push(u8::from(*delete));
                push_id(&mut out, id);
                0
            }
            Request::List => {
                out.push(b'L');
                0
            }
            Request::GetDump => {
                out.push(b'?');
                0
            }
            Request::SetDump { count } => {
                out.push(b'!');
                out.extend_from_slice(&count.to_be_bytes());
                0
            }
            Request::SetDumpData { entries } => {
                if entries.is_empty() || entries.len() > CHUNK {
                    return Err(DecodeError::FdCount { expected: CHUNK, got: entries.len() });
                }
                out.push(b'.');
                for e in entries {
                    check_id(e.id)?;
                    push_entry(&mut out, e);
                }
                entries.len()
            }
        };
        Ok((out, nfds))
    }
}

/// How many messages carry `n` dump entries.
pub fn chunks(n: u32) -> u32 {
    n.div_ceil(CHUNK as u32)
}

/// A one-byte reply: 0 for success, else the errno.
pub fn encode_status(errno: u8) -> [u8; 1] {
    [errno]
}

/// Reads a one-byte reply that came with `nfds` fds, where success carries `ok_fds` fds:
/// `Ok(Ok(()))` on success, `Ok(Err(errno))` for a refusal.
pub fn decode_status(p: &[u8], nfds: usize, ok_fds: usize) -> Result<Result<(), i32>, DecodeError> {
    if p.len() != 1 {
        return Err(if p.is_empty() { DecodeError::Empty } else { DecodeError::Length });
    }
    if p[0] != 0 {
        fds(0, nfds)?;
        return Ok(Err(i32::from(p[0])));
    }
    fds(ok_fds, nfds)?;
    Ok(Ok(()))
}

/// The `L` reply: `00`, the count, then each id and a NUL.
pub fn encode_list<'a>(ids: impl ExactSizeIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(&(ids.len() as u32).to_be_bytes());
    for id in ids {
        out.extend_from_slice(id);
        out.push(0);
    }
    out
}

/// Reads an `L` reply: the ids, or the refusal's errno.
pub fn decode_list(p: &[u8], nfds: usize) -> Result<Result<Vec<&[u8]>, i32>, DecodeError> {
    fds(0, nfds)?;
    let (&status, b) = p.split_first().ok_or(DecodeError::Empty)?;
    if status != 0 {
        return Ok(Err(i32::from(status)));
    }
    if b.len() < 4 {
        return Err(DecodeError::Length);
    }
    let n = be32(b) as usize;
    let body = &b[4..];
    if body.iter().filter(|&&c| c == 0).count() != n || body.last().is_some_and(|&c| c != 0) {
        return Err(DecodeError::Count);
    }
    Ok(Ok(body.split(|&c| c == 0).take(n).collect()))
}

/// The first `?` reply: `00`, the number of messages to follow, the number of entries.
pub fn encode_getdump_head(nfds: u32) -> [u8; 9] {
    let mut out = [0u8; 9];
    out[1..5].copy_from_slice(&chunks(nfds).to_be_bytes());
    out[5..].copy_from_slice(&nfds.to_be_bytes());
    out
}

/// Reads the first `?` reply: the number of entries to come, or the refusal's errno.
pub fn decode_getdump_head(p: &[u8], nfds: usize) -> Result<Result<u32, i32>, DecodeError> {
    fds(0, nfds)?;
    let (&status, b) = p.split_first().ok_or(DecodeError::Empty)?;
    if status != 0 {
        return Ok(Err(i32::from(status)));
    }
    if b.len() != 8 {
        return Err(DecodeError::Length);
    }
    let (msgs, total) = (be32(b), be32(&b[4..]));
    if msgs != chunks(total) {
        return Err(DecodeError::Count);
    }
    Ok(Ok(total))
}

/// One dump message (a `?` reply chunk): the entries, no op byte.
pub fn encode_dump_chunk(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * (TAIN_LEN + 2 + 16));
    for e in entries {
        push_entry(&mut out, e);
    }
    out
}

/// The `!` reply: `00` and the number of `.` messages the daemon expects.
pub fn encode_setdump_reply(count: u32) -> [u8; 5] {
    let mut out = [0u8; 5];
    out[1..].copy_from_slice(&chunks(count).to_be_bytes());
    out
}

/// Reads the `!` reply for `count` entries: `Ok(Ok(()))` when the daemon expects the right
/// number of chunks, or the refusal's errno.
pub fn decode_setdump_reply(p: &[u8], nfds: usize, count: u32) -> Result<Result<(), i32>, DecodeError> {
    fds(0, nfds)?;
    let (&status, b) = p.split_first().ok_or(DecodeError::Empty)?;
    if status != 0 {
        return Ok(Err(i32::from(status)));
    }
    if b.len() != 4 {
        return Err(DecodeError::Length);
    }
    if be32(b) != chunks(count) {
        return Err(DecodeError::Count);
    }
    Ok(Ok(()))
}

/// The absolute "no limit" for a store made at `now`.
pub fn no_limit(now: Tain) -> Tain {
    now.add(NO_LIMIT)
}

/// Whether `limit`, seen at `now`, means "no limit" (and so is not shown).
pub fn is_unlimited(limit: Tain, now: Tain) -> bool {
    limit >= now.add(NO_LIMIT_SHOWN)
}

/// One dump entry as a program sees it: the fd number it is open on, its id and limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    /// The fd number.
    pub fd: i32,
    /// The id.
    pub id: Vec<u8>,
    /// The limit.
    pub limit: Tain,
}

/// The environment s6-fdholder-getdump gives its program: `S6_FD#`, then for each entry
/// `S6_FD_i`, `S6_FDID_i`, and `S6_FDLIMIT_i` (unset when the limit means "no limit").
/// Values are bytes (ids need not be UTF-8); `None` means unset.
pub fn dump_env(entries: &[EnvEntry], now: Tain) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out = Vec::with_capacity(1 + 3 * entries.len());
    out.push(("S6_FD#".to_owned(), Some(entries.len().to_string().into_bytes())));
    for (i, e) in entries.iter().enumerate() {
        out.push((format!("S6_FD_{i}"), Some(e.fd.to_string().into_bytes())));
        out.push((format!("S6_FDID_{i}"), Some(e.id.clone())));
        let limit = (!is_unlimited(e.limit, now)).then(|| e.limit.label().into_bytes());
        out.push((format!("S6_FDLIMIT_{i}"), limit));
    }
    out
}

/// Why a dump environment cannot be read; the exit code is 100 for all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvError {
    /// A variable that must be set is not (its name).
    NotSet(String),
    /// A variable holds a value that cannot be used (its name).
    Invalid(String),
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvError::NotSet(n) => write!(f, "{n} not set"),
            EnvError::Invalid(n) => write!(f, "invalid ${n}"),
        }
    }
}

/// A decimal number as skalibs' `uint0_scan` reads it: digits only, the whole value.
fn scan_uint(v: &[u8]) -> Option<u32> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Reads `S6_FD#`, the number of entries of a dump environment, from its value.
pub fn dump_count(value: Option<&[u8]>) -> Result<u32, EnvError> {
    let v = value.ok_or_else(|| EnvError::NotSet("S6_FD#".to_owned()))?;
    scan_uint(v).ok_or_else(|| EnvError::Invalid("S6_FD#".to_owned()))
}

/// Reads the dump environment s6-fdholder-setdump is given, through `get` (a variable's
/// value by name): the entries, with "no limit" for a missing `S6_FDLIMIT_i`.
pub fn parse_dump_env(get: impl Fn(&str) -> Option<Vec<u8>>, now: Tain) -> Result<Vec<EnvEntry>, EnvError> {
    let need = |name: &str| get(name).ok_or_else(|| EnvError::NotSet(name.to_owned()));
    let bad = |name: &str| EnvError::Invalid(name.to_owned());
    let n = dump_count(get("S6_FD#").as_deref())?;
    let mut out = Vec::new();
    for i in 0..n {
        let name = format!("S6_FD_{i}");
        let fd = scan_uint(&need(&name)?).filter(|&f| f <= i32::MAX as u32).ok_or_else(|| bad(&name))?;
        let name = format!("S6_FDID_{i}");
        let id = need(&name)?;
        if id.is_empty() || id.len() > ID_MAX || id.contains(&0) {
            return Err(bad(&name));
        }
        let name = format!("S6_FDLIMIT_{i}");
        let limit = match get(&name) {
            None => no_limit(now),
            Some(v) => Tain::parse_label(&v).ok_or_else(|| bad(&name))?,
        };
        out.push(EnvEntry { fd: fd as i32, id, limit });
    }
    Ok(out)
}

/// An id as s6-fdholder-list prints it (skalibs' quoting without delimiters): printable
/// ASCII as is, a backslash doubled, `\a \b \t \n \v \f \r` for those controls, and any
/// other byte as `\0x` and two lowercase hex digits.
pub fn quote_id(id: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(id.len());
    for &c in id {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x07..=0x0d => {
                out.push(b'\\');
                out.push(b"abtnvfr"[usize::from(c - 7)]);
            }
            0x20..=0x7e => out.push(c),
            _ => {
                out.extend_from_slice(b"\\0x");
                out.push(b"0123456789abcdef"[usize::from(c >> 4)]);
                out.push(b"0123456789abcdef"[usize::from(c & 15)]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tain(sec: u64, nano: u32) -> Tain {
        Tain { sec, nano }
    }

    #[test]
    fn store_matches_the_capture_from_real_s6() {
        // FORMATS.md §5.2: store foo1 with -T 60000.
        let limit = tain(0x4000_0000_6b04_db14, 0x1198_2f47);
        let (p, nfds) = Request::Store { limit, id: b"foo1" }.encode().unwrap();
        let mut want = vec![b'S'];
        want.extend_from_slice(&[0x40, 0, 0, 0, 0x6b, 0x04, 0xdb, 0x14, 0x11, 0x98, 0x2f, 0x47]);
        want.extend_from_slice(b"\x04foo1\0");
        assert_eq!((p.len(), nfds), (0x13, 1));
        assert_eq!(p, want);
        assert_eq!(decode_request(&p, 1).unwrap(), Request::Store { limit, id: b"foo1" });
    }

    #[test]
    fn retrieve_list_and_replies_match_the_captures() {
        let (p, _) = Request::Retrieve { delete: false, id: b"foo1" }.encode().unwrap();
        assert_eq!(p, b"R\x00\x04foo1\0");
        let (p, _) = Request::Retrieve { delete: true, id: b"foo2" }.encode().unwrap();
        assert_eq!(p, b"R\x01\x04foo2\0");
        assert_eq!(Request::List.encode().unwrap(), (b"L".to_vec(), 0));
        let ids: [&[u8]; 2] = [b"foo1", b"foo2"];
        let l = encode_list(ids.iter().copied());
        assert_eq!(l, b"\x00\x00\x00\x00\x02foo1\0foo2\0");
        assert_eq!(decode_list(&l, 0).unwrap().unwrap(), ids);
        assert_eq!(decode_status(&[16], 0, 0).unwrap(), Err(16));
        assert_eq!(decode_status(&[0], 1, 1).unwrap(), Ok(()));
    }

    #[test]
    fn dump_messages_match_the_transferdump_capture() {
        assert_eq!(encode_getdump_head(2), [0, 0, 0, 0, 1, 0, 0, 0, 2]);
        assert_eq!(decode_getdump_head(&encode_getdump_head(2), 0).unwrap(), Ok(2));
        assert_eq!(encode_getdump_head(0), [0; 9]);
        assert_eq!(encode_getdump_head(256)[1..5], [0, 0, 0, 2]);
        let (p, _) = Request::SetDump { count: 2 }.encode().unwrap();
        assert_eq!(p, b"!\x00\x00\x00\x02");
        assert_eq!(encode_setdump_reply(2), [0, 0, 0, 0, 1]);
        assert_eq!(decode_setdump_reply(&[0, 0, 0, 0, 1], 0, 2).unwrap(), Ok(()));
        assert_eq!(decode_setdump_reply(&[0, 0, 0, 0, 2], 0, 2), Err(DecodeError::Count));
        let t = tain(0x6000_0000_6b04_dadc, 5);
        let entries = vec![Entry { limit: t, id: b"foo1" }, Entry { limit: t, id: b"foo2" }];
        let chunk = encode_dump_chunk(&entries);
        assert_eq!(chunk.len(), 0x24);
        let (p, nfds) = Request::SetDumpData { entries: entries.clone() }.encode().unwrap();
        assert_eq!((p.len(), nfds), (0x25, 2));
        assert_eq!(decode_request(&p, 2).unwrap(), Request::SetDumpData { entries: entries.clone() });
        assert_eq!(decode_entries(&chunk, 2).unwrap(), entries);
    }

    #[test]
    fn malformed_requests_are_typed_errors() {
        use DecodeError::*;
        let ok_store = Request::Store { limit: tain(1, 2), id: b"x" }.encode().unwrap().0;
        let cases: Vec<(&[u8], usize, DecodeError)> = vec![
            (b"", 0, Empty),
            (b"Z", 0, UnknownOp(b'Z')),
            (b"L", 1, FdCount { expected: 0, got: 1 }),
            (b"Lx", 0, Length),
            (b"?x", 0, Length),
            (&ok_store, 0, FdCount { expected: 1, got: 0 }),
            (&ok_store, 2, FdCount { expected: 1, got: 2 }),
            (&ok_store[..ok_store.len() - 1], 1, Length),
            (b"D\x00\x00", 0, IdLength),
            (b"D\x01a", 0, Length),
            (b"D\x01ab", 0, IdTerminator),
            (b"D\x02a\0\0", 0, IdTerminator),
            (b"D\x01a\0x", 0, Length),
            (b"R\x02\x01a\0", 0, Flag(2)),
            (b"R", 0, Length),
            (b"!\0\0\0", 0, Length),
            (b".", 0, FdCount { expected: CHUNK, got: 0 }),
        ];
        for (p, n, want) in cases {
            assert_eq!(decode_request(p, n), Err(want), "{p:?} {n}");
        }
        // A chunk whose entries and fds disagree, both ways.
        let e = [Entry { limit: tain(1, 1), id: b"a" }, Entry { limit: tain(1, 1), id: b"b" }];
        let (p, _) = Request::SetDumpData { entries: e.to_vec() }.encode().unwrap();
        assert_eq!(decode_request(&p, 1), Err(Length));
        assert_eq!(decode_request(&p, 3), Err(FdCount { expected: 2, got: 3 }));
        assert_eq!(decode_request(&p[..p.len() - 3], 2), Err(Length));
    }

    #[test]
    fn ids_of_0_and_256_bytes_are_refused() {
        let long = vec![b'a'; 256];
        assert_eq!(Request::Delete { id: &long }.encode(), Err(DecodeError::IdLength));
        assert_eq!(Request::Delete { id: b"" }.encode(), Err(DecodeError::IdLength));
        let max = vec![b'a'; 255];
        let (p, _) = Request::Delete { id: &max }.encode().unwrap();
        assert_eq!(decode_request(&p, 0).unwrap(), Request::Delete { id: &max });
        assert_eq!(p.len(), 258);
        let full: Vec<Entry<'_>> = (0..CHUNK).map(|_| Entry { limit: tain(1, 1), id: &max }).collect();
        let (p, nfds) = Request::SetDumpData { entries: full }.encode().unwrap();
        assert_eq!((p.len(), nfds), (MAX_REQUEST, CHUNK));
    }

    #[test]
    fn list_replies_must_count_right() {
        assert_eq!(decode_list(b"\0\0\0\0\x02a\0", 0), Err(DecodeError::Count));
        assert_eq!(decode_list(b"\0\0\0\0\x01a\0b", 0), Err(DecodeError::Count));
        assert_eq!(decode_list(b"\0\0\0\0\x00", 0).unwrap(), Ok(vec![]));
        assert_eq!(decode_list(b"\x01", 0).unwrap(), Err(1));
        assert_eq!(decode_list(b"\0\0\0", 0), Err(DecodeError::Length));
    }

    #[test]
    fn environment_round_trip_and_no_limit() {
        let now = Tain::from_unix(1_795_480_194, 0);
        let nl = no_limit(now);
        assert_eq!(nl.sec >> 60, 0x6, "{nl}");
        let entries = vec![
            EnvEntry { fd: 4, id: b"a\tb".to_vec(), limit: nl },
            EnvEntry { fd: 7, id: b"c".to_vec(), limit: now.add(Duration::from_secs(60)) },
        ];
        let env = dump_env(&entries, now);
        assert_eq!(env[0], ("S6_FD#".into(), Some(b"2".to_vec())));
        assert_eq!(env[3], ("S6_FDLIMIT_0".into(), None));
        assert_eq!(env[6].1.as_deref(), Some(entries[1].limit.label().as_bytes()));
        let get = |k: &str| env.iter().find(|(n, _)| n == k).and_then(|(_, v)| v.clone());
        assert_eq!(parse_dump_env(get, now).unwrap(), entries);
    }

    #[test]
    fn environment_errors_name_the_variable_as_s6_does() {
        let now = Tain::from_unix(1, 0);
        let from = |vars: &'static [(&str, &str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_bytes().to_vec())
        };
        let e = |vars: &'static [(&str, &str)]| parse_dump_env(from(vars), now).unwrap_err().to_string();
        assert_eq!(e(&[]), "S6_FD# not set");
        assert_eq!(e(&[("S6_FD#", "x")]), "invalid $S6_FD#");
        assert_eq!(e(&[("S6_FD#", "1")]), "S6_FD_0 not set");
        assert_eq!(e(&[("S6_FD#", "1"), ("S6_FD_0", "0")]), "S6_FDID_0 not set");
        assert_eq!(e(&[("S6_FD#", "1"), ("S6_FD_0", "0"), ("S6_FDID_0", "")]), "invalid $S6_FDID_0");
        assert_eq!(
            e(&[("S6_FD#", "1"), ("S6_FD_0", "0"), ("S6_FDID_0", "x"), ("S6_FDLIMIT_0", "bad")]),
            "invalid $S6_FDLIMIT_0"
        );
        assert_eq!(parse_dump_env(from(&[("S6_FD#", "0")]), now).unwrap(), vec![]);
    }

    #[test]
    fn quoting_matches_real_s6_fdholder_list() {
        // Real s6-fdholder-list printed these for ids a\001\tb\c" and "aé x".
        assert_eq!(quote_id(b"a\x01\tb\\c\""), b"a\\0x01\\tb\\\\c\"");
        assert_eq!(quote_id("aé x".as_bytes()), b"a\\0xc3\\0xa9 x");
    }
}
