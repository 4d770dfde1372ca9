//! The fuzz harnesses: one `pub fn NAME(data: &[u8])` per parser or decoder, used twice.
//! `fuzz/fuzz_targets/NAME.rs` hands libFuzzer's inputs to `NAME`, and the root package's
//! `tests/fuzz_replay.rs` runs every file of `fuzz/corpus/NAME/` through it on stable Rust,
//! so the corpora (crashes once found included) are regression tests.
//!
//! A harness panics when the code under test misbehaves: a panic inside it, or a property
//! that must hold for every input (a round trip, an oracle) failing. Harnesses do no disk
//! IO per input.

#![allow(dead_code)] // each fuzz target uses one function of this file

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use s6rs_access::cdb::{self, CdbRules};
use s6rs_access::cdbfile::{Cdb, Writer};
use s6rs_access::rules::{self, Backend, Grant, Lookup, MAX_ENV, MAX_EXEC};
use s6rs_fdholder::protocol::{self as fdh, Request};
use s6rs_ipc::fdpass::{self, Receiver, HEADER_LEN, MAX_FDS, MAX_SIZE};
use s6rs_log::script::{self, Target};
use s6rs_log::stamp::{Clock, MAX_LEN};
use s6rs_log::zone::Zone;
use s6rs_sudo::policy::Policy;
use s6rs_sudo::protocol::{self as sudo_protocol, DecodeError, CLIENT_BANNER, FIXED_LEN, MAX_COUNT, NFDS};
use s6rs_supervise::control::{Command, ScanCommand};
use s6rs_supervise::dtally;
use s6rs_supervise::svstatus::{self, Status};
use s6rs_sys::envdir;
use s6rs_sys::ere;
use s6rs_sys::tai::Tain;

/// A harness: panics when the code under test misbehaves on `data`.
pub type Harness = fn(&[u8]);

/// Every target, by name, for the replay test.
pub const TARGETS: &[(&str, Harness)] = &[
    ("control", control),
    ("status", status),
    ("dtally", dtally),
    ("log_script", log_script),
    ("ere", ere),
    ("access_fs", access_fs),
    ("access_cdb", access_cdb),
    ("unixmessage", unixmessage),
    ("envdir", envdir),
    ("tzif", tzif),
    ("tz_string", tz_string),
    ("tai64n", tai64n),
    ("sudo_request", sudo_request),
    ("fdholder_request", fdholder_request),
];

/// The control bytes of s6-supervise and s6-svscan: every byte is a command or ignored,
/// exactly the documented alphabets are understood, and a command encodes back to its byte.
pub fn control(data: &[u8]) {
    const ALPHABET: &[u8] = b"abqhkti12ypcrlPCKoduDUxOQ";
    const SCAN_ALPHABET: &[u8] = b"zabhitqnN";
    for &b in data {
        let cmd = Command::from_byte(b);
        assert_eq!(cmd.is_some(), ALPHABET.contains(&b), "byte {b:#04x}");
        assert!(cmd.is_none_or(|c| c.byte() == b), "byte {b:#04x}");
        let scan = ScanCommand::from_byte(b);
        assert_eq!(scan.is_some(), SCAN_ALPHABET.contains(&b), "scan byte {b:#04x}");
        assert!(scan.is_none_or(|c| c.byte() == b), "scan byte {b:#04x}");
    }
}

/// `supervise/status`: short records are refused; a record packs back to its bytes (the
/// flags byte to its four known bits).
pub fn status(data: &[u8]) {
    let Some(st) = Status::unpack(data) else {
        assert!(data.len() < svstatus::SIZE);
        return;
    };
    let b = st.pack();
    assert_eq!(b[..34], data[..34]);
    assert_eq!(b[34], data[34] & 0x0f);
    assert_eq!(Status::unpack(&b), Some(st));
    let _ = st.is_up();
}

/// `supervise/death_tally`: whole records only, each packing back to its bytes.
pub fn dtally(data: &[u8]) {
    match dtally::unpack_all(data) {
        None => assert_ne!(data.len() % dtally::SIZE, 0),
        Some(deaths) => {
            assert_eq!(deaths.len() * dtally::SIZE, data.len());
            for (d, chunk) in deaths.iter().zip(data.chunks_exact(dtally::SIZE)) {
                assert_eq!(&d.pack()[..], chunk);
            }
        }
    }
}

