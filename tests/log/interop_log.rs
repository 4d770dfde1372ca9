//! Interop with Debian's s6 2.11: the same scripts and input give the same logged bytes;
//! each implementation recovers the other's logdirs; the TAI64N filters, ucspilogd and
//! s6-socklog write the same output.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use s6rs_sys::tai::{Tain, TAI_MAGIC};

use super::{archives, arg, content, filter, filter_env, lines, mode, prog, Running};
use crate::support::{real, run_with_input, wait_until, TempDir, Tree};

const T: Duration = Duration::from_secs(30);

/// Runs s6-log (real or ours) in `cwd` on `input` to completion; returns stdout.
fn run_log(real_s6: bool, args: &[&str], input: &[u8], cwd: &std::path::Path) -> Vec<u8> {
    let mut cmd = Command::new(prog(real_s6, "s6-log"));
    cmd.args(args).current_dir(cwd);
    let out = run_with_input(cmd, input, T);
    assert!(
        out.status.success(),
        "s6-log {args:?} (real: {real_s6}) failed: {:?}, {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Mixed input: levels to select on, a NUL-terminated line, lines longer than -l.
fn mixed_input() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..3000 {
        let level = ["INFO", "ERROR", "WARN", "DEBUG", "INFO"][i % 5];
        v.extend(format!("ts={i:05} level={level} component=x msg=\"something happened\"\n").as_bytes());
        if i % 500 == 0 {
            v.extend(b"nul-terminated\0");
            v.extend("L".repeat(130).as_bytes());
            v.push(b'\n');
        }
    }
    v
}

#[test]
fn same_script_same_logged_bytes() {
    let input = mixed_input();
    let mut results = Vec::new();
    for real_s6 in [true, false] {
        let t = TempDir::new(if real_s6 { "interop-real" } else { "interop-ours" });
        let script = [
            "-l",
            "100",
            "--",
            "s4096",
            "n100",
            "-",
            "+level=(ERROR|WARN)",
            "./alerts",
            "pPFX",
            "1",
            "p",
            "f",
            "-DEBUG",
            "./rest",
            "-",
            "+^nul",
            "^30",
            "=status",
            "f",
            "E20",
            "2",
            "-",
            "+.",
            "./all",
        ];
        let out = run_log(real_s6, &script, &input, t.path());
        let dirs = ["alerts", "rest", "all"].map(|d| content(&t.join(d)));
        for d in ["alerts", "rest", "all"] {
            let dir = t.join(d);
            assert_eq!(mode(&dir) & 0o777, 0o700);
            assert_eq!(mode(&dir.join("current")), 0o744, "real: {real_s6}");
            for a in archives(&dir) {
                assert!(a.ends_with(".s"));
                assert_eq!(mode(&dir.join(&a)), 0o744);
            }
        }
        let status = std::fs::read(t.join("status")).unwrap();
        results.push((out, dirs, status));
    }
    let (real_r, ours) = (&results[0], &results[1]);
    assert!(!real_r.0.is_empty());
    assert_eq!(real_r.0, ours.0, "stdout differs");
    for (i, name) in ["alerts", "rest", "all"].iter().enumerate() {
        assert!(!real_r.1[i].is_empty());
        assert_eq!(real_r.1[i], ours.1[i], "logdir {name} differs");
    }
    assert_eq!(real_r.2, ours.2, "status file differs");
}

#[test]
fn stamps_look_alike() {
    // Same shapes for t and T; real s6-tai64nlocal reads both our and real t labels.
    for real_s6 in [true, false] {
        let t = TempDir::new("interop-stamps");
        let out = run_log(real_s6, &["t", "1", "T", "1"], b"x\n", t.path());
        let out = String::from_utf8(out).unwrap();
        let l: Vec<&str> = out.lines().collect();
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].len(), &l[0][25..]), (27, " x"));
        assert_eq!((l[1].len(), &l[1][29..]), (32, "  x"));
        let local = filter(&real("s6-tai64nlocal"), &[], &[], format!("{}\n", l[0]).as_bytes());
        assert_eq!(&local[..11], &l[1].as_bytes()[..11], "same day");
    }
}

