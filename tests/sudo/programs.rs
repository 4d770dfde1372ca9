//! Our s6-sudo against our s6-sudod behind our super-server: fds, environment, exit codes,
//! the server options, the timeouts and client hang-ups.

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixListener;

use super::*;

const OURS: Impl = Impl::Ours;

fn ours(t: &TempDir, opts: &[&str], sargv: &[&str], env: &[(&str, &str)]) -> Server {
    server(t, OURS, OURS, opts, sargv, env)
}

#[test]
fn the_three_client_fds_reach_the_program() {
    let t = TempDir::new("sudo-fds");
    let mut s = ours(&t, &[], &["sh", "-c", "read l; echo \"out:$l\"; echo \"err:$l\" >&2"], &[]);
    let o = client(&sudo(OURS, &[], &s.path, &[]), &[], b"hello\n");
    assert_eq!(parts(&o), (Some(0), "out:hello\n".into(), "err:hello\n".into()));
    expect_end(&mut s, "exitcode 0");
    // They are the client's very files, not copies through a relay.
    let t2 = TempDir::new("sudo-fds2");
    let probe = "for f in 0 1 2; do readlink /proc/$$/fd/$f; done";
    let srv = ours(&t2, &[], &["sh", "-c", probe], &[]);
    let f = t.join("out");
    let mut c = Command::new(bin("s6-sudo"));
    c.arg(&srv.path).env_clear().env(PATH.0, PATH.1);
    c.stdin(Stdio::null()).stdout(std::fs::File::create(&f).unwrap()).stderr(Stdio::null());
    let mut tree = Tree::new();
    let cpid = tree.spawn(c);
    assert_eq!(tree.wait_exit(cpid, T).expect("client never exited").code(), Some(0));
    let s2 = std::fs::read_to_string(&f).unwrap();
    let lines: Vec<&str> = s2.lines().collect();
    assert_eq!(lines[0], "/dev/null", "{s2}");
    assert!(lines[1].ends_with("/out"), "{s2}");
    assert_eq!(lines[2], "/dev/null", "{s2}");
}

#[test]
fn arguments_are_appended_and_an_empty_command_is_refused() {
    let t = TempDir::new("sudo-args");
    let mut s = ours(&t, &[], &["printf", "[%s]"], &[]);
    let o = client(&sudo(OURS, &[], &s.path, &["a", "b c", ""]), &[], b"");
    assert_eq!(parts(&o), (Some(0), "[a][b c][]".into(), String::new()));
    expect_end(&mut s, "exitcode 0");

    let t = TempDir::new("sudo-empty");
    let mut s = ours(&t, &[], &[], &[]);
    let o = client(&sudo(OURS, &[], &s.path, &[]), &[], b"");
    let (code, _, err) = parts(&o);
    assert_eq!(code, Some(111));
    assert_eq!(err, "s6-sudoc: fatal: unable to get confirmation from server: Broken pipe\n");
    s.expect("s6-sudod: fatal: client and server args both empty");
    expect_end(&mut s, "exitcode 100");
    // With no server arguments, the client's are the whole command.
    let o = client(&sudo(OURS, &[], &s.path, &["echo", "hi"]), &[], b"");
    assert_eq!(parts(&o), (Some(0), "hi\n".into(), String::new()));
}

#[test]
fn client_variables_pass_only_where_the_server_declares_them_empty() {
    let t = TempDir::new("sudo-env");
    let show = "echo \"A=${A-unset} B=${B-unset} C=${C-unset} D=${D-unset}\"";
    let s = ours(&t, &[], &["sh", "-c", show], &[("A", ""), ("B", "server"), ("D", "")]);
    let env = [("A", "client"), ("B", "client"), ("C", "client")];
    let o = client(&sudo(OURS, &[], &s.path, &[]), &env, b"");
    assert_eq!(parts(&o), (Some(0), "A=client B=server C=unset D=\n".into(), String::new()));
    // -e sends nothing: the declared names stay empty.
    let o = client(&sudo(OURS, &["-e"], &s.path, &[]), &env, b"");
    assert_eq!(parts(&o), (Some(0), "A= B=server C=unset D=\n".into(), String::new()));
}