/// The s6-log script: NUL-separated words (a command line cannot hold a NUL). A script
/// that parses must be consistent, and selecting lines with it must work.
pub fn log_script(data: &[u8]) {
    let words: Vec<OsString> = data.split(|&b| b == 0).map(|w| OsString::from_vec(w.to_vec())).collect();
    let Ok(s) = script::parse(&words) else { return };
    for g in &s.groups {
        for a in &g.acts {
            if let Target::Logdir(i) = a.target {
                assert!(i < s.logdirs.len());
            }
        }
    }
    for l in &s.logdirs {
        assert!((script::MIN_SIZE..=script::MAX_SIZE).contains(&l.size));
        assert!(l.tolerance <= l.size / 2);
    }
    let _ = s.stamps();
    for line in [&b""[..], b"x", data, b"error: something\n"] {
        s.select(line, |_| {});
    }
}

/// Whether `b` means something in an ERE outside a bracket expression.
fn ere_special(b: u8) -> bool {
    b".[]()*+?{}|^$\\".contains(&b)
}

/// The POSIX ERE translator, with oracles of its own: the pattern spelling out `subject`
/// literally matches exactly it, a bracket expression listing a set of bytes matches
/// exactly those (and its negation the others), and a pattern with no group, interval,
/// repetition or alternation that translates also compiles. First byte: flags.
pub fn ere(data: &[u8]) {
    let Some((&f, pat)) = data.split_first() else { return };
    let flags = ere::Flags { newline: f & 1 != 0 };
    let translated = ere::translate(pat, flags);
    // A small size bound: the regex crate's build of an unrolled interval, not our code,
    // would take most of the time (see `ere::compile_within`).
    let compiled = ere::compile_within(pat, flags, 1 << 20);
    if translated.is_err() {
        assert!(compiled.is_err());
    }
    if translated.is_ok() && !pat.iter().any(|b| b"(){}|*+?".contains(b)) {
        assert!(compiled.is_ok(), "{:?} -> {:?}: {:?}", pat, translated, compiled.err());
    }
    if let Ok(re) = &compiled {
        for s in [pat, b"", b"\n", b"abc\nxyz"] {
            let _ = re.is_match(s);
        }
    }
    // Literal oracle: `^` + each byte (escaped if special) + `$` matches the subject only.
    let subject = pat;
    let mut lit = vec![b'^'];
    for &b in subject {
        if ere_special(b) {
            lit.push(b'\\');
        }
        lit.push(b);
    }
    lit.push(b'$');
    let re = ere::compile(&lit, ere::Flags { newline: false })
        .unwrap_or_else(|e| panic!("literal pattern {lit:?} refused: {e}"));
    assert!(re.is_match(subject), "literal pattern {lit:?}");
    let mut longer = subject.to_vec();
    longer.push(b'x');
    assert!(!re.is_match(&longer), "literal pattern {lit:?} matches more");
    // Bracket oracle over the set of bytes in the pattern (the NUL byte aside: glibc's
    // regcomp takes a C string, so a NUL can never be inside a bracket).
    let mut set = [false; 256];
    for &b in subject {
        set[usize::from(b)] = b != 0;
    }
    if !set.iter().any(|&x| x) {
        return;
    }
    // `]` first, `[` and `-` last so that no `[:`, `[.`, `[=` or range forms.
    let mut body = Vec::new();
    if set[usize::from(b']')] {
        body.push(b']');
    }
    for b in 1..=255u8 {
        if set[usize::from(b)] && !b"]^[-".contains(&b) {
            body.push(b);
        }
    }
    if set[usize::from(b'^')] {
        body.push(b'^');
    }
    if set[usize::from(b'[')] {
        body.push(b'[');
    }
    if set[usize::from(b'-')] {
        body.push(b'-');
    }
    if body == b"^" {
        // `[^]` would open a negated list.
        body = b"\\^".to_vec();
        set[usize::from(b'\\')] = true;
    } else if body[0] == b'^' {
        // A `^` first negates: put it second (never the start of a range: `-` is last).
        body.swap(0, 1);
    }
    for negate in [false, true] {
        let mut p = b"^[".to_vec();
        if negate {
            p.push(b'^');
        }
        p.extend_from_slice(&body);
        p.extend_from_slice(b"]$");
        let re = ere::compile(&p, ere::Flags { newline: false })
            .unwrap_or_else(|e| panic!("bracket {p:?} refused: {e}"));
        for b in 0..=255u8 {
            let want = set[usize::from(b)] != negate;
            assert_eq!(re.is_match(&[b]), want, "bracket {p:?} on byte {b:#04x}");
        }
    }
}