#[test]
fn each_recovers_the_others_logdir() {
    for (first, second) in [(true, false), (false, true)] {
        let t = TempDir::new("interop-recover");
        let d = t.join("d");
        let da = arg(t.path(), "d");
        let a = lines("a", 40, 60);
        let b = lines("b", 40, 60);
        // Killed mid-run: the other implementation archives current as .u.
        let mut l = Running::start(&prog(first, "s6-log"), &["-d3", &da], t.path(), true);
        l.write(&a);
        assert!(wait_until(T, || std::fs::metadata(d.join("current")).map(|m| m.len()).unwrap_or(0)
            == a.len() as u64));
        l.signal(libc::SIGKILL);
        let _ = l.wait(T);
        let mut l = Running::start(&prog(second, "s6-log"), &["-d3", &da], t.path(), true);
        let names = archives(&d);
        assert_eq!(names.len(), 1, "first real: {first}");
        assert!(names[0].ends_with(".u"));
        l.write(&b);
        assert_eq!(l.finish(T).0, 0);
        // Stopped cleanly: the first implementation appends to current.
        let mut l = Running::start(&prog(first, "s6-log"), &["-d3", &da], t.path(), true);
        l.write(&a);
        assert_eq!(l.finish(T).0, 0);
        assert_eq!(archives(&d).len(), 1);
        let mut expect = a.clone();
        expect.extend(&b);
        expect.extend(&a);
        assert_eq!(content(&d), expect);
    }
}

/// s6-tai64nlocal input: malformed and edge labels, then instants where zones are easiest
/// to get wrong.
fn tai64nlocal_input() -> Vec<u8> {
    let mut v = b"@400000006b04daa70970034c hello\n@4000000058684700075bcd15 x\n@40000000586846a400000000 leap\n\
@000000000000000000000000 zero\nplain\n@400000006b04daa70970034c\n@4000000000000000 short\n@400000006b04daa70970034cnospace\n\
@3fffffffffffffff00000000 early\n@7fffffffffffffff00000000 max\n@4000000000000005 epoch-ish\n"
        .to_vec();
    // Malformed labels: too short (by one digit, in either half), non-hex digits in either
    // half, upper and mixed case, `@` alone or doubled, a sign, a space inside, a label
    // with nothing after it or glued to the text, an empty line.
    v.extend(
        b"@\n@ x\n@@400000006b04daa70970034c x\n@400000006b04daa\n@400000006b04daa70970034 short\n\
@400000006b04da70970034c short-sec\n@400000006b04daag0970034c hex-sec\n@400000006b04daa70970034g hex-nano\n\
@400000006B04DAA70970034C upper\n@400000006b04DAA70970034c mixed\n@400000006b04daa70970034C\n\
@-400000006b04daa70970034 minus\n@+400000006b04daa70970034 plus\n@400000006b04da a70970034c space\n\
@400000006b04daa7ffffffffglued\n\n",
    );
    let mut line = |t: Tain, what: &str| v.extend(format!("{} {what}\n", t.label()).as_bytes());
    // Nanoseconds of 10^9 and more (invalid TAI64N, but 8 hex digits hold them) at several
    // seconds: now-ish, a leap second, before the epoch, the far future.
    for sec in
        [TAI_MAGIC + 0x6500_0000, TAI_MAGIC + 1_483_228_836, TAI_MAGIC + 5, TAI_MAGIC + 10 + 27 + (1 << 40)]
    {
        for nano in [999_999_999, 1_000_000_000, 1_000_000_001, 1_999_999_999, 0x8000_0000, u32::MAX] {
            line(Tain { sec, nano }, "nano");
        }
    }
    // Around the leap seconds 1972-06-30 23:59:60 and 2016-12-31 23:59:60 (TAI seconds):
    // a "right/" zone shows second 60 itself, the others through skalibs' table.
    for tai in [78_796_810i64, 1_483_228_836] {
        for d in [-1, 0, 1] {
            line(Tain { sec: TAI_MAGIC + (tai + d) as u64, nano: 999_999_999 }, "leap");
        }
    }
    // DST changes (UTC) in Paris, New York, Lord Howe, Chatham and Sao Paulo, +-1 s.
    for unix in [
        1_711_846_800,
        1_729_990_800,
        1_710_054_000,
        1_730_613_600,
        1_554_562_800,
        1_570_289_400,
        1_554_559_200,
        1_569_679_200,
        1_541_300_400,
        1_550_368_800,
        436_330_000,
        436_340_000,
    ] {
        for d in [-1, 0, 1] {
            line(Tain::from_unix((unix + d) as u64, 5), "dst");
        }
    }
    // Zones' footer rules in 2100 and 2400; year 8.9 million, where glibc's 32-bit day
    // count in those rules wraps; late in year 2^31 - 1 in every zone (skalibs' `int`
    // year wraps after it, and real s6 then overflows its buffer and aborts); past the
    // last year glibc represents, where the label stays.
    for unix in [
        4_118_000_000,
        13_586_745_600,
        1 << 48,
        67_767_976_233_532_799 - 15 * 3600,
        67_768_036_191_676_800 + 2 * 86_400,
    ] {
        line(Tain::from_unix(unix, 0), "far");
    }
    v.extend(b"@400000006b04daa70970034c unterminated");
    v
}