#[test]
fn exit_codes_and_death_by_signal() {
    let t = TempDir::new("sudo-exit");
    let mut s =
        ours(&t, &[], &["sh", "-c", "case $1 in TERM|KILL) kill -$1 $$;; *) exit $1;; esac", "x"], &[]);
    for (arg, want) in
        [("0", 0), ("7", 7), ("127", 127), ("128", 128), ("200", 128), ("TERM", 143), ("KILL", 137)]
    {
        let o = client(&sudo(OURS, &[], &s.path, &[arg]), &[], b"");
        assert_eq!(parts(&o), (Some(want), String::new(), String::new()), "{arg}");
        // s6-sudod itself exits 0 once it has sent the status.
        expect_end(&mut s, "exitcode 0");
    }
}

#[test]
fn a_program_that_cannot_start_is_reported_to_the_client() {
    let t = TempDir::new("sudo-noexec");
    let mut s = ours(&t, &[], &["/nonexistent/prog"], &[]);
    let o = client(&sudo(OURS, &[], &s.path, &[]), &[], b"");
    let (code, _, err) = parts(&o);
    assert_eq!(code, Some(111));
    assert_eq!(
        err,
        "s6-sudoc: fatal: unable to start privileged program: server answered: : No such file or directory\n"
    );
    s.expect("s6-sudod: fatal: unable to spawn /nonexistent/prog: No such file or directory");
    expect_end(&mut s, "exitcode 111");
}

#[test]
fn server_options_0_1_2() {
    let t = TempDir::new("sudo-012");
    let prog = ["sh", "-c", "echo \"in:$(cat)\"; echo out; echo err >&2"];
    let mut s = ours(&t, &["-0"], &prog, &[]);
    let o = client(&sudo(OURS, &[], &s.path, &[]), &[], b"data");
    assert_eq!(parts(&o), (Some(0), "in:\nout\n".into(), "err\n".into()));
    drop(s);
    let t = TempDir::new("sudo-012b");
    s = ours(&t, &["-1"], &prog, &[]);
    let o = client(&sudo(OURS, &[], &s.path, &[]), &[], b"data");
    assert_eq!(parts(&o), (Some(0), String::new(), "err\n".into()));
    drop(s);
    let t = TempDir::new("sudo-012c");
    s = ours(&t, &["-2"], &prog, &[]);
    let o = client(&sudo(OURS, &[], &s.path, &[]), &[], b"data");
    assert_eq!(parts(&o), (Some(0), "in:data\nout\n".into(), String::new()));
    // The program's stderr is the server's.
    s.expect("err");
}

#[test]
fn detach_keeps_the_program_running_after_the_client_goes() {
    let t = TempDir::new("sudo-d");
    let pidfile = t.join("pid");
    let survived = t.join("survived");
    let body = format!(
        "echo out; echo err >&2; echo $$ > {p}.tmp; mv {p}.tmp {p}; sleep 1; touch {s}",
        p = pidfile.display(),
        s = survived.display()
    );
    let mut s = ours(&t, &["-d"], &["sh", "-c", &body], &[]);
    // -d implies -0 -1 -2: the client sees nothing of the program.
    let mut c = Command::new(bin("s6-sudo"));
    c.arg(&s.path).env_clear().env(PATH.0, PATH.1);
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut tree = Tree::new();
    let cpid = tree.spawn(c);
    assert!(wait_until(T, || pidfile.exists()), "program never started");
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    tree.adopt(pid);
    tree.signal(cpid, libc::SIGKILL);
    s.expect("err");
    // The program runs to its end, and s6-sudod waits for it before exiting 0.
    expect_end(&mut s, "exitcode 0");
    assert!(survived.exists(), "the detached program was stopped");
}

