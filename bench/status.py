#!/usr/bin/env python3
"""`s6-rs status` on a big tree: N services (default 1,000) each running `sleep`, supervised
by our s6-svscan, every one up. Times (median of K runs, output to /dev/null):

  * `s6-rs status DIR` (the table), `--json` and `--prometheus`;
  * what it replaces: a shell loop running real s6-svstat on every service (one run).

The target is under 0.1 s for the table on 1,000 services; the script prints whether it
was met.

Usage: bench/status.py [--services N] [--rounds K] [--dir DIR]
Needs `cargo build --release --bins` (run.sh does it) and real s6 at /usr/bin for the
comparison. Only processes this script starts are stopped, by PID.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from supervise_tree import OURS, REAL, default_base, kill_tree, status_pid, wait_for  # noqa: E402

TARGET = 0.1


def timed(argv, rounds, shell=False):
    runs = []
    for _ in range(rounds):
        t = time.monotonic()
        subprocess.run(argv, stdout=subprocess.DEVNULL, shell=shell, check=False)
        runs.append(time.monotonic() - t)
    return statistics.median(runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--dir", default=default_base(), help="where the scan directory goes")
    a = ap.parse_args()
    s6rs = os.path.join(OURS, "s6-rs")
    for p in (s6rs, os.path.join(OURS, "s6-svscan")):
        if not os.access(p, os.X_OK):
            sys.exit(f"bench: {p} missing: cargo build --release --bins")
    base = tempfile.mkdtemp(prefix="s6rs-bench-status-", dir=a.dir)
    scan = os.path.join(base, "scan")
    svcs = []
    for i in range(a.services):
        d = os.path.join(scan, f"svc{i:04}")
        os.makedirs(d)
        with open(os.path.join(d, "run"), "w") as f:
            f.write("#!/bin/sh\nexec sleep 100000\n")
        os.chmod(os.path.join(d, "run"), 0o755)
        svcs.append(d)
    svscan = subprocess.Popen(
        [os.path.join(OURS, "s6-svscan"), scan], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: all(status_pid(s) for s in svcs), 120, "every service up", step=0.05)
        # Warm the page cache and the binary.
        subprocess.run([s6rs, "status", scan], stdout=subprocess.DEVNULL, check=False)
        out = subprocess.run([s6rs, "status", scan], capture_output=True, text=True, check=False).stdout
        rows = len(out.splitlines()) - 1
        assert rows == a.services, f"{rows} rows for {a.services} services"
        table = timed([s6rs, "status", scan], a.rounds)
        js = timed([s6rs, "status", "--json", scan], a.rounds)
        prom = timed([s6rs, "status", "--prometheus", scan], a.rounds)
        print(f"s6-rs status, {a.services} services, median of {a.rounds}:")
        print(f"  table       {table * 1000:7.1f} ms  (target < {TARGET * 1000:.0f} ms: "
              f"{'met' if table < TARGET else 'NOT met'})")
        print(f"  --json      {js * 1000:7.1f} ms")
        print(f"  --prometheus{prom * 1000:7.1f} ms")
        if os.access(os.path.join(REAL, "s6-svstat"), os.X_OK):
            loop = f'for d in "{scan}"/*; do {REAL}/s6-svstat "$d"; done'
            sh = timed(loop, 1, shell=True)
            print(f"  shell loop over real s6-svstat: {sh * 1000:.1f} ms ({sh / table:.0f}x the table)")
    finally:
        kill_tree(svscan, svcs)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
