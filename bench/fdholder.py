#!/usr/bin/env python3
"""Side-by-side benchmark of the fd holder: s6-rs against real s6 in the same run.

(a) Operations per second: store + retrieve + delete cycles, one client process per
operation as the tools are used (a shell loop runs s6-fdholder-store, s6-fdholder-retrieve
into `true`, s6-fdholder-delete), against each implementation's own s6-fdholder-daemon.
Runs of the two alternate so that machine noise hits both alike; the best round of each is
kept. Printed: operations per second for each and the ratio ours/real (higher is better).

(b) Private_Dirty of the daemon holding 1,000 fds (from /proc/PID/smaps_rollup), stored by
the implementation's own s6-fdholder-store in a shell loop, read once the loop is done.
Printed: kB for each and the ratio ours/real (lower is better).

Usage: bench/fdholder.py [--cycles N] [--rounds K]
Needs real s6 at /usr/bin (apt-get install s6) and `cargo build --release --bins`
(run.sh does both). Every process it starts is stopped by PID and waited for.
"""

import argparse
import os
import shutil
import signal
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(REPO, "target", "release")
REAL = "/usr/bin"
ENV = {"PATH": "/usr/bin:/bin"}


def make_rules(tmp):
    rules = os.path.join(tmp, "rules")
    env = os.path.join(rules, "uid", "default", "env")
    os.makedirs(env)
    open(os.path.join(rules, "uid", "default", "allow"), "w").close()
    for k, v in [("S6_FDHOLDER_STORE_REGEX", "."), ("S6_FDHOLDER_RETRIEVE_REGEX", "."), ("S6_FDHOLDER_LIST", "1")]:
        with open(os.path.join(env, k), "w") as f:
            f.write(v + "\n")
    return rules


def start(bindir, rules, sock):
    p = subprocess.Popen([os.path.join(bindir, "s6-fdholder-daemon"), "-1", "-n", "2000", "-i", rules, sock],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=ENV)
    assert p.stdout.read(1) == b"\n", "daemon not ready"
    return p


def stop(p):
    os.kill(p.pid, signal.SIGTERM)
    p.wait(timeout=10)


def daemon_pid(p):
    """The long-lived s6-fdholderd: the daemon chain execs in place, so it is p itself."""
    return p.pid


def cycles(bindir, sock, n):
    """Seconds for n store/retrieve/delete cycles, one process per operation."""
    script = ('i=0; while [ $i -lt "$N" ]; do '
              '"$B/s6-fdholder-store" "$S" "id$i" </dev/null || exit 1; '
              '"$B/s6-fdholder-retrieve" "$S" "id$i" true || exit 1; '
              '"$B/s6-fdholder-delete" "$S" "id$i" || exit 1; '
              'i=$((i+1)); done')
    t = time.monotonic()
    subprocess.run(["sh", "-c", script], check=True, env=dict(ENV, N=str(n), B=bindir, S=sock))
    return time.monotonic() - t


def hold(bindir, sock, n):
    script = ('i=0; while [ $i -lt "$N" ]; do "$B/s6-fdholder-store" "$S" "held$i" </dev/null || exit 1; '
              'i=$((i+1)); done')
    subprocess.run(["sh", "-c", script], check=True, env=dict(ENV, N=str(n), B=bindir, S=sock))


def private_dirty(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1])
    raise RuntimeError("no Private_Dirty")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="s6rs-bench-fdh-")
    try:
        rules = make_rules(tmp)
        impls = {"ours": OURS, "real": REAL}
        best = {k: 0.0 for k in impls}
        for r in range(a.rounds):
            for name, bindir in impls.items():
                sock = os.path.join(tmp, f"{name}-{r}.sock")
                p = start(bindir, rules, sock)
                try:
                    secs = cycles(bindir, sock, a.cycles)
                finally:
                    stop(p)
                best[name] = max(best[name], 3 * a.cycles / secs)
        print("(a) store + retrieve + delete, one process per operation")
        for name in impls:
            print(f"    {name}: {best[name]:8.0f} operations/s")
        print(f"    ratio ours/real: {best['ours'] / best['real']:.2f} (higher is better)")
        dirty = {}
        for name, bindir in impls.items():
            sock = os.path.join(tmp, f"{name}-hold.sock")
            p = start(bindir, rules, sock)
            try:
                hold(bindir, sock, 1000)
                dirty[name] = private_dirty(daemon_pid(p))
            finally:
                stop(p)
        print("(b) Private_Dirty of the daemon holding 1,000 fds")
        for name in impls:
            print(f"    {name}: {dirty[name]:6d} kB")
        print(f"    ratio ours/real: {dirty['ours'] / dirty['real']:.2f} (lower is better)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