/// Starts our s6-sudo on `s` running a program that prints its pid first; returns the
/// tree holding the client, the client's pid and the program's pid.
fn start_holding(s: &Server, opts: &[&str]) -> (Tree, u32, i32) {
    let mut c = Command::new(bin("s6-sudo"));
    c.args(opts).arg(&s.path).env_clear().env(PATH.0, PATH.1);
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn client");
    let out = child.stdout.take().unwrap();
    let mut tree = Tree::new();
    let cpid = tree.add(child);
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).expect("read pid");
    let pid: i32 = line.trim().parse().unwrap_or_else(|_| panic!("bad pid line {line:?}"));
    tree.adopt(pid);
    (tree, cpid, pid)
}

#[test]
fn client_hang_up_kills_the_program_and_sends_no_status() {
    let t = TempDir::new("sudo-hup");
    let mut s = ours(&t, &["--audit"], &["sh", "-c", "echo $$; exec sleep 100"], &[]);
    let (tree, cpid, pid) = start_holding(&s, &[]);
    assert!(alive(pid));
    tree.signal(cpid, libc::SIGKILL);
    assert!(wait_gone(pid), "the program outlived its client");
    s.expect(&format!("s6-sudod: info: uid 0 gid 0 pid {pid}: client hung up: sent SIGTERM and SIGCONT"));
    // The program may print before s6-sudod has confirmed; a client gone by then makes
    // the confirmation fail (111) rather than the wait (1). Both stop the program.
    let end = s.expect_line("the end", |l| l.contains(": info: end pid "));
    assert!(end.ends_with(" exitcode 1") || end.ends_with(" exitcode 111"), "{end}");
}

#[test]
fn client_timeout_run_gives_up_and_the_program_is_stopped() {
    let t = TempDir::new("sudo-T");
    let mut s = ours(&t, &[], &["sh", "-c", "echo $$; exec sleep 100"], &[]);
    let (mut tree, cpid, pid) = start_holding(&s, &["-T", "300"]);
    let o = finish(tree.take(cpid).unwrap());
    assert_eq!(
        parts(&o),
        (
            Some(111),
            String::new(),
            "s6-sudoc: fatal: unable to get exit status from server: Connection timed out\n".into()
        )
    );
    assert!(wait_gone(pid), "the program outlived its client");
    expect_end(&mut s, "exitcode 1");
}

#[test]
fn client_timeout_conn_covers_banner_and_confirmation() {
    let t = TempDir::new("sudo-t");
    // A server that accepts and says nothing.
    let path = t.join("mute");
    let l = UnixListener::bind(&path).unwrap();
    let o = client(&sudo(OURS, &["-t", "300"], &path, &["x"]), &[], b"");
    let want = "s6-sudoc: fatal: unable to connect to the s6-sudod server - check that you have appropriate permissions\n";
    assert_eq!(parts(&o), (Some(111), String::new(), want.into()));
    drop(l);
    // One that sends the banner, reads the request and never confirms.
    let path = t.join("slow");
    let l = UnixListener::bind(&path).unwrap();
    let h = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        c.write_all(b"s6-sudo b v1.0\n").unwrap();
        c.set_read_timeout(Some(T)).unwrap();
        let mut v = Vec::new();
        let _ = c.read_to_end(&mut v);
        v.len()
    });
    let o = client(&sudo(OURS, &["-t", "300"], &path, &["x"]), &[], b"");
    let want = "s6-sudoc: fatal: unable to get confirmation from server: Connection timed out\n";
    assert_eq!(parts(&o), (Some(111), String::new(), want.into()));
    assert!(h.join().unwrap() > 31, "the request never arrived");
}

