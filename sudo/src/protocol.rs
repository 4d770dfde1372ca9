//! The s6-sudoc ↔ s6-sudod wire protocol (FORMATS.md §6), as pure pack/unpack functions: no
//! I/O here. The framing of the request (skalibs' unixmessage, with fd passing) is
//! [`s6rs_ipc::fdpass`]'s; this module only says what the bytes mean.
//!
//! A session, in order:
//!
//! 1. server → client, raw: the 15-byte banner [`SERVER_BANNER`];
//! 2. client → server, one unixmessage carrying [`NFDS`] fds (the client's 0, 1 and 2) and
//!    the payload [`CLIENT_BANNER`], `u32 BE` argc, envc, arglen, envlen, then `arglen`
//!    bytes of NUL-terminated arguments and `envlen` bytes of NUL-terminated `NAME=value`
//!    entries ([`encode_request`], [`decode_request`]);
//! 3. server → client, raw: one confirmation byte, 0 once the child runs, otherwise an
//!    errno value ([`Confirmation`]);
//! 4. server → client, raw: the child's raw wait status as `u32 BE` ([`pack_status`]),
//!    which the client turns into its exit code ([`exit_code`]).
//!
//! The decoder is stricter than upstream's where upstream would read past what the
//! client announced: the arguments must be exactly `argc` NUL-terminated strings filling
//! `arglen` bytes, and likewise for the environment. Everything a real s6-sudoc sends
//! passes.

use std::fmt;

/// What the server writes first, unframed.
pub const SERVER_BANNER: &[u8; 15] = b"s6-sudo b v1.0\n";
/// What the request's payload starts with.
pub const CLIENT_BANNER: &[u8; 15] = b"s6-sudo a v1.0\n";
/// The fds a request carries: the client's stdin, stdout and stderr.
pub const NFDS: usize = 3;
/// The most arguments, and separately the most environment entries, a request may carry
/// (upstream's cap).
pub const MAX_COUNT: u32 = 131_072;
/// The fixed part of a request: the banner and four `u32`s.
pub const FIXED_LEN: usize = CLIENT_BANNER.len() + 16;
/// The length of the exit-status message.
pub const STATUS_LEN: usize = 4;

/// A decoded request: the client's arguments and environment, borrowed from the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The arguments to append to the server's, without their NULs.
    pub args: Vec<&'a [u8]>,
    /// `NAME=value` entries, without their NULs; each has a `=`.
    pub env: Vec<&'a [u8]>,
}

/// Why a request was refused. [`DecodeError::reply`] says whether the server answers
/// (and with which errno) before it exits, as upstream does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The message did not carry exactly [`NFDS`] fds (it carried this many).
    Fds(usize),
    /// The payload is shorter than the fixed part.
    Short,
    /// The payload does not start with [`CLIENT_BANNER`].
    Banner,
    /// `arglen + envlen` overflows or disagrees with the payload's length.
    Lengths,
    /// `argc` or `envc` is above [`MAX_COUNT`].
    TooMany,
    /// The argument bytes are not exactly `argc` NUL-terminated strings.
    Args,
    /// The environment bytes are not exactly `envc` NUL-terminated strings.
    Env,
    /// An environment entry has no `=` (its index).
    EnvEntry(usize),
}

impl DecodeError {
    /// The errno byte the server sends before exiting, if any: upstream answers EINVAL for
    /// strings that do not split, and closes without a word for a malformed header.
    pub fn reply(self) -> Option<u8> {
        match self {
            DecodeError::Args | DecodeError::Env | DecodeError::EnvEntry(_) => Some(libc::EINVAL as u8),
            _ => None,
        }
    }

    /// The exit code s6-sudod dies with (upstream's: 111 where it blamed its own string
    /// splitting, 100 for everything else).
    pub fn exit_code(self) -> u8 {
        match self {
            DecodeError::Args | DecodeError::Env => 111,
            _ => 100,
        }
    }
}

