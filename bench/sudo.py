#!/usr/bin/env python3
"""Side-by-side benchmark of privilege delegation: s6-rs against real s6 in the same run.

Measures round trips per second of `s6-sudo SOCKET`, the server running /bin/true: one call
at a time, each started with posix_spawn and waited for, as a script or s6-rc calls it (s6-rc
runs every oneshot this way). Per call, the latency from spawn to exit. Scenarios:

(a) plain: our s6-sudo (in-process client, one exec) against our
    `s6-ipcserver SOCKET s6-sudod /bin/true`; real s6-sudo (which execs s6-ipcclient, then
    s6-sudoc) against real `s6-ipcserver SOCKET s6-sudod /bin/true`.
(b) with access rules (a rules directory allowing the benchmarking uid, as s6-rc's
    oneshot runner has): ours with the in-process check,
    `s6-ipcserver --access-rules=RULES SOCKET s6-sudod /bin/true`; real with
    `s6-ipcserver SOCKET s6-ipcserver-access -i RULES s6-sudod /bin/true`.

Runs of the two implementations alternate in batches so that machine noise hits both alike.
Prints round trips/s (median of the batches), p50 and p99 latency over every call, and the
ratio ours/real. Then s6-sudod's Private_Dirty (from /proc/PID/smaps_rollup, after a sync),
caught while it waits for a `sleep` child: the private memory each concurrent request
costs.

The servers run with the environment PATH=/usr/bin:/bin only, as under a supervision tree,
so /bin/true is the same program for both.

Usage: bench/sudo.py [--calls N] [--batches K]
Needs real s6 at /usr/bin (apt-get install s6) and `cargo build --release --bins` (run.sh does
both). Every process it starts is stopped by PID and waited for.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(REPO, "target", "release")
REAL = "/usr/bin"
CLIENT_ENV = {"PATH": "/usr/bin:/bin"}
HANDLER = ["/bin/true"]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipc  # noqa: E402  (server start and stop and the rules directory, shared with the ipc bench)


def servers(rules):
    """Per scenario: name, then per implementation (server argv before the socket,
    argv after it)."""
    o = lambda p: os.path.join(OURS, p)  # noqa: E731
    r = lambda p: os.path.join(REAL, p)  # noqa: E731
    return [
        ("(a) plain: s6-sudo -> s6-ipcserver + s6-sudod /bin/true", {
            "ours": ([o("s6-ipcserver")], [o("s6-sudod")]),
            "real": ([r("s6-ipcserver")], [r("s6-sudod")]),
        }),
        ("(b) access rules: ours in-process --access-rules; real chained s6-ipcserver-access -i", {
            "ours": ([o("s6-ipcserver"), f"--access-rules={rules}"], [o("s6-sudod")]),
            "real": ([r("s6-ipcserver")], [r("s6-ipcserver-access"), "-i", rules, r("s6-sudod")]),
        }),
    ]


def client(impl):
    return os.path.join(OURS if impl == "ours" else REAL, "s6-sudo")


make_rules = ipc.make_rules_dir
stop = ipc.stop


def start(pre, sock, post, handler):
    """Starts a server; returns it once it has written its readiness newline."""
    return ipc.start_argv(pre + ["-1", sock] + post + handler)


def batch(cli, sock, n, lat):
    """n round trips, one at a time; appends each latency (us) to lat; returns calls/s."""
    argv = [cli, sock]
    start_all = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        pid = os.posix_spawn(cli, argv, CLIENT_ENV)
        _, st = os.waitpid(pid, 0)
        lat.append((time.perf_counter() - t0) * 1e6)
        if os.waitstatus_to_exitcode(st) != 0:
            sys.exit(f"bench: {' '.join(argv)} failed: status {st}")
    return n / (time.perf_counter() - start_all)


def p(lat, q):
    s = sorted(lat)
    return s[min(len(s) - 1, int(q * len(s)))]


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def exe_name(pid):
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return ""


def sudod_private_dirty(pre, post, impl, tmp):
    """Private_Dirty (kB) of the s6-sudod serving one request that runs `sleep 5`."""
    sock = os.path.join(tmp, f"{impl}-mem.sock")
    srv = start(pre, sock, post, ["/bin/sleep"])
    cl = subprocess.Popen([client(impl), sock, "5"], stdin=subprocess.DEVNULL, env=CLIENT_ENV)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            # The connection handler: a child of the server that has become s6-sudod and
            # has spawned its own child (so it is past set-up and waiting).
            found = [c for c in children(srv.pid) if exe_name(c) == "s6-sudod" and children(c)]
            if found:
                os.sync()
                with open(f"/proc/{found[0]}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Private_Dirty:"):
                            return int(line.split()[1])
            time.sleep(0.01)
        sys.exit(f"bench: never saw the {impl} s6-sudod")
    finally:
        cl.kill()
        cl.wait()
        stop(srv)


def bench(name, progs, a, tmp):
    rates = {k: [] for k in progs}
    lats = {k: [] for k in progs}
    socks = {}
    procs = {}
    try:
        for impl, (pre, post) in progs.items():
            socks[impl] = os.path.join(tmp, f"{impl}.sock")
            procs[impl] = start(pre, socks[impl], post, HANDLER)
        for impl in progs:  # warm the page cache
            batch(client(impl), socks[impl], 20, [])
        for _ in range(a.batches):
            for impl in progs:
                rates[impl].append(batch(client(impl), socks[impl], a.calls, lats[impl]))
    finally:
        for pr in procs.values():
            stop(pr)
    mem = {impl: sudod_private_dirty(pre, post, impl, tmp) for impl, (pre, post) in progs.items()}
    real, ours = statistics.median(rates["real"]), statistics.median(rates["ours"])
    print(f"{name}: {a.batches} batches of {a.calls} sequential calls, median rate")
    print(f"{'metric':30} {'real s6':>10} {'s6-rs':>10} {'ratio':>7}")
    print(f"{'round trips per second':30} {real:10.1f} {ours:10.1f} {ours / real:7.2f}x")
    for q, label in ((0.5, "p50 latency (us)"), (0.99, "p99 latency (us)")):
        r, o = p(lats["real"], q), p(lats["ours"], q)
        print(f"{label:30} {r:10.0f} {o:10.0f} {o / r:7.2f}x")
    print(f"{'s6-sudod Private_Dirty (kB)':30} {mem['real']:10d} {mem['ours']:10d} "
          f"{mem['ours'] / max(mem['real'], 1):7.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200, help="calls per batch")
    ap.add_argument("--batches", type=int, default=10, help="batches per implementation")
    a = ap.parse_args()
    for d in (OURS, REAL):
        for prog in ("s6-sudo", "s6-sudod", "s6-ipcserver"):
            if not os.access(os.path.join(d, prog), os.X_OK):
                sys.exit(f"bench: missing {os.path.join(d, prog)} (cargo build --release --bins; apt-get install s6)")
    tmp = tempfile.mkdtemp(prefix="s6rs-bench-sudo-")
    try:
        for name, progs in servers(make_rules(tmp)):
            bench(name, progs, a, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
