//! Our super-server tools with Debian's s6 2.11 in both directions: real clients against
//! our servers and ours against real servers, mixed socketbinder/ipcserverd chains, the same
//! handler environment and log lines, and the same sockets from both socketbinders.
//!
//! One difference is on purpose: 2.11 counts IPCCONNNUM including the connection itself
//! (the first client sees 1); 2.15, our target, counts the connections before it (0).

use std::process::Command;

use super::*;

/// Turns 2.11's IPCCONNNUM (1-based) into 2.15's.
fn connnum_215(env: &str) -> String {
    env.lines()
        .map(|l| match l.strip_prefix("IPCCONNNUM=").and_then(|n| n.parse::<u32>().ok()) {
            Some(n) => format!("IPCCONNNUM={}\n", n - 1),
            None => format!("{l}\n"),
        })
        .collect()
}

fn start(t: &TempDir, tag: &str, argv: impl FnOnce(&Path) -> Vec<OsString>) -> Server {
    let path = t.join(tag);
    Server::start(&path, &argv(&path))
}

/// What a client program prints after connecting with `client` to `path` and copying the
/// server's output.
fn via_client(client: Impl, path: &Path) -> String {
    let mut c = Command::new(client.path("s6-ipcclient"));
    c.arg(path).args(["sh", "-c", "cat <&6"]);
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn handler_environment_matches_real_s6_in_every_combination() {
    let t = TempDir::new("i-env");
    let expected = "PATH=/usr/bin:/bin\nS6RS_TEST=ipc\nPROTO=IPC\nIPCREMOTEEUID=0\nIPCREMOTEEGID=0\nIPCCONNNUM=0\nIPCREMOTEPATH=\n";
    let combos = [
        (Impl::Ours, Impl::Ours),
        (Impl::Ours, Impl::Real),
        (Impl::Real, Impl::Ours),
        (Impl::Real, Impl::Real),
    ];
    for (binder, daemon) in combos {
        // One server per client: a second client could arrive before the first handler is
        // reaped, and see a count of 1.
        for client in [Impl::Ours, Impl::Real] {
            let s = start(&t, &format!("{binder:?}-{daemon:?}-{client:?}"), |p| {
                let mut v: Vec<OsString> = vec![binder.path("s6-ipcserver-socketbinder").into(), p.into()];
                v.extend([daemon.path("s6-ipcserverd").into(), "-1".into(), "env".into()]);
                v
            });
            let env = via_client(client, &s.path);
            let env = if daemon == Impl::Real { connnum_215(&env) } else { env };
            assert_eq!(env, expected, "socketbinder {binder:?}, ipcserverd {daemon:?}, client {client:?}");
        }
    }
}

#[test]
fn no_lookup_environment_matches_real_s6() {
    let t = TempDir::new("i-envP");
    let envs: Vec<String> = [Impl::Ours, Impl::Real]
        .map(|imp| {
            let s = start(&t, &format!("{imp:?}"), |p| chain(imp, p, &["-P"], &["env"]));
            s.request()
        })
        .to_vec();
    assert_eq!(envs[0], envs[1]);
    assert!(envs[0].contains("IPCCONNNUM=\n") && !envs[0].contains("IPCREMOTEEUID"));
}

#[test]
fn client_environment_matches_real_s6_ipcclient() {
    let t = TempDir::new("i-cli");
    let s = start(&t, "sock", |p| chain(Impl::Real, p, &[], &["true"]));
    for args in [&[][..], &["-l", "given"], &["-p", "BOUND"]] {
        let outs = [Impl::Ours, Impl::Real].map(|imp| {
            let bound = t.join(&format!("bound-{imp:?}"));
            let _ = std::fs::remove_file(&bound);
            let mut c = Command::new(imp.path("s6-ipcclient"));
            let args: Vec<OsString> = args
                .iter()
                .map(|a| if *a == "BOUND" { bound.clone().into() } else { OsString::from(a) })
                .collect();
            c.args(&args).arg(&s.path).arg("env").env_clear().envs(BASE_ENV.iter().copied());
            let o = run(c, T);
            let out = String::from_utf8_lossy(&o.stdout).replace(&format!("bound-{imp:?}"), "bound");
            (o.status.code(), out, String::from_utf8_lossy(&o.stderr).into_owned())
        });
        assert_eq!(outs[0], outs[1], "s6-ipcclient {args:?}");
    }
}

#[test]
fn verbose_log_lines_match_real_s6() {
    let t = TempDir::new("i-log");
    let hold = ["sh", "-c", "echo $$; exec cat >/dev/null"];
    let logs = [Impl::Ours, Impl::Real].map(|imp| {
        let mut s = start(&t, &format!("{imp:?}"), |p| chain(imp, p, &["-v2", "-c", "5", "-C", "1"], &hold));
        let mut a = s.connect();
        let pid = read_line(&mut a);
        s.expect_line("allow", |l| l.contains(" allow "));
        // Over the per-uid limit: denied.
        assert_eq!(s.request(), "");
        s.expect_line("deny", |l| l.contains(" deny "));
        drop(a);
        s.expect_line("end", |l| l.contains(" end "));
        s.expect("s6-ipcserverd: info: status: 0/5");
        s.signal(libc::SIGTERM);
        assert_eq!(s.wait_exit(), Some(0));
        let lines = s.drain();
        lines
            .iter()
            .map(|l| l.replace(&format!("pid {pid} "), "pid PID "))
            // 2.11 appends a stale errno to the deny line; 2.15 would too. Ours does not.
            .map(|l| l.strip_suffix(": Success").map(String::from).unwrap_or(l))
            .collect::<Vec<_>>()
    });
    assert_eq!(logs[0], logs[1]);
    assert_eq!(
        logs[0],
        [
            "s6-ipcserverd: info: starting",
            "s6-ipcserverd: info: status: 0/5",
            "s6-ipcserverd: info: allow 0:0 pid PID count 1/1",
            "s6-ipcserverd: info: status: 1/5",
            "s6-ipcserverd: info: deny 0:0 count 1/1",
            "s6-ipcserverd: info: end pid PID uid 0 exitcode 0",
            "s6-ipcserverd: info: status: 0/5",
            "s6-ipcserverd: info: received SIGTERM, quitting",
            "s6-ipcserverd: info: exiting",
        ]
    );
}

#[test]
fn socketbinders_make_the_same_socket() {
    let t = TempDir::new("i-sb");
    // fd 0's flags; the socket's flags, type and state in /proc/net/unix; modes.
    let probe = "awk '/^flags:/ { print $2 }' /proc/$$/fdinfo/0; \
                 awk -v p=\"$0\" '$8 == p { print $4, $5, $6 }' /proc/net/unix; \
                 stat -c %a \"$0\" \"$0.lock\" 2>&1 | sed 's/.*: //'";
    for opts in [
        &[][..],
        &["-a", "0700"],
        &["-a", "0640", "-B"],
        &["-D"],
        &["-b", "0"],
        &["-m", "-b0"],
        &["-M", "-b", "7", "-d"],
        &["-a", "0"],
    ] {
        let outs = [Impl::Ours, Impl::Real].map(|imp| {
            let path = t.join("sock");
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_file(t.join("sock.lock"));
            let mut c = Command::new(imp.path("s6-ipcserver-socketbinder"));
            c.args(opts).arg(&path).args(["sh", "-c", probe]).arg(&path);
            let o = run(c, T);
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        });
        assert_eq!(outs[0], outs[1], "s6-ipcserver-socketbinder {opts:?}");
    }
}

#[test]
fn ipcserver_builds_the_same_daemon_command_line() {
    let t = TempDir::new("i-wrap");
    for opts in [
        &[][..],
        &["-v", "-P", "-c", "0", "-C", "3"],
        &["-q", "-c", "7", "-b", "0", "-a", "0700"],
        &["-D", "-d", "-p", "-C", "0"],
        &["-u", "65534", "-g", "65534", "-G", "65534,4"],
        &["-U", "-v"],
    ] {
        let cmdlines = [Impl::Ours, Impl::Real].map(|imp| {
            let path = t.join(&format!("{imp:?}"));
            let mut argv: Vec<OsString> = Vec::new();
            if opts.contains(&"-U") {
                argv.extend([imp.path("s6-envuidgid").into(), "nobody".into()]);
            }
            argv.push(imp.path("s6-ipcserver").into());
            argv.push("-1".into());
            argv.extend(opts.iter().map(OsString::from));
            argv.extend([path.clone().into(), "sh".into(), "-c".into(), "id".into()]);
            let s = Server::start(&path, &argv);
            let id = s.request();
            let raw = std::fs::read(format!("/proc/{}/cmdline", s.pid)).unwrap();
            let args: Vec<String> = raw
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).rsplit('/').next().unwrap_or("").to_owned())
                .collect();
            let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid)).unwrap();
            let ids: Vec<String> = status
                .lines()
                .filter(|l| l.starts_with("Uid:") || l.starts_with("Groups:"))
                .map(String::from)
                .collect();
            let mode = std::fs::metadata(&path).map(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.permissions().mode() & 0o777
            });
            (args, id, ids, mode.ok())
        });
        assert_eq!(cmdlines[0], cmdlines[1], "s6-ipcserver {opts:?}");
    }
}

#[test]
fn ioconnect_interoperates_with_real_clients_and_servers() {
    let t = TempDir::new("i-ioc");
    let data: String = (0..2000).map(|i| format!("{i} bottles\n")).collect();
    std::fs::write(t.join("in"), &data).unwrap();
    for (server, client, ioc) in [
        (Impl::Real, Impl::Ours, Impl::Ours),
        (Impl::Ours, Impl::Real, Impl::Ours),
        (Impl::Ours, Impl::Ours, Impl::Real),
    ] {
        let s = start(&t, &format!("{server:?}{client:?}{ioc:?}"), |p| chain(server, p, &[], &["cat"]));
        let mut c = Command::new("sh");
        c.args(["-c", "exec \"$0\" \"$1\" \"$2\" <\"$3\""]).arg(client.path("s6-ipcclient")).arg(&s.path);
        c.arg(ioc.path("s6-ioconnect")).arg(t.join("in"));
        let o = run(c, T);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stdout == data.as_bytes(), "server {server:?} client {client:?} ioconnect {ioc:?}");
    }
}
