#!/usr/bin/env python3
"""Side-by-side benchmark of the supervision tree: s6-rs against real s6 in the same run.

For each implementation: a scan directory of N services each running `sleep`, started with
that implementation's s6-svscan. Measures:
  * per-supervisor Private_Dirty and Pss (kB, averaged over the s6-supervise processes,
    after `sync` so freshly written binaries' page-cache pages do not count as dirty);
  * time until every service is up (status pid != 0), from the s6-svscan spawn;
  * `s6-svc -wd -d` and `s6-svc -wu -u` round trips (median of K runs; each -u starts more
    than 1 s after the previous start, so s6-supervise's restart pacing is not measured);
  * time until every process is gone after `s6-svscanctl -t`.
Prints each figure and the ratio ours/real (lower is better).

Each implementation builds --trees trees (alternating with the other); figures are medians
over all trees. The scan directories go on tmpfs (/dev/shm) when there is one, as in real
systems (s6-linux-init's scan directory is in /run): on ext4, allocating the inodes of the
fresh supervise/ and event/ directories (identical work for both implementations) takes most
of the start-up window.

Usage: bench/supervise_tree.py [--services N] [--rounds K] [--trees T] [--dir DIR]
Needs real s6 at /usr/bin (apt-get install s6) and `cargo build --release` done (run.sh
does both checks). Only processes this script starts are stopped, by PID.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(REPO, "target", "release")
REAL = "/usr/bin"


def status_pid(svc):
    try:
        with open(os.path.join(svc, "supervise", "status"), "rb") as f:
            b = f.read(35)
    except OSError:
        return 0
    if len(b) < 35:
        return 0
    finishing = b[34] & 2
    pid = int.from_bytes(b[24:32], "big")
    return 0 if finishing else pid


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def mem_kb(pid):
    vals = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] in ("Private_Dirty:", "Pss:"):
                vals[parts[0][:-1]] = int(parts[1])
    return vals.get("Private_Dirty", 0), vals.get("Pss", 0)


def wait_for(cond, timeout, what, step=0.001):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(step)


def bench(name, bindir, n, rounds, base):
    """One tree of `n` services under `bindir`'s programs, created in a fresh directory of
    `base`; returns each metric's samples."""
    tmp = tempfile.mkdtemp(prefix=f"s6rs-bench-{name}-", dir=base)
    scan = os.path.join(tmp, "scan")
    os.mkdir(scan)
    for i in range(n):
        d = os.path.join(scan, f"svc{i}")
        os.mkdir(d)
        with open(os.path.join(d, "run"), "w") as f:
            f.write("#!/bin/sh\nexec sleep 1000000\n")
        os.chmod(os.path.join(d, "run"), 0o755)
    env = dict(os.environ)
    # Real s6-svscan finds s6-supervise through PATH; ours uses its sibling.
    env["PATH"] = f"{bindir}:/usr/bin:/bin"
    svcs = [os.path.join(scan, f"svc{i}") for i in range(n)]
    res = {}
    svscan = None
    try:
        t0 = time.monotonic()
        svscan = subprocess.Popen([os.path.join(bindir, "s6-svscan"), scan], env=env,
                                  stdin=subprocess.DEVNULL)
        # Only services not yet seen up are read again, and polls are 2 ms apart: a tight
        # loop over 100 files would take a core from the tree being measured.
        pending = set(svcs)

        def all_up():
            for s in [s for s in pending if status_pid(s)]:
                pending.discard(s)
            return not pending

        wait_for(all_up, 60, "all services up", 0.002)
        res["all up (ms)"] = [(time.monotonic() - t0) * 1000]

        subprocess.run(["sync"], check=True)
        time.sleep(0.2)
        sups = children(svscan.pid)
        mems = [mem_kb(p) for p in sups]
        res["supervisor Private_Dirty (kB)"] = [statistics.mean(m[0] for m in mems)]
        res["supervisor Pss (kB)"] = [statistics.mean(m[1] for m in mems)]

        svc_bin = os.path.join(bindir, "s6-svc")
        target = svcs[0]
        down, up = [], []
        for _ in range(rounds):
            t = time.monotonic()
            # Bounded by s6-svc's own -T: a Python timeout would poll the child with sleeps
            # and quantise the very latency being measured.
            subprocess.run([svc_bin, "-T", "30000", "-wd", "-d", target], env=env, check=True)
            down.append((time.monotonic() - t) * 1000)
            time.sleep(1.05)  # outside the timing: s6-supervise paces starts 1 s apart
            t = time.monotonic()
            subprocess.run([svc_bin, "-T", "30000", "-wu", "-u", target], env=env, check=True)
            up.append((time.monotonic() - t) * 1000)
        res["s6-svc -wd -d (ms)"] = down
        res["s6-svc -wu -u (ms)"] = up

        pids = set(sups)
        for s in svcs:
            p = status_pid(s)
            if p:
                pids.add(p)
        t = time.monotonic()
        subprocess.run([os.path.join(bindir, "s6-svscanctl"), "-t", scan], env=env, check=True,
                       timeout=30)
        # A blocking wait, bounded by an alarm: wait(timeout=...) polls with growing sleeps
        # and would quantise the teardown time.
        signal.alarm(60)
        svscan.wait()
        signal.alarm(0)
        wait_for(lambda: not any(os.path.exists(f"/proc/{p}") and not is_zombie(p) for p in pids),
                 60, "all processes gone")
        res["teardown (ms)"] = [(time.monotonic() - t) * 1000]
        svscan = None
    finally:
        if svscan is not None:
            kill_tree(svscan, svcs)
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def default_base():
    """A tmpfs when there is one: scan directories live on tmpfs in real systems (/run), and
    on a disk filesystem the inode allocations of 100 new supervise/ and event/ directories
    (the same for both implementations) dominate the start-up window."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return "/dev/shm"
    return tempfile.gettempdir()


def is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def kill_tree(svscan, svcs):
    pids = [status_pid(s) for s in svcs] + children(svscan.pid) + [svscan.pid]
    for p in pids:
        if p:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
    svscan.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3, help="control round trips per tree")
    ap.add_argument("--trees", type=int, default=5, help="trees per implementation, alternating")
    ap.add_argument("--dir", default=default_base(), help="where the scan directories go")
    a = ap.parse_args()
    for b in ("s6-svscan", "s6-supervise", "s6-svc", "s6-svscanctl", "s6-svlisten", "s6-svwait"):
        for d in (OURS, REAL):
            if not os.access(os.path.join(d, b), os.X_OK):
                sys.exit(f"bench: missing {os.path.join(d, b)} (cargo build --release; apt-get install s6)")
    samples = {"real": {}, "ours": {}}
    # Alternating trees, so that machine noise hits both implementations alike.
    for _ in range(a.trees):
        for impl, bindir in (("real", REAL), ("ours", OURS)):
            for k, v in bench(impl, bindir, a.services, a.rounds, a.dir).items():
                samples[impl].setdefault(k, []).extend(v)
    real = {k: statistics.median(v) for k, v in samples["real"].items()}
    ours = {k: statistics.median(v) for k, v in samples["ours"].items()}
    print(f"supervision tree, {a.services} services in {a.dir}, {a.trees} trees each, "
          f"{a.rounds} control rounds per tree, medians")
    print(f"{'metric':34} {'real s6':>10} {'s6-rs':>10} {'ratio':>7}")
    for k in real:
        r, o = real[k], ours[k]
        ratio = o / r if r else float("nan")
        print(f"{k:34} {r:10.1f} {o:10.1f} {ratio:7.2f}x")


if __name__ == "__main__":
    main()