/// Splits `data` into length-prefixed pieces: a byte `n`, then up to `n` bytes.
fn pieces(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some((&n, rest)) = data.split_first() {
        let n = usize::from(n).min(rest.len());
        out.push(&rest[..n]);
        data = &rest[n..];
    }
    out
}

/// An access-rules directory's contents, as s6-accessrules-cdb-from-fs and the fs backend
/// read them: the `env/` files (read as an envdir) and `exec` (clamped) of an allowing
/// rule. The rule compiled into a cdb value must decode to the same grant, or be refused
/// where s6 refuses it. Input: a flags byte (bit 0: deny instead of allow), the exec
/// contents, then name and contents pairs, each piece length-prefixed. With bit 1 set the
/// rest is a client's host name instead, and its `reversedns/` keys are checked.
pub fn access_fs(data: &[u8]) {
    let Some((&f, rest)) = data.split_first() else { return };
    if f & 2 != 0 {
        reversedns(rest);
        return;
    }
    if f & 1 != 0 {
        assert_eq!(cdb::decode(cdb::DENY).unwrap(), Lookup::Deny);
        return;
    }
    let p = pieces(rest);
    let Some((&exec, files)) = p.split_first() else { return };
    let exec = &exec[..exec.len().min(MAX_EXEC)];
    let mut env = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for pair in files.chunks(2) {
        let name = pair[0];
        // A file name: not empty, no `/` or NUL, not `.` or `..`, not seen before.
        if name.is_empty() || name.contains(&b'/') || name.contains(&0) || !seen.insert(name) {
            continue;
        }
        if !envdir::is_variable(name) {
            continue;
        }
        let contents = pair.get(1).copied().unwrap_or(b"");
        let value = envdir::value_of(contents, &envdir::Options::default());
        if let Some(v) = &value {
            assert!(!v.as_bytes().contains(&0));
        }
        env.push((OsString::from_vec(name.to_vec()), value));
    }
    let grant = Grant { env, exec: exec.to_vec() };
    let encoded_env = rules::encode_env(&grant.env);
    assert_eq!(rules::decode_env(&encoded_env).unwrap(), grant.env);
    let Ok(value) = cdb::encode_allow(&encoded_env, exec) else {
        assert!(encoded_env.len() > usize::from(u16::MAX));
        return;
    };
    let decoded = cdb::decode(&value);
    if encoded_env.len() <= MAX_ENV {
        assert_eq!(decoded.unwrap(), Lookup::Allow(grant.clone()));
        assert_eq!(cdb::encode(&Lookup::Allow(grant)).unwrap().unwrap(), value);
    } else {
        assert!(decoded.is_err());
    }
}

/// The keys a host name is looked up under: the name without its final dot, then each
/// suffix after a dot, then `reversedns/@`.
fn reversedns(name: &[u8]) {
    let Ok(keys) = rules::reversedns_keys(name) else {
        assert!(name.is_empty());
        return;
    };
    let base = name.strip_suffix(b".").unwrap_or(name);
    assert_eq!(keys.last().map(Vec::as_slice), Some(&b"reversedns/@"[..]));
    let mut at = 0;
    for k in &keys[..keys.len() - 1] {
        let suffix = k.strip_prefix(b"reversedns/").expect("prefix");
        assert_eq!(suffix, &base[at..]);
        at += suffix.iter().position(|&b| b == b'.').map_or(suffix.len(), |i| i + 1);
    }
    assert!(at >= base.len());
}