#[test]
fn server_timeout_gives_up_on_a_silent_client() {
    let t = TempDir::new("sudo-st");
    let mark = marker(&t);
    let mut s = ours(&t, &["-t", "300"], &marking(&mark).iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    let c = raw(&s);
    s.expect("s6-sudod: fatal: unable to read message from client: Connection timed out");
    expect_end(&mut s, "exitcode 111");
    assert!(rest(c).is_empty());
    assert!(!mark.exists());
}

#[test]
fn wrong_server_banner_and_connection_errors() {
    let t = TempDir::new("sudo-banner");
    let path = t.join("liar");
    let l = UnixListener::bind(&path).unwrap();
    let h = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        c.write_all(b"s6-sudo x v1.0\n").unwrap();
        let mut v = Vec::new();
        let _ = c.read_to_end(&mut v);
    });
    let o = client(&sudo(OURS, &[], &path, &["x"]), &[], b"");
    let want = "s6-sudoc: fatal: wrong banner - check that you are connecting to a s6-sudod server\n";
    assert_eq!(parts(&o), (Some(100), String::new(), want.into()));
    h.join().unwrap();
    // Connection errors are s6-ipcclient's, as with upstream's exec chain.
    let o = client(&sudo(OURS, &[], &t.join("none"), &["x"]), &[], b"");
    let want = format!(
        "s6-ipcclient: fatal: unable to connect to {}: No such file or directory\n",
        t.join("none").display()
    );
    assert_eq!(parts(&o), (Some(111), String::new(), want));
}

#[test]
fn usage_errors() {
    for args in [&[][..], &["-t", "x", "sock"], &["-Z", "sock"]] {
        let o = client(&sudo_args("s6-sudo", args), &[], b"");
        let (code, _, err) = parts(&o);
        assert_eq!(code, Some(100), "{args:?}");
        assert_eq!(err, "s6-sudo: usage: s6-sudo [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] [ -e ] [ -t timeout ] [ -T timeoutrun ] path [ args... ]\n");
    }
    let o = client(&sudo_args("s6-sudoc", &["-T", "x"]), &[], b"");
    assert_eq!(
        parts(&o).2,
        "s6-sudoc: usage: s6-sudoc [ -e ] [ -t timeoutconn ] [ -T timeoutrun ] [ args... ]\n"
    );
    let o = client(&sudo_args("s6-sudod", &["-x"]), &[], b"");
    assert_eq!(parts(&o).2, "s6-sudod: usage: s6-sudod [ -0 ] [ -1 ] [ -2 ] [ -d ] [ -t timeout ] args...\n");
    // s6-sudoc needs its socket on 6 and 7.
    let o = client(&sudo_args("s6-sudoc", &["x"]), &[], b"");
    assert_eq!(
        parts(&o),
        (
            Some(111),
            String::new(),
            "s6-sudoc: fatal: unable to make socket non-blocking: Bad file descriptor\n".into()
        )
    );
}

fn sudo_args(name: &str, args: &[&str]) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![bin(name).into()];
    v.extend(args.iter().map(OsString::from));
    v
}

#[test]
fn verbose_says_connected_as_the_chain_does() {
    let t = TempDir::new("sudo-v");
    let s = ours(&t, &[], &["true"], &[]);
    let o = client(&sudo(OURS, &["-v"], &s.path, &[]), &[], b"");
    let want = format!("s6-ipcclient: info: s6-ipcclient: connected to {}\n", s.path.display());
    assert_eq!(parts(&o), (Some(0), String::new(), want));
    let o = client(&sudo(OURS, &["-q"], &s.path, &[]), &[], b"");
    assert_eq!(parts(&o), (Some(0), String::new(), String::new()));
}

#[test]
fn concurrent_clients_each_get_their_own_run() {
    let t = TempDir::new("sudo-many");
    let mut s = ours(&t, &[], &["sh", "-c", "read l; echo \"$l $1\"; exit $1", "x"], &[]);
    let path = s.path.clone();
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let path = path.clone();
            std::thread::spawn(move || {
                let n = i.to_string();
                let o = client(&sudo(OURS, &[], &path, &[&n]), &[], format!("client{i}\n").as_bytes());
                (i, parts(&o))
            })
        })
        .collect();
    for h in handles {
        let (i, got) = h.join().unwrap();
        assert_eq!(got, (Some(i), format!("client{i} {i}\n"), String::new()));
    }
    for _ in 0..16 {
        expect_end(&mut s, "exitcode 0");
    }
    s.expect("s6-ipcserverd: info: status: 0/40");
}
