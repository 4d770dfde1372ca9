#!/usr/bin/env python3
"""Side-by-side benchmark of the run-script chain-loaders: s6-rs against real s6 in the same run.

Measures runs per second of the chain a run script typically starts with:

    s6-envdir DIR s6-softlimit -o 64 s6-setsid true

Every link after the first is found through PATH, as in a run script: for s6-rs, PATH starts
with target/release (so each link is ours); for real s6, PATH=/usr/bin:/bin. Each run is
started with posix_spawn and waited for; runs of the two implementations alternate in
batches so that machine noise hits both alike. Prints runs/s for each and the ratio
ours/real (higher is better).

Usage: bench/runhelpers.py [--runs N] [--batches K]
Needs real s6 at /usr/bin (apt-get install s6) and `cargo build --release` done (run.sh does
both checks). Every process it starts is waited for.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(REPO, "target", "release")
REAL = "/usr/bin"
CHAIN = ("s6-envdir", "s6-softlimit", "s6-setsid")


def make_envdir(root):
    d = os.path.join(root, "env")
    os.mkdir(d)
    for name, value in (("PATHX", "/usr/local/bin\n"), ("LANGX", "C.UTF-8\n"), ("EMPTY", ""), ("NAME", "svc  \n")):
        with open(os.path.join(d, name), "w") as f:
            f.write(value)
    return d


def batch(bindir, path, envdir, n):
    """Runs the chain n times; returns the elapsed seconds."""
    argv = [os.path.join(bindir, "s6-envdir"), envdir, "s6-softlimit", "-o", "64", "s6-setsid", "true"]
    env = dict(os.environ, PATH=path)
    start = time.perf_counter()
    for _ in range(n):
        pid = os.posix_spawn(argv[0], argv, env)
        _, st = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(st) != 0:
            sys.exit(f"bench: {' '.join(argv)} failed with PATH={path}: status {st}")
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=300, help="runs per batch")
    ap.add_argument("--batches", type=int, default=10, help="batches per implementation")
    a = ap.parse_args()
    for b in CHAIN:
        for d in (OURS, REAL):
            if not os.access(os.path.join(d, b), os.X_OK):
                sys.exit(f"bench: missing {os.path.join(d, b)} (cargo build --release; apt-get install s6)")
    root = tempfile.mkdtemp(prefix="s6rs-bench-runhelpers-")
    try:
        envdir = make_envdir(root)
        impls = {
            "real": (REAL, "/usr/bin:/bin"),
            "ours": (OURS, f"{OURS}:/usr/bin:/bin"),
        }
        for bindir, path in impls.values():  # warm the page cache
            batch(bindir, path, envdir, 20)
        rates = {k: [] for k in impls}
        for _ in range(a.batches):
            for k, (bindir, path) in impls.items():
                rates[k].append(a.runs / batch(bindir, path, envdir, a.runs))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    real = statistics.median(rates["real"])
    ours = statistics.median(rates["ours"])
    print(f"run-script chain: s6-envdir DIR s6-softlimit -o 64 s6-setsid true "
          f"({a.batches} batches of {a.runs} runs, median)")
    print(f"{'metric':34} {'real s6':>10} {'s6-rs':>10} {'ratio':>7}")
    print(f"{'chain runs per second':34} {real:10.1f} {ours:10.1f} {ours / real:7.2f}x")


if __name__ == "__main__":
    main()