/// A rules cdb file: lookups, traversal and the structure check on arbitrary bytes must
/// answer or fail cleanly; a file that passes the check gives every key's first record,
/// and its records rebuilt with the writer make a file that passes too.
pub fn access_cdb(data: &[u8]) {
    let c = Cdb::from_bytes(data.to_vec());
    let records: Vec<_> = c.records().take(1000).collect();
    let verified = c.verify().is_ok();
    let rules = CdbRules::from_cdb(Cdb::from_bytes(data.to_vec()));
    for key in [&b"uid/0"[..], b"gid/0", b"uid/default", b"ip4/0.0.0.0_0", b"reversedns/@"] {
        let _ = c.find(key);
        let _ = rules.lookup(key);
    }
    for r in records.iter().take(20) {
        let Ok((k, d)) = r else { continue };
        let _ = (c.find(k), d.len());
        let _ = rules.lookup(k);
    }
    if verified && records.iter().all(Result::is_ok) && records.len() < 1000 {
        let mut w = Writer::new();
        for (k, d) in records.iter().flatten() {
            w.add(k, d).unwrap();
        }
        let rebuilt = Cdb::from_bytes(w.finish().unwrap());
        rebuilt.verify().unwrap();
        for (k, _) in records.iter().flatten() {
            let first = records.iter().flatten().find(|(k2, _)| k2 == k).map(|(_, d)| *d);
            assert_eq!(rebuilt.find(k).unwrap(), first);
        }
    }
}

/// The unixmessage framing decoder, fed the input in chunks (first byte: chunk-size
/// seed): it must produce the same messages as a one-shot reading of the whole stream,
/// and stop with EPROTO exactly where a header is out of bounds. (Memory per input is
/// bounded by libFuzzer's `-malloc_limit_mb`, see fuzz/README.md.)
pub fn unixmessage(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else { return };
    // Reference: one pass over the whole stream.
    let mut want = Vec::new();
    let mut bad = false;
    let mut at = 0;
    while stream.len() - at >= HEADER_LEN {
        let (len, nfds) = fdpass::unpack_header(stream[at..at + HEADER_LEN].try_into().unwrap());
        if len > MAX_SIZE || nfds > 0 {
            bad = true;
            break;
        }
        if stream.len() - at - HEADER_LEN < len {
            break;
        }
        want.push(&stream[at + HEADER_LEN..at + HEADER_LEN + len]);
        at += HEADER_LEN + len;
    }
    // The receiver, fed in chunks of 1 to 64 bytes chosen by the seed.
    let mut r = Receiver::new(false);
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut failed = false;
    let mut pos = 0;
    let mut step = u32::from(seed) | 1;
    'feed: while pos < stream.len() {
        step = step.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let n = 1 + (step >> 16) as usize % 64;
        let chunk = &stream[pos..(pos + n).min(stream.len())];
        let took = r.feed(chunk);
        assert!(took > 0, "the buffer filled up without a message");
        pos += took;
        loop {
            match r.next_buffered() {
                Ok(Some(m)) => {
                    assert!(m.fds.is_empty());
                    got.push(m.data);
                }
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(e.raw_os_error(), Some(libc::EPROTO));
                    failed = true;
                    break 'feed;
                }
            }
        }
    }
    assert_eq!(got, want);
    assert_eq!(failed, bad);
    // Headers pack back to their bytes.
    for m in &want {
        let h = fdpass::pack_header(m.len(), 0);
        assert_eq!(fdpass::unpack_header(&h), (m.len(), 0));
    }
    let _ = MAX_FDS;
}