impl fmt::Display for DecodeError {
    /// Upstream s6-sudod's wording, to follow `s6-sudod: fatal: `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecodeError::Fds(_) => "client did not send 3 fds",
            DecodeError::Short => "wrong client message",
            DecodeError::Banner => "wrong client banner",
            DecodeError::Lengths => "wrong client argc/envlen",
            DecodeError::TooMany => "too many args/envvars from client",
            DecodeError::Args => "unable to make child argv: Invalid argument",
            DecodeError::Env => "unable to make child envp: Invalid argument",
            DecodeError::EnvEntry(_) => "bad environment from client",
        })
    }
}

impl std::error::Error for DecodeError {}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Packs a request's payload: the banner, the counts and lengths, the arguments and, if
/// given, the environment entries (each `NAME=value`; `None` sends none, as `-e`).
/// The fds travel beside it. Strings must not contain NUL (they would split).
pub fn encode_request<A: AsRef<[u8]>, E: AsRef<[u8]>>(args: &[A], env: Option<&[E]>) -> Vec<u8> {
    let arglen: usize = args.iter().map(|a| a.as_ref().len() + 1).sum();
    let env = env.unwrap_or(&[]);
    let envlen: usize = env.iter().map(|e| e.as_ref().len() + 1).sum();
    let mut out = Vec::with_capacity(FIXED_LEN + arglen + envlen);
    out.extend_from_slice(CLIENT_BANNER);
    for n in [args.len(), env.len(), arglen, envlen] {
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    for s in args.iter().map(AsRef::as_ref).chain(env.iter().map(AsRef::as_ref)) {
        out.extend_from_slice(s);
        out.push(0);
    }
    out
}

/// Splits `bytes` into exactly `count` NUL-terminated strings, or `None`.
fn split(bytes: &[u8], count: u32) -> Option<Vec<&[u8]>> {
    // Every string takes at least its NUL: more strings than bytes cannot split, and the
    // vector is never sized from the peer's word alone.
    if count as usize > bytes.len() {
        return None;
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut rest = bytes;
    for _ in 0..count {
        let nul = rest.iter().position(|&b| b == 0)?;
        out.push(&rest[..nul]);
        rest = &rest[nul + 1..];
    }
    rest.is_empty().then_some(out)
}

/// Decodes a request's payload, given how many fds came with it. Checks in upstream's
/// order: the fd count, the length, the banner, the lengths against the payload, the
/// caps, then the strings.
pub fn decode_request(payload: &[u8], nfds: usize) -> Result<Request<'_>, DecodeError> {
    if nfds != NFDS {
        return Err(DecodeError::Fds(nfds));
    }
    if payload.len() < FIXED_LEN {
        return Err(DecodeError::Short);
    }
    if !payload.starts_with(CLIENT_BANNER) {
        return Err(DecodeError::Banner);
    }
    let h = &payload[CLIENT_BANNER.len()..FIXED_LEN];
    let (argc, envc, arglen, envlen) = (be32(h), be32(&h[4..]), be32(&h[8..]), be32(&h[12..]));
    let body = &payload[FIXED_LEN..];
    let total = (arglen as usize).checked_add(envlen as usize);
    if total != Some(body.len()) {
        return Err(DecodeError::Lengths);
    }
    if argc > MAX_COUNT || envc > MAX_COUNT {
        return Err(DecodeError::TooMany);
    }
    let (argbytes, envbytes) = body.split_at(arglen as usize);
    let args = split(argbytes, argc).ok_or(DecodeError::Args)?;
    let env = split(envbytes, envc).ok_or(DecodeError::Env)?;
    if let Some(i) = env.iter().position(|e| !e.contains(&b'=')) {
        return Err(DecodeError::EnvEntry(i));
    }
    Ok(Request { args, env })
}

/// The server's answer once it has dealt with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The child runs; its status follows.
    Spawned,
    /// Refused, with this errno value; nothing follows.
    Refused(u8),
}

