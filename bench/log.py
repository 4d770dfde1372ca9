#!/usr/bin/env python3
"""Side-by-side benchmark of s6-log: s6-rs against real s6 in the same run.

Input: N lines of about 100 bytes (default 500000, ~50 MB), about one in six at level ERROR
or WARN, written once to a file and piped into each logger by `cat`. Scenarios:
  (a) s6-log t s5000000 n10 DIR                          (TAI64N stamps)
  (b) s6-log - +level=(ERROR|WARN) t s5000000 n10 DIR    (a regex selection, then stamps)
  (c) s6-log s5000000 n10 DIR                            (no stamp)
For each: wall time from start to exit (median of --rounds runs), lines/s, MB/s of input,
and the logger's max RSS (wait4). Prints ours/real throughput ratios (higher is better) and
checks that both wrote the same lines.

Usage: bench/log.py [--lines N] [--rounds K] [--dir PARENT]
The logdirs go in a fresh directory under PARENT (default: the system temp dir); use a
tmpfs (e.g. /dev/shm) to take disk flushes out of the figures. Needs real s6 at /usr/bin and
`cargo build --release` (run.sh does both). Only processes this script starts are waited for.
"""

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(REPO, "target", "release", "s6-log")
REAL = "/usr/bin/s6-log"

SCENARIOS = [
    ("(a) t", ["t", "s5000000", "n10"]),
    ("(b) - +level=(ERROR|WARN) t", ["-", "+level=(ERROR|WARN)", "t", "s5000000", "n10"]),
    ("(c) no stamp", ["s5000000", "n10"]),
]


def make_input(path, n):
    rng = random.Random(1)
    levels = ["INFO"] * 8 + ["DEBUG", "ERROR", "WARN"]
    with open(path, "w") as f:
        for i in range(n):
            line = (f"2024-01-01T00:00:{i % 60:02d}.{i % 1000000:06d} level={rng.choice(levels)} "
                    f"component=server msg=\"request handled\" id={i} path=/api/v1/items")
            f.write((line + " " * 100)[:99] + "\n")


def run_once(binary, script, infile, logdir):
    """Runs one logger; returns (seconds, peak RSS in kB).

    The peak is VmHWM sampled from /proc while it runs: wait4's ru_maxrss would count the
    forking Python process's own peak, which Linux carries across exec."""
    shutil.rmtree(logdir, ignore_errors=True)
    t0 = time.monotonic()
    cat = subprocess.Popen(["cat", infile], stdout=subprocess.PIPE)
    log = subprocess.Popen([binary] + script + [logdir], stdin=cat.stdout,
                           stdout=subprocess.DEVNULL)
    cat.stdout.close()
    hwm = 0
    while log.poll() is None:
        try:
            with open(f"/proc/{log.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.001)
    elapsed = time.monotonic() - t0
    cat.wait()
    if log.returncode != 0:
        sys.exit(f"bench: {binary} {' '.join(script)} exited {log.returncode}")
    return elapsed, hwm


def logged(logdir, strip_stamp):
    names = sorted(n for n in os.listdir(logdir) if n.startswith("@"))
    data = b"".join(open(os.path.join(logdir, n), "rb").read() for n in names + ["current"])
    if strip_stamp:
        data = b"".join(l[26:] for l in data.splitlines(keepends=True))
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=500000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default=None)
    a = ap.parse_args()
    for b in (OURS, REAL):
        if not os.access(b, os.X_OK):
            sys.exit(f"bench: missing {b} (cargo build --release; apt-get install s6)")
    tmp = tempfile.mkdtemp(prefix="s6rs-bench-log-", dir=a.dir)
    try:
        infile = os.path.join(tmp, "input")
        make_input(infile, a.lines)
        size = os.path.getsize(infile)
        with open(infile, "rb") as f:
            everything = f.read()
        selected = b"".join(l for l in everything.splitlines(keepends=True)
                            if re.search(rb"level=(ERROR|WARN)", l))
        print(f"s6-log, {a.lines} lines, {size / 1e6:.1f} MB of input, median of {a.rounds} runs, "
              f"logdirs in {tmp}")
        print(f"{'scenario':32} {'impl':6} {'time s':>8} {'lines/s':>11} {'MB/s':>8} {'maxRSS kB':>10}")
        ratios = []
        for name, script in SCENARIOS:
            res = {}
            for impl, binary in (("real", REAL), ("s6-rs", OURS)):
                logdir = os.path.join(tmp, impl)
                runs = [run_once(binary, script, infile, logdir) for _ in range(a.rounds)]
                t = statistics.median(r[0] for r in runs)
                rss = max(r[1] for r in runs)
                res[impl] = (t, rss, logged(logdir, "t" in script))
                print(f"{name:32} {impl:6} {t:8.3f} {a.lines / t:11.0f} {size / t / 1e6:8.1f} {rss:10d}",
                      flush=True)
            # n10 keeps the newest archives only, and where each logger cut them depends on
            # its reads: both must hold a long tail of exactly the lines expected.
            expect = selected if "-" in script else everything
            for impl in res:
                got = res[impl][2]
                if not (len(got) > len(expect) // 2 and expect.endswith(got)):
                    sys.exit(f"bench: {name}: {impl} did not log the expected lines")
            ratios.append((name, res["real"][0] / res["s6-rs"][0], res["s6-rs"][1] / res["real"][1]))
        print()
        print(f"{'scenario':32} {'throughput ours/real':>21} {'maxRSS ours/real':>17}")
        for name, speed, mem in ratios:
            print(f"{name:32} {speed:20.2f}x {mem:16.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