/// An envdir file's contents under every reading mode (first byte: mode bits and the
/// NUL replacement).
pub fn envdir(data: &[u8]) {
    let Some((&f, contents)) = data.split_first() else { return };
    let nullis = if f >> 3 == 0 { b'\n' } else { f };
    let opts = envdir::Options {
        verbatim: f & 1 != 0,
        nochomp: f & 2 != 0,
        noclamp: f & 4 != 0,
        nullis,
        regular_only: false,
    };
    let _ = envdir::is_variable(contents);
    let Some(v) = envdir::value_of(contents, &opts) else {
        assert!(contents.is_empty());
        return;
    };
    let v = v.into_vec();
    assert!(!v.contains(&0));
    assert!(v.len() <= contents.len());
    if !opts.noclamp {
        assert!(v.len() <= envdir::CLAMP);
    }
    if !opts.verbatim {
        // The first line only, without its newline (a newline in the value is a NUL's).
        let line_end = contents.iter().position(|&b| b == b'\n').unwrap_or(contents.len());
        assert!(v.len() <= line_end);
        if !opts.nochomp {
            assert!(!matches!(v.last(), Some(b' ' | b'\t' | b'\r')) || nullis == *v.last().unwrap());
        }
    }
}

/// Instants that a zone's rules are checked at: edges of every range the code handles,
/// plus those the input carries after its payload.
fn instants(extra: &[u8]) -> Vec<i64> {
    let mut ts = vec![
        i64::MIN,
        i64::MIN + 1,
        -67_768_040_609_740_800, // year -2^31 + 1900
        -2_208_988_800,
        -1,
        0,
        78_796_800,
        1_483_228_800,
        1_795_480_194,
        2_147_483_647,
        4_102_444_800,
        67_767_976_233_532_799, // the last second of year 2^31 - 1 + 1900
        i64::MAX - 1,
        i64::MAX,
    ];
    ts.extend(extra.chunks_exact(8).take(16).map(|c| i64::from_be_bytes(c.try_into().unwrap())));
    ts
}

fn check_zone(z: &Zone, ts: &[i64]) {
    for &t in ts {
        for tm in [z.local(t), z.gmt(t)].into_iter().flatten() {
            assert!((1..=12).contains(&tm.mon) && (1..=31).contains(&tm.mday));
            assert!(tm.hour < 24 && tm.min < 60);
        }
    }
}

/// TZif zone files: parsed as glibc reads them, then applied at many instants; the same
/// bytes also serve as the `posixrules` file of a TZ string naming DST without rules.
pub fn tzif(data: &[u8]) {
    let ts = instants(&[]);
    if let Some(z) = Zone::from_tzif(data, data.len() as u64) {
        check_zone(&z, &ts);
    }
    // What fstat reports can differ from what was read (a FIFO says 0).
    let _ = Zone::from_tzif(data, 0);
    let _ = Zone::from_tzif(data, u64::MAX);
    for tz in [&b"EST5EDT"[..], b"<+03>-3<+04>-4", b"CET-1CEST"] {
        check_zone(&Zone::from_tz_string(tz, Some(data)), &ts);
    }
}

/// POSIX TZ strings: the string up to its first NUL, then instants (8 bytes each) to
/// apply it at, besides the fixed ones.
pub fn tz_string(data: &[u8]) {
    let (tz, extra) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    check_zone(&Zone::from_tz_string(tz, None), &instants(extra));
}

/// TAI64N labels: a label parses exactly when it is `@` and 24 hex digits, prints back
/// as the same digits in lower case, and s6-tai64nlocal's line conversion (GMT) either
/// replaces it with a date or leaves the line as it was.
pub fn tai64n(data: &[u8]) {
    let parsed = Tain::parse_label(data);
    let well_formed = data.len() >= 25 && data[0] == b'@' && data[1..25].iter().all(u8::is_ascii_hexdigit);
    assert_eq!(parsed.is_some(), well_formed);
    if let Some(t) = parsed {
        assert_eq!(t.label_bytes()[..], data[..25].to_ascii_lowercase()[..]);
        assert_eq!(Tain::unpack(&t.pack()), t);
        let _ = t.utc();
        let _ = t.to_unix();
    }
    let mut clock = Clock::new(false);
    let mut stamp = [0u8; MAX_LEN];
    for line in data.split(|&b| b == b'\n') {
        for terminated in [false, true] {
            let mut out = Vec::new();
            s6rs_log::cmd::tai64nlocal::convert(&mut clock, &mut stamp, line, terminated, &mut out);
            assert_eq!(out.last() == Some(&b'\n'), terminated);
            let body = &out[..out.len() - usize::from(terminated)];
            assert!(body == line || (line.len() >= 25 && body.ends_with(&line[25..])), "{line:?} -> {out:?}");
        }
    }
}

