#!/usr/bin/env python3
"""Side-by-side benchmark of the Unix-socket super-server: s6-rs against real s6 in the same run.

Scenario (a): `s6-ipcserver -1 PATH /bin/echo ok`, ours (target/release) and Debian's
(/usr/bin). A Rust load generator (examples/ipc_load.rs: one thread per concurrent client,
connect, read to EOF, check "ok\\n", repeat) drives each server for a fixed time; runs of the
two implementations alternate so that machine noise hits both alike. Prints connections per
second and p50/p99 latency (connect to EOF) for each, and the ratio ours/real for the rate
(higher is better).

The servers run with the environment PATH=/usr/bin:/bin only, as under a supervision tree.

Scenario (a'): the same with examples/ipc_ok as the handler, a static program that writes
"ok\\n": /bin/echo is a dynamic glibc program whose start-up (glibc probes the CPU caches
with some ninety `cpuid` instructions, each a VM exit under virtualisation) is most of a
connection's CPU whichever server spawned it; this scenario shows the servers' own cost.

Scenario (b): the same with `s6-ipcserver-access -x RULES.cdb` chained before the handler
(ours against Debian's). Scenario (c): ours with the in-process check
(`s6-ipcserver --access-cdb=RULES.cdb`, same rules, no extra exec) against Debian's chained
figure of (b). RULES allows the benchmarking uid; Debian's s6-accessrules-cdb-from-fs
compiles it (ours writes the same bytes). Every scenario is a name and, per
implementation, (leading options, handler command line).

Usage: bench/ipc.py [--threads N] [--seconds S] [--rounds K] [--maxconn C]
Needs real s6 at /usr/bin (apt-get install s6), `cargo build --release --bins` and
`cargo build --release --examples` (run.sh does all three). Every process it starts
is stopped by PID and waited for.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(REPO, "target", "release")
REAL = "/usr/bin"
LOAD = os.path.join(OURS, "examples", "ipc_load")


ECHO = ["/bin/echo", "ok"]
# Servers (and so their handlers) get the environment a supervision tree gives its services,
# not whatever the caller's shell holds: with LANG=C.UTF-8, say, every /bin/echo loads
# locale data, which adds the same cost per connection to both sides and makes the figures
# depend on who runs the bench.
SERVER_ENV = {"PATH": "/usr/bin:/bin"}
OK = [os.path.join(OURS, "examples", "ipc_ok")]


def plain_scenarios():
    """(a): the plain super-server, handler /bin/echo; (a') the same with a static handler,
    so that the servers' own cost per connection is not hidden by glibc's start-up."""
    return [("(a) s6-ipcserver, handler /bin/echo", {"ours": ([], ECHO), "real": ([], ECHO)}),
            ("(a') s6-ipcserver, handler examples/ipc_ok (static)", {"ours": ([], OK), "real": ([], OK)})]


def access_scenarios(rules):
    """(b) chained s6-ipcserver-access on both sides; (c) our in-process check against
    Debian's chained s6-ipcserver-access."""
    real_chained = ([], [os.path.join(REAL, "s6-ipcserver-access"), "-x", rules] + ECHO)
    return [
        ("(b) s6-ipcserver + s6-ipcserver-access -x cdb (chained)",
         {"ours": ([], [os.path.join(OURS, "s6-ipcserver-access"), "-x", rules] + ECHO), "real": real_chained}),
        ("(c) ours: in-process --access-cdb; real: chained s6-ipcserver-access -x",
         {"ours": ([f"--access-cdb={rules}"], ECHO), "real": real_chained}),
    ]


def make_rules_dir(tmp):
    """A rules directory in tmp that allows the benchmarking uid."""
    rules = os.path.join(tmp, "rules")
    os.makedirs(os.path.join(rules, "uid", str(os.getuid())))
    open(os.path.join(rules, "uid", str(os.getuid()), "allow"), "w").close()
    return rules


def make_rules(tmp):
    """make_rules_dir, compiled into a cdb with real s6's tool."""
    rules = make_rules_dir(tmp)
    cdb = os.path.join(tmp, "rules.cdb")
    subprocess.run([os.path.join(REAL, "s6-accessrules-cdb-from-fs"), cdb, rules], check=True)
    return cdb


def start(server, path, prog, maxconn):
    """Starts a server; returns it once it has written its readiness newline."""
    pre, prog = prog
    return start_argv([server] + pre + ["-1", "-q", "-c", str(maxconn), path] + prog)


def start_argv(argv):
    """Starts the server argv (with -1 among its options) in SERVER_ENV; returns it once it
    has written its readiness newline."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=SERVER_ENV)
    if p.stdout.readline() != b"\n":
        stop(p)
        sys.exit(f"bench: {' '.join(argv)} did not become ready")
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def load(path, threads, seconds):
    out = subprocess.run([LOAD, path, str(threads), str(seconds), "ok\\n"], check=True, capture_output=True,
                         text=True, timeout=seconds + 60).stdout
    vals = dict(kv.split("=") for kv in out.split())
    if int(vals["errors"]):
        sys.exit(f"bench: {vals['errors']} failed connections on {path}")
    return float(vals["rate"]), int(vals["p50_us"]), int(vals["p99_us"])


def bench(name, progs, a, tmp):
    servers = {"real": os.path.join(REAL, "s6-ipcserver"), "ours": os.path.join(OURS, "s6-ipcserver")}
    results = {k: [] for k in servers}
    for rnd in range(a.rounds + 1):
        for impl, server in servers.items():
            path = os.path.join(tmp, f"{impl}.sock")
            p = start(server, path, progs[impl], a.maxconn)
            try:
                # Round 0 only warms the page cache and the kernel's socket paths.
                r = load(path, a.threads, a.seconds if rnd else 0.5)
            finally:
                stop(p)
            if rnd:
                results[impl].append(r)
    med = {k: tuple(statistics.median(x[i] for x in v) for i in range(3)) for k, v in results.items()}
    print(f"{name}: {a.threads} concurrent clients, -c {a.maxconn}, {a.rounds} rounds of {a.seconds}s, median")
    print(f"{'metric':28} {'real s6':>10} {'s6-rs':>10} {'ratio':>7}")
    print(f"{'connections per second':28} {med['real'][0]:10.1f} {med['ours'][0]:10.1f} "
          f"{med['ours'][0] / med['real'][0]:7.2f}x")
    print(f"{'p50 latency (us)':28} {med['real'][1]:10.0f} {med['ours'][1]:10.0f} "
          f"{med['ours'][1] / max(med['real'][1], 1):7.2f}x")
    print(f"{'p99 latency (us)':28} {med['real'][2]:10.0f} {med['ours'][2]:10.0f} "
          f"{med['ours'][2] / max(med['real'][2], 1):7.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=8, help="concurrent clients")
    ap.add_argument("--seconds", type=float, default=3.0, help="seconds per run")
    ap.add_argument("--rounds", type=int, default=5, help="runs per implementation")
    ap.add_argument("--maxconn", type=int, default=40, help="s6-ipcserver -c")
    a = ap.parse_args()
    for f in (os.path.join(OURS, "s6-ipcserver"), os.path.join(REAL, "s6-ipcserver"), LOAD, OK[0]):
        if not os.access(f, os.X_OK):
            sys.exit(f"bench: missing {f} (cargo build --release --bins --examples; apt-get install s6)")
    tmp = tempfile.mkdtemp(prefix="s6rs-bench-ipc-")
    try:
        for name, progs in plain_scenarios() + access_scenarios(make_rules(tmp)):
            bench(name, progs, a, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