impl Confirmation {
    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            Confirmation::Spawned => 0,
            Confirmation::Refused(e) => e,
        }
    }

    /// Reads the byte.
    pub fn from_byte(b: u8) -> Confirmation {
        if b == 0 {
            Confirmation::Spawned
        } else {
            Confirmation::Refused(b)
        }
    }
}

/// Packs a raw wait status.
pub fn pack_status(wstat: i32) -> [u8; STATUS_LEN] {
    (wstat as u32).to_be_bytes()
}

/// Unpacks a raw wait status.
pub fn unpack_status(b: [u8; STATUS_LEN]) -> i32 {
    u32::from_be_bytes(b) as i32
}

/// The client's exit code for a raw wait status (skalibs `wait_estatus`): 128 + the signal
/// for a child killed by one, 128 for an exit code of 128 or more (so that it cannot pass
/// for a signal), the exit code otherwise.
pub fn exit_code(wstat: i32) -> u8 {
    if libc::WIFSIGNALED(wstat) {
        (128 + libc::WTERMSIG(wstat)).min(255) as u8
    } else {
        libc::WEXITSTATUS(wstat).min(128) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request real s6-sudoc 2.11.3.2 sent for `s6-sudo sock arg1 arg2` (FORMATS.md
    /// §6), with the environment cut down to two entries.
    fn golden() -> Vec<u8> {
        let mut v = b"s6-sudo a v1.0\n".to_vec();
        v.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 10, 0, 0, 0, 13]);
        v.extend_from_slice(b"arg1\0arg2\0C=client\0A=b\0");
        v
    }

    fn header(argc: u32, envc: u32, arglen: u32, envlen: u32) -> Vec<u8> {
        let mut v = CLIENT_BANNER.to_vec();
        for n in [argc, envc, arglen, envlen] {
            v.extend_from_slice(&n.to_be_bytes());
        }
        v
    }

    #[test]
    fn golden_request_round_trips() {
        let g = golden();
        assert_eq!(encode_request(&["arg1", "arg2"], Some(&["C=client", "A=b"])), g);
        let r = decode_request(&g, 3).unwrap();
        assert_eq!(r.args, [&b"arg1"[..], b"arg2"]);
        assert_eq!(r.env, [&b"C=client"[..], b"A=b"]);
    }

    #[test]
    fn no_env_and_no_args() {
        let none: Option<&[&str]> = None;
        let p = encode_request::<&str, &str>(&[], none);
        assert_eq!(p, header(0, 0, 0, 0));
        assert_eq!(decode_request(&p, 3).unwrap(), Request { args: vec![], env: vec![] });
        // Empty strings are strings: one empty argument is one NUL.
        let p = encode_request(&[""], Some(&["A="]));
        let r = decode_request(&p, 3).unwrap();
        assert_eq!((r.args, r.env), (vec![&b""[..]], vec![&b"A="[..]]));
    }

    #[test]
    fn fd_count_is_checked_first() {
        for n in [0, 1, 2, 4, 255] {
            assert_eq!(decode_request(&golden(), n), Err(DecodeError::Fds(n)));
            assert_eq!(decode_request(b"junk", n), Err(DecodeError::Fds(n)));
        }
    }

    #[test]
    fn short_and_bad_banner() {
        let g = golden();
        for n in 0..FIXED_LEN {
            assert_eq!(decode_request(&g[..n], 3), Err(DecodeError::Short), "{n}");
        }
        let mut b = g.clone();
        b[7] = b'b';
        assert_eq!(decode_request(&b, 3), Err(DecodeError::Banner));
        let mut s = SERVER_BANNER.to_vec();
        s.extend_from_slice(&g[15..]);
        assert_eq!(decode_request(&s, 3), Err(DecodeError::Banner));
    }

    #[test]
    fn lengths_must_add_up_without_overflow() {
        let mut p = header(1, 0, 2, 0);
        p.extend_from_slice(b"a\0x");
        assert_eq!(decode_request(&p, 3), Err(DecodeError::Lengths));
        let mut p = header(1, 0, 2, 0);
        p.extend_from_slice(b"a");
        assert_eq!(decode_request(&p, 3), Err(DecodeError::Lengths));
        // 32-bit wrap-around would make these add up to 2.
        let mut p = header(1, 0, 3, u32::MAX);
        p.extend_from_slice(b"a\0");
        assert_eq!(decode_request(&p, 3), Err(DecodeError::Lengths));
        let mut p = header(0, 0, u32::MAX, u32::MAX);
        p.extend_from_slice(b"ab");
        assert_eq!(decode_request(&p, 3), Err(DecodeError::Lengths));
    }

    #[test]
    fn counts_above_the_cap() {
        assert_eq!(decode_request(&header(MAX_COUNT + 1, 0, 0, 0), 3), Err(DecodeError::TooMany));
        assert_eq!(decode_request(&header(0, MAX_COUNT + 1, 0, 0), 3), Err(DecodeError::TooMany));
        assert_eq!(decode_request(&header(u32::MAX, u32::MAX, 0, 0), 3), Err(DecodeError::TooMany));
        // At the cap is allowed: the strings are what fails then.
        assert_eq!(decode_request(&header(MAX_COUNT, 0, 0, 0), 3), Err(DecodeError::Args));
        let mut p = header(MAX_COUNT, 0, MAX_COUNT, 0);
        p.resize(p.len() + MAX_COUNT as usize, 0);
        assert_eq!(decode_request(&p, 3).unwrap().args.len(), MAX_COUNT as usize);
    }

    #[test]
    fn strings_must_split_exactly() {
        // Fewer strings than announced, more, and an unterminated last one.
        for (argc, bytes) in [(3u32, &b"a\0b\0"[..]), (1, b"a\0b\0"), (2, b"a\0b")] {
            let mut p = header(argc, 0, bytes.len() as u32, 0);
            p.extend_from_slice(bytes);
            assert_eq!(decode_request(&p, 3), Err(DecodeError::Args), "{argc} {bytes:?}");
        }
        let mut p = header(0, 2, 0, 4);
        p.extend_from_slice(b"A=\0\0");
        assert_eq!(decode_request(&p, 3), Err(DecodeError::EnvEntry(1)));
        let mut p = header(0, 1, 0, 4);
        p.extend_from_slice(b"A=\0\0");
        assert_eq!(decode_request(&p, 3), Err(DecodeError::Env));
    }

    #[test]
    fn env_entries_need_an_equals_sign() {
        let p = encode_request(&["x"], Some(&["A=1", "B", "C=3"]));
        assert_eq!(decode_request(&p, 3), Err(DecodeError::EnvEntry(1)));
        assert_eq!(DecodeError::EnvEntry(1).reply(), Some(22));
        assert_eq!(DecodeError::Lengths.reply(), None);
        // "=value" has a (empty) name: upstream lets it through, and so do we.
        let p = encode_request(&["x"], Some(&["=v"]));
        assert!(decode_request(&p, 3).is_ok());
    }

    #[test]
    fn confirmation_and_status() {
        assert_eq!(Confirmation::Spawned.byte(), 0);
        assert_eq!(Confirmation::from_byte(1), Confirmation::Refused(1));
        assert_eq!(Confirmation::from_byte(0), Confirmation::Spawned);
        // exit 7 as captured from real s6: 00 00 07 00.
        assert_eq!(pack_status(0x700), [0, 0, 7, 0]);
        assert_eq!(unpack_status([0, 0, 7, 0]), 0x700);
        assert_eq!(unpack_status(pack_status(-1)), -1);
    }

    #[test]
    fn exit_codes_follow_wait_estatus() {
        assert_eq!(exit_code(0), 0);
        assert_eq!(exit_code(7 << 8), 7);
        assert_eq!(exit_code(127 << 8), 127);
        assert_eq!(exit_code(128 << 8), 128);
        assert_eq!(exit_code(200 << 8), 128);
        assert_eq!(exit_code(255 << 8), 128);
        assert_eq!(exit_code(libc::SIGTERM), 143);
        assert_eq!(exit_code(libc::SIGKILL | 0x80), 137);
    }
}