#[test]
fn tai64nlocal_same_output() {
    let input = tai64nlocal_input();
    let zones: &[(Option<&str>, Option<&str>)] = &[
        (None, None),
        (Some(""), None),
        (Some("UTC"), None),
        (Some("Europe/Paris"), None),
        (Some("America/New_York"), None),
        (Some("Asia/Kolkata"), None),
        (Some("Australia/Lord_Howe"), None),
        (Some("Pacific/Chatham"), None),
        (Some("America/Sao_Paulo"), None),
        (Some("right/Europe/Paris"), None),
        (Some("right/UTC"), None),
        (Some(":right/America/New_York"), None),
        (Some("EST5EDT,M3.2.0,M11.1.0"), None),
        (Some("<+0330>-3:30"), None),
        (Some("CET-1CEST,M3.5.0,M10.5.0/3"), None),
        (Some("AEST-10AEDT,M10.1.0,M4.1.0/3"), None),
        (Some("XYZ3ABC"), None),
        (Some("No/Such_Zone"), None),
        (Some("garbage"), None),
        (Some("Paris"), Some("/usr/share/zoneinfo/Europe")),
    ];
    assert!(Path::new("/usr/share/zoneinfo/right/UTC").exists(), "tzdata with right/ zones is missing");
    for &(tz, tzdir) in zones {
        let env = [("TZ", tz), ("TZDIR", tzdir)];
        for args in [&[][..], &["-g"][..]] {
            let r = filter_env(&real("s6-tai64nlocal"), args, &env, &input);
            let o = filter_env(&prog(false, "s6-tai64nlocal"), args, &env, &input);
            assert_eq!(
                String::from_utf8_lossy(&o),
                String::from_utf8_lossy(&r),
                "TZ={tz:?} TZDIR={tzdir:?} {args:?}"
            );
        }
    }
}

#[test]
fn tai64nlocal_same_output_at_end_of_input() {
    // The last line has no newline: s6-tai64nlocal converts it only when there is more
    // than the label, so a bare label stays as it is.
    let tails: &[&[u8]] = &[
        b"@",
        b"@400000006b04daa70970034c",
        b"@400000006b04daa70970034c ",
        b"@400000006b04daa70970034cx",
        b"@40000000650000003b9aca00",
        b"@40000000650000003b9aca00 end",
        b"@4000000065000000ffffffff end",
        b"@400000006B04DAA70970034C end",
        b"@400000006b04daa70970034",
        b"@400000006b04daa70970034g end",
    ];
    for tail in tails {
        for tz in ["UTC", "Europe/Paris"] {
            for args in [&[][..], &["-g"][..]] {
                let mut input = b"@400000006b04daa70970034c first\n".to_vec();
                input.extend(*tail);
                let env = [("TZ", Some(tz))];
                let r = filter_env(&real("s6-tai64nlocal"), args, &env, &input);
                let o = filter_env(&prog(false, "s6-tai64nlocal"), args, &env, &input);
                assert_eq!(
                    String::from_utf8_lossy(&o),
                    String::from_utf8_lossy(&r),
                    "tail {:?} TZ={tz} {args:?}",
                    String::from_utf8_lossy(tail)
                );
            }
        }
    }
}

