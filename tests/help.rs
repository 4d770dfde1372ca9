//! Every program's command line, seen from outside: `--help` as the only argument prints the
//! usage line, what the program does, every option and the upstream page, and exits 0; a
//! bad command line is still refused exactly as before the option tables existed.
//!
//! The usage lines below are golden: they are upstream's (2.15) usage lines as the programs
//! printed them before, and interop tests compare them with real s6's. The option letters
//! and long names are the ones each program's parser accepted before.

use std::process::Command;
use std::time::Duration;

use crate::support::*;

/// How a program refuses a bad command line.
#[derive(Clone, Copy)]
enum Refusal {
    /// getopt programs: `-Z` gives `PROG: usage: USAGE`, exit 100.
    Usage,
    /// skalibs `gol` programs: `-Z` gives `PROG: fatal: unrecognized short option: Z`, and
    /// no operands at all give the usage line; exit 100 both.
    Gol,
    /// Programs that parse no options: no operands give the usage line, exit 100.
    Operands,
    /// s6-tai64n ignores its arguments: there is no bad command line.
    Never,
}

use Refusal::*;

/// One program: name, golden usage line, every option letter, every long option, and how it
/// refuses a bad command line.
struct Prog(&'static str, &'static str, &'static str, &'static [&'static str], Refusal);

/// Programs of s6-rs's own: their help names no upstream page.
const EXTENSIONS: &[&str] = &["s6-fdholder-listenfds"];

const PROGS: &[Prog] = &[
    Prog(
        "s6-accessrules-cdb-from-fs",
        "s6-accessrules-cdb-from-fs [ -m mode ] cdbfile dir",
        "m",
        &["mode"],
        Gol,
    ),
    Prog("s6-accessrules-fs-from-cdb", "s6-accessrules-fs-from-cdb dir cdbfile", "", &[], Operands),
    Prog(
        "s6-applyuidgid",
        "s6-applyuidgid [ -z ] [ -u uid ] [ -g gid ] [ -G gidlist ] [ -U ] prog...",
        "zUugG",
        &[],
        Usage,
    ),
    Prog(
        "s6-background-watch",
        "s6-background-watch [ -t timeout ] [ -d notif ] pidfile prog...",
        "td",
        &["timeout-ready", "notification-fd"],
        Gol,
    ),
    Prog("s6-cleanfifodir", "s6-cleanfifodir fifodir", "", &[], Operands),
    Prog("s6-connlimit", "s6-connlimit prog...", "", &[], Operands),
    Prog(
        "s6-envdir",
        "s6-envdir [ -I | -i ] [ -n ] [ -f ] [ -L ] [ -c nullis ] dir prog...",
        "IinfLc",
        &[],
        Usage,
    ),
    Prog(
        "s6-envuidgid",
        "s6-envuidgid [ -i | -D defaultuid:defaultgid:defaultgidlist ] [ -u | -g | -B ] [ -n ] account prog...",
        "ugBniD",
        &[],
        Usage,
    ),
    Prog(
        "s6-fdholder-daemon",
        "s6-fdholder-daemon [ -v verbosity ] [ -d | -D ] [ -1 ] [ -c maxconn ] [ -n maxfds ] [ -b backlog ] [ -G gid,gid,... ] [ -g gid ] [ -u uid ] [ -U ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] path",
        "vdD1cnbGguUtTix",
        &[],
        Usage,
    ),
    Prog("s6-fdholder-delete", "s6-fdholder-delete [ -t timeout ] socket id", "t", &[], Usage),
    Prog("s6-fdholder-getdump", "s6-fdholder-getdump [ -t timeout ] socket prog...", "t", &[], Usage),
    Prog("s6-fdholder-list", "s6-fdholder-list [ -t timeout ] socket", "t", &[], Usage),
    Prog(
        "s6-fdholder-listenfds",
        "s6-fdholder-listenfds [ -D ] [ -t timeout ] [ -n names ] socket id... -- prog...",
        "Dtn",
        &[],
        Usage,
    ),
    Prog("s6-fdholder-retrieve", "s6-fdholder-retrieve [ -D ] [ -t timeout ] socket id prog...", "Dt", &[], Usage),
    Prog("s6-fdholder-setdump", "s6-fdholder-setdump [ -t timeout ] socket", "t", &[], Usage),
    Prog("s6-fdholder-store", "s6-fdholder-store [ -d fd ] [ -t timeout ] [ -T fdtimeout ] socket id", "dtT", &[], Usage),
    Prog(
        "s6-fdholder-transferdump",
        "s6-fdholder-transferdump [ -t timeoutfrom:timeoutto ] socketfrom socketto",
        "t",
        &[],
        Usage,
    ),
    Prog(
        "s6-fdholderd",
        "s6-fdholderd [ -v verbosity ] [ -1 ] [ -c maxconn ] [ -n maxfds ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ]",
        "v1cntTix",
        &[],
        Usage,
    ),
    Prog("s6-fghack", "s6-fghack prog...", "", &[], Operands),
    Prog(
        "s6-ftrig-listen",
        "s6-ftrig-listen [ -a | -o ] [ -t timeout ] fifodir1 regexp1 ... \"\" prog...",
        "aot",
        &["and", "or", "timeout"],
        Gol,
    ),
    Prog(
        "s6-ftrig-listen1",
        "s6-ftrig-listen1 [ -t timeout ] fifodir regexp prog...",
        "t",
        &["timeout"],
        Gol,
    ),
    Prog("s6-ftrig-notify", "s6-ftrig-notify fifodir message", "", &[], Operands),
    Prog("s6-ftrig-wait", "s6-ftrig-wait [ -t timeout ] fifodir regexp", "t", &["timeout"], Gol),
    Prog("s6-ioconnect", "s6-ioconnect [ -t timeout ] [ -r fdr ] [ -w fdw ]", "0167trw", &[], Usage),
    Prog(
        "s6-ipcclient",
        "s6-ipcclient [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] path prog...",
        "qQvpl",
        &[],
        Usage,
    ),
    Prog(
        "s6-ipcserver-access",
        "s6-ipcserver-access [ -v verbosity ] [ -e | -E ] [ -l localname ] [ -i rulesdir | -x rulesfile ] prog...",
        "vEelix",
        &[],
        Usage,
    ),
    Prog(
        "s6-ipcserver-socketbinder",
        "s6-ipcserver-socketbinder [ -d | -D ] [ -b backlog ] [ -M | -m ] [ -a perms ] [ -B ] path prog...",
        "DdMmBba",
        &[],
        Usage,
    ),
    Prog(
        "s6-ipcserver",
        "s6-ipcserver [ -q | -Q | -v ] [ -d | -D ] [ -P | -p ] [ -1 ] [ -c maxconn ] [ -C localmaxconn ] [ -b backlog ] [ -a socketperms ] [ -G gid,gid,... ] [ -g gid ] [ -u uid ] [ -U ] [ --access-rules=dir | --access-cdb=file ] [ --access-noenv ] [ --access-localname=name ] [ --access-verbosity=n ] path prog...",
        "qQvDd1UPpcCbaugG",
        &["access-rules", "access-cdb", "access-noenv", "access-localname", "access-verbosity"],
        Usage,
    ),
    Prog(
        "s6-ipcserverd",
        "s6-ipcserverd [ -v verbosity ] [ -1 ] [ -P | -p ] [ -c maxconn ] [ -C localmaxconn ] [ --access-rules=dir | --access-cdb=file ] [ --access-noenv ] [ --access-localname=name ] [ --access-verbosity=n ] prog...",
        "Pp1cCv",
        &["access-rules", "access-cdb", "access-noenv", "access-localname", "access-verbosity"],
        Usage,
    ),
    Prog(
        "s6-log",
        "s6-log [ -d notif ] [ -q | -v ] [ -b ] [ -p ] [ -l linelimit ] [ -t lastlinetimeout ] [ -- ] logging_script",
        "qvbpldt",
        &[],
        Usage,
    ),
    Prog("s6-mkfifodir", "s6-mkfifodir [ -f ] [ -g gid ] fifodir", "fg", &[], Usage),
    Prog(
        "s6-notify-fd-from-socket",
        "s6-notify-fd-from-socket [ -3 fd ] [ -f ] [ -t timeout ] prog...",
        "3ft",
        &["notification-fd", "no-doublefork", "doublefork", "timeout"],
        Gol,
    ),
    Prog(
        "s6-notify-socket-from-fd",
        "s6-notify-socket-from-fd [ -d fd ] [ -f ] [ -t timeout ] [ -k ] prog...",
        "dftk",
        &["notification-fd", "no-doublefork", "doublefork", "timeout", "keep-environment"],
        Gol,
    ),
    Prog(
        "s6-notifyoncheck",
        "s6-notifyoncheck [ -d ] [ -3 fd ] [ -s initialsleep ] [ -T globaltimeout ] [ -t localtimeout ] [ -w waitingtime ] [ -n tries ] [ -c \"checkprog...\" ] prog...",
        "d3sTtwnc",
        &[
            "doublefork",
            "notification-fd",
            "initial-sleep",
            "global-timeout",
            "local-timeout",
            "waiting-time",
            "tries",
            "check-program",
        ],
        Gol,
    ),
    Prog("s6-permafailon", "s6-permafailon seconds deathcount statuslist prog...", "", &[], Operands),
    Prog(
        "s6-setlock",
        "s6-setlock [ -n | -N ] [ -t timeout ] [ -d fd ] [ -r | -w ] file prog...",
        "nNrwtd",
        &[],
        Usage,
    ),
    Prog(
        "s6-setsid",
        "s6-setsid [ -s | -b | -f | -g ] [ -i | -I | -q ] [ -d ctty ] prog...",
        "sbfgiIqd",
        &[
            "session",
            "process-group",
            "background-process-group",
            "foreground",
            "foreground-process-group",
            "grab",
            "foreground-process-group-grab",
            "no-strict",
            "strict",
            "quiet",
            "ctty",
        ],
        Gol,
    ),
    Prog("s6-setuidgid", "s6-setuidgid username prog...", "", &[], Operands),
    Prog(
        "s6-socklog",
        "s6-socklog [ -d notif ] [ -r ] [ -U | -u uid -g gid -G gidlist ] [ -l linelen ] [ -t lameducktimeout ] [ -x socket | -i ip_port ]",
        "rdltugGUxi",
        &[],
        Usage,
    ),
    Prog(
        "s6-softlimit",
        "s6-softlimit [ -H | -h ] [ -a allmem ] [ -c core ] [ -d data ] [ -f fsize ] [ -l lock ] [ -m mem ] [ -o ofiles ] [ -P prio ] [ -p proc ] [ -r res ] [ -s stack ] [ -t cpusecs ] prog...",
        "hHacdflmoPprst",
        &[],
        Usage,
    ),
    Prog(
        "s6-sudo",
        "s6-sudo [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] [ -e ] [ -t timeout ] [ -T timeoutrun ] path [ args... ]",
        "qQvpletT",
        &[],
        Usage,
    ),
    Prog("s6-sudoc", "s6-sudoc [ -e ] [ -t timeoutconn ] [ -T timeoutrun ] [ args... ]", "etT", &[], Usage),
    Prog("s6-sudod", "s6-sudod [ -0 ] [ -1 ] [ -2 ] [ -d ] [ -t timeout ] args...", "012dt", &["audit"], Usage),
    Prog("s6-supervise", "s6-supervise dir", "", &[], Operands),
    Prog(
        "s6-svc",
        "s6-svc [ -wu | -wU | -wd | -wD | -wr | -wR ] [ -T timeout ] [ -s signal | -abqhkti12pcyrlPCK ] [ -oduDUxOQ ] servicedirs...",
        "sabqhkti12pcyrlPCKoduDUxOQTw",
        &[],
        Usage,
    ),
    Prog("s6-svdt-clear", "s6-svdt-clear servicedir", "", &[], Operands),
    Prog("s6-svdt", "s6-svdt [ -S | -s ] [ -n maxentries ] servicedir", "Ssn", &[], Usage),
    Prog(
        "s6-svlink",
        "s6-svlink [ -d | -D ] [ -f ] [ -P ] [ -t timeout ] scandir servicedir [ name ]",
        "dDfPt",
        &[],
        Usage,
    ),
    Prog(
        "s6-svlisten",
        "s6-svlisten [ -U | -u | -d | -D | -r | -R ] [ -a | -o ] [ -t timeout ] servicedir... \"\" prog...",
        "uUdDrRaot",
        &[],
        Usage,
    ),
    Prog(
        "s6-svlisten1",
        "s6-svlisten1 [ -U | -u | -d | -D | -r | -R ] [ -t timeout ] servicedir prog...",
        "uUdDrRt",
        &[],
        Usage,
    ),
    Prog("s6-svok", "s6-svok servicedir", "", &[], Operands),
    Prog(
        "s6-svperms",
        "s6-svperms [ -v ] [ -u | -g group | -G group | -o | -O group ] [ -e | -E group ] servicedir...",
        "vugGoOeE",
        &[],
        Usage,
    ),
    Prog(
        "s6-svscan",
        "s6-svscan [ -C services_max ] [ -L name_max ] [ -t timeout ] [ -d notif ] [ -X consoleholder ] scandir",
        "CLtdX",
        &["services-max", "name-max", "timeout", "notification-fd", "console-holder"],
        Gol,
    ),
    Prog(
        "s6-svscanboot",
        "s6-svscanboot [ -c devconsole ] [ -D catchalldir ] [ -m catchallmode ] [ -l catchalluser ] [ -o catchalloptions ] [ -d notif ] [ -C services_max ] [ -L name_max ] [ -t rescan ] [ --catchall-stdout ] scandir",
        "cDmlodCLtu",
        &[
            "console",
            "catchall-directory",
            "catchall-mode",
            "catchall-user",
            "catchall-options",
            "notification-fd",
            "services-max",
            "name-max",
            "timeout",
            "user",
            "catchall-stdout",
        ],
        Gol,
    ),
    Prog("s6-svscanctl", "s6-svscanctl [ -zabhitqnN ] svscandir", "zabhitqnN", &[], Usage),
    Prog(
        "s6-svstat",
        "s6-svstat [ -uwNrpgest | -o up,wantedup,normallyup,ready,paused,pid,pgid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor ] [ -n ] servicedir",
        "nouwNrpgest",
        &[],
        Usage,
    ),
    Prog("s6-svunlink", "s6-svunlink [ -X ] [ -t timeout ] scandir servicename", "Xt", &[], Usage),
    Prog(
        "s6-svwait",
        "s6-svwait [ -U | -u | -d | -D | -r | -R ] [ -a | -o ] [ -t timeout ] servicedir...",
        "uUdDrRaot",
        &[],
        Usage,
    ),
    Prog("s6-tai64n", "s6-tai64n", "", &[], Never),
    Prog("s6-tai64nlocal", "s6-tai64nlocal [ -g ]", "g", &[], Usage),
    Prog(
        "s6-usertree-maker",
        "s6-usertree-maker [ -d userscandir ] [ -p path ] [ -E envdir [ -e var ... ] ] [ -r service/logger[/pipeline] ] [ -l loguser ] [ -t stamptype ] [ -n nfiles ] [ -s filesize ] [ -S maxsize ] [ -P prefix ] user logdir dir",
        "dpEerltnsSP",
        &[],
        Usage,
    ),
    Prog("ucspilogd", "ucspilogd [ -D default ] [ var... ]", "D", &[], Usage),
    Prog(
        "s6-instance-maker",
        "s6-instance-maker [ -c max ] [ -u user ] [ -l loguser ] [ -L logdir ] [ -t stamptype ] [ -n nfiles ] [ -s filesize ] [ -S maxsize ] [ -P prefix ] [ -r service[/logger[/pipeline]] ] template dir",
        "culLtnsSPr",
        &[],
        Usage,
    ),
    Prog(
        "s6-instance-create",
        "s6-instance-create [ -d | -D ] [ -f ] [ -P ] [ -t timeout ] service instancename",
        "dDfPt",
        &[],
        Usage,
    ),
    Prog("s6-instance-delete", "s6-instance-delete [ -X ] [ -t timeout ] service instancename", "Xt", &[], Usage),
    Prog(
        "s6-instance-control",
        "s6-instance-control [ -wu | -wU | -wd | -wD | -wr | -wR ] [ -T timeout ] [ -abqhkti12pcyroduDUxO ] service instancename",
        "wTabqhkti12pcyroduDUxO",
        &[],
        Usage,
    ),
    Prog(
        "s6-instance-status",
        "s6-instance-status [ -uwNrpest | -o up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor ] [ -n ] service name",
        "uwNrpeston",
        &[],
        Usage,
    ),
    Prog("s6-instance-list", "s6-instance-list service", "", &[], Operands),
];

const LIMIT: Duration = Duration::from_secs(10);

/// Runs one of our programs in a scratch directory, with `PROTO` set (s6-connlimit looks at
/// the environment before its operands) and stdin on /dev/null.
fn run_prog(name: &str, args: &[&str], cwd: &TempDir) -> (Option<i32>, String, String) {
    let mut c = Command::new(bin(name));
    c.args(args).current_dir(cwd.path()).env("PROTO", "IPC");
    let out = run(c, LIMIT);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn golden_table_covers_every_program() {
    let mut built: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/bin"))
        .expect("src/bin")
        .map(|e| e.expect("entry").file_name().to_string_lossy().trim_end_matches(".rs").to_owned())
        // The clap-built front end has its own help, tested in tests/frontend/.
        .filter(|n| n != "s6-rs")
        .collect();
    built.sort();
    let mut listed: Vec<String> = PROGS.iter().map(|p| p.0.to_owned()).collect();
    listed.sort();
    assert_eq!(listed, built);
    assert_eq!(listed.len(), 68);
}

#[test]
fn help_alone_prints_usage_options_and_page_and_exits_0() {
    let t = TempDir::new("help");
    for &Prog(name, usage, letters, longs, _) in PROGS {
        let (code, out, err) = run_prog(name, &["--help"], &t);
        assert_eq!(code, Some(0), "{name} --help: exit code; stderr: {err}");
        assert_eq!(err, "", "{name} --help wrote on stderr");
        let first = format!("usage: {usage}\n\n");
        assert!(out.starts_with(&first), "{name} --help does not start with its usage line:\n{out}");
        let about = out[first.len()..].lines().next().unwrap_or("");
        assert!(about.len() > 10 && about.ends_with('.'), "{name}: no sentence on what it does:\n{out}");
        let page = if EXTENSIONS.contains(&name) {
            "An s6-rs extension, not in upstream s6: see the extension table of s6-rs's README.\n".to_owned()
        } else {
            format!("https://skarnet.org/software/s6/{name}.html\n")
        };
        assert!(out.ends_with(&page), "{name} --help does not name its page {page}:\n{out}");
        for c in letters.chars() {
            assert!(out.contains(&format!("\n  -{c}")), "{name} --help does not describe -{c}:\n{out}");
        }
        let words: Vec<&str> = out.split(|c: char| c.is_whitespace() || c == ',').collect();
        for l in longs {
            let long = format!("--{l}");
            let with_value = format!("--{l}=");
            assert!(
                words.iter().any(|w| *w == long || w.starts_with(&with_value)),
                "{name} --help does not describe {long}:\n{out}"
            );
        }
        if letters.is_empty() && longs.is_empty() {
            assert!(!out.contains("options:"), "{name} takes no options:\n{out}");
        }
    }
}

#[test]
fn bad_command_line_is_refused_as_before() {
    let t = TempDir::new("badopt");
    for &Prog(name, usage, _, _, refusal) in PROGS {
        let usage_line = format!("{name}: usage: {usage}\n");
        let bad: &[(&[&str], String)] = &match refusal {
            Usage => vec![(&["-Z"][..], usage_line)],
            Gol => vec![
                (&["-Z"][..], format!("{name}: fatal: unrecognized short option: Z\n")),
                (&[][..], usage_line),
            ],
            Operands => vec![(&[][..], usage_line)],
            Never => vec![],
        };
        for (args, want) in bad {
            let (code, out, err) = run_prog(name, args, &t);
            assert_eq!((code, err.as_str(), out.as_str()), (Some(100), want.as_str(), ""), "{name} {args:?}");
        }
    }
}

#[test]
fn help_among_other_arguments_is_not_help() {
    let t = TempDir::new("helpnot");
    // For getopt, `--help` is the letters - h e l p: the dash is no option.
    let (code, _, err) = run_prog("s6-svscanctl", &["--help", "x"], &t);
    assert_eq!(
        (code, err.as_str()),
        (Some(100), "s6-svscanctl: usage: s6-svscanctl [ -zabhitqnN ] svscandir\n")
    );
    // For gol, it is an unknown long option.
    let (code, _, err) = run_prog("s6-svscan", &["--help", "x"], &t);
    assert_eq!((code, err.as_str()), (Some(100), "s6-svscan: fatal: unrecognized boolean option: --help\n"));
}