/// s6-sudod's request decoder (`sudo::protocol::decode_request`); the first byte gives the
/// fd count (0 to 4). A request that decodes packs back to exactly its bytes and carries
/// only what the server may use; a refusal is the first broken rule in upstream's order,
/// as an independent reading of the header finds it. A decoded request's first argument
/// is then tried as the policy regex against the others (no panic, and a compiled policy
/// accepts an argument equal to a literal pattern).
pub fn sudo_request(data: &[u8]) {
    let Some((&f, payload)) = data.split_first() else { return };
    let nfds = usize::from(f % 5);
    let be = |i: usize| u64::from(u32::from_be_bytes(payload[i..i + 4].try_into().unwrap()));
    let header_error = if nfds != NFDS {
        Some(DecodeError::Fds(nfds))
    } else if payload.len() < FIXED_LEN {
        Some(DecodeError::Short)
    } else if !payload.starts_with(CLIENT_BANNER) {
        Some(DecodeError::Banner)
    } else if 31 + be(23) + be(27) != payload.len() as u64 {
        Some(DecodeError::Lengths)
    } else if be(15) > u64::from(MAX_COUNT) || be(19) > u64::from(MAX_COUNT) {
        Some(DecodeError::TooMany)
    } else {
        None
    };
    match sudo_protocol::decode_request(payload, nfds) {
        Ok(req) => {
            assert_eq!(header_error, None);
            assert_eq!((req.args.len() as u64, req.env.len() as u64), (be(15), be(19)));
            assert!(req.env.iter().all(|e| e.contains(&b'=')));
            assert!(req.args.iter().chain(&req.env).all(|s| !s.contains(&0)));
            assert_eq!(sudo_protocol::encode_request(&req.args, Some(&req.env)), payload);
            if let Some((pat, rest)) = req.args.split_first() {
                if let Ok(p) = Policy::from_values(Some(pat), Some(b"100")) {
                    let _ = p.check(rest);
                    if pat.iter().all(|b| b.is_ascii_alphanumeric()) {
                        assert_eq!(p.check(&[pat]), Ok(()));
                    }
                }
            }
        }
        Err(e) => {
            match header_error {
                Some(h) => assert_eq!(e, h),
                None => assert!(
                    matches!(e, DecodeError::Args | DecodeError::Env | DecodeError::EnvEntry(_)),
                    "{e:?}"
                ),
            }
            assert_eq!(e.reply().is_some(), header_error.is_none());
        }
    }
}

/// The fd-holder request decoder (`s6rs_fdholder::protocol`), as the daemon runs it: the
/// first byte is the number of fds that came with the message, the rest its payload. A
/// request that decodes encodes back to the same payload and fd count; whatever the bytes,
/// the reply decoders the clients use neither panic nor accept inconsistent counts.
pub fn fdholder_request(data: &[u8]) {
    let Some((&nfds, payload)) = data.split_first() else { return };
    let nfds = usize::from(nfds);
    if let Ok(req) = fdh::decode_request(payload, nfds) {
        let (bytes, n) = req.encode().expect("a decoded request encodes");
        assert_eq!((bytes.as_slice(), n), (payload, nfds), "{req:?}");
        if let Request::SetDumpData { entries } = &req {
            assert!(!entries.is_empty() && entries.len() <= fdh::CHUNK);
        }
    }
    if let Ok(Ok(ids)) = fdh::decode_list(payload, nfds) {
        let again = fdh::encode_list(ids.iter().copied());
        assert_eq!(again.as_slice(), payload);
    }
    if let Ok(Ok(total)) = fdh::decode_getdump_head(payload, nfds) {
        assert_eq!(fdh::encode_getdump_head(total).as_slice(), payload);
    }
    let _ = fdh::decode_status(payload, nfds, nfds.min(1));
    if let Ok(entries) = fdh::decode_entries(payload, nfds) {
        assert_eq!(entries.len(), nfds);
        assert_eq!(fdh::encode_dump_chunk(&entries), payload);
    }
}