#[test]
fn tai64n_labels_cross_parse() {
    let input = b"one\ntwo\nthree";
    for (stamper, reader) in [(false, true), (true, false)] {
        let stamped = filter(&prog(stamper, "s6-tai64n"), &[], &[], input);
        let local = filter(&prog(reader, "s6-tai64nlocal"), &["-g"], &[], &stamped);
        let local = String::from_utf8(local).unwrap();
        let l: Vec<&str> = local.lines().collect();
        assert_eq!(l.len(), 3, "{local}");
        for (line, word) in l.iter().zip(["one", "two", "three"]) {
            assert_eq!(line.len(), 29 + 1 + word.len(), "{line}");
            assert!(line.as_bytes()[..4].iter().all(u8::is_ascii_digit), "{line}");
            assert!(line.ends_with(&format!(" {word}")));
        }
    }
}

#[test]
fn ucspilogd_same_output() {
    let input = b"<12>a\n<192>b\n<88>c\n<32>d\n<200>e\n<7>f\n<1023>g\n<1024>h\n<86>hi\n<13>a\n<105>b\n<191>c\n<0>d\n\
<4294967296>e\n<x>f\n@400000006b06b9ac1bd32106 <14>g\n@400000006b06b9ac1bd3210 x\n\0<1>\0\n<14>nul\0<14>no nl";
    for args in [&[][..], &["FOO", "BAZ"][..], &["-D", "zz", "FOO", "Q"][..]] {
        let r = filter(&real("ucspilogd"), args, &[("FOO", "bar")], input);
        let o = filter(&prog(false, "ucspilogd"), args, &[("FOO", "bar")], input);
        assert_eq!(String::from_utf8_lossy(&o), String::from_utf8_lossy(&r), "{args:?}");
    }
}

#[test]
fn socklog_same_output() {
    let datagrams: Vec<Vec<u8>> = vec![
        b"<13>hello\0world\n\0".to_vec(),
        b"<86>x".to_vec(),
        vec![b'a'; 80],
        vec![b'b'; 81],
        vec![b'c'; 200],
        b"\n\n".to_vec(),
        b"<1".to_vec(),
        b"plain\n".to_vec(),
        b"<999999999999>x".to_vec(),
    ];
    let mut outputs = Vec::new();
    for real_s6 in [true, false] {
        let t = TempDir::new("interop-socklog");
        let sock = t.join("s");
        let outfile = t.join("out");
        let mut tree = Tree::new();
        let mut cmd = Command::new(prog(real_s6, "s6-socklog"));
        cmd.args(["-l", "80", "-x"]).arg(&sock).stdout(std::fs::File::create(&outfile).unwrap());
        let pid = tree.spawn(cmd);
        assert!(wait_until(T, || sock.exists()));
        let c = UnixDatagram::unbound().unwrap();
        for d in &datagrams {
            c.send_to(d, &sock).unwrap();
        }
        assert!(
            wait_until(T, || std::fs::read(&outfile).unwrap().iter().filter(|&&b| b == b'\n').count() == 9)
        );
        tree.signal(pid, libc::SIGTERM);
        assert_eq!(tree.wait_exit(pid, T).and_then(|s| s.code()), Some(0));
        outputs.push(std::fs::read(&outfile).unwrap());
    }
    assert_eq!(String::from_utf8_lossy(&outputs[1]), String::from_utf8_lossy(&outputs[0]));
}
