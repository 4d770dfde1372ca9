#!/usr/bin/env python3
"""What an access check on a cdb costs, by the size of the database: s6-rs against real s6.

Two rules files allow the benchmarking uid with the same rule: a 2 kB cdb holding only that
rule, and a 100 MB one holding it among some 200,000 other allow rules of about 500 bytes
each (written by this script in skalibs' cdbmake layout; real s6 reads it, which checks the
writer). Three servers run `s6-ipcserver` with the static handler examples/ipc_ok:

* real s6, chaining Debian's `s6-ipcserver-access -x CDB`;
* s6-rs, chaining our `s6-ipcserver-access -x CDB`;
* s6-rs, with the in-process check `--access-cdb=CDB`.

One client at a time (examples/ipc_load, 1 thread) connects and reads to EOF for a fixed
time, so the cost of one check is the time per connection (1/rate); runs alternate between
the variants and sizes so that machine noise hits all alike. Before each timed run one
connection warms the server up; for the in-process check on the 100 MB file that first
connection maps and verifies the whole file (once per version of the file), and its time is
printed apart. Prints the cost per connection for each size, the ratio 100 MB / 2 kB (1.00x:
the check does not grow with the database) and ours / real.

Usage: bench/access_cdb.py [--seconds S] [--rounds K] [--megabytes M]
Needs real s6 at /usr/bin, `cargo build --release --bins --examples` (run.sh does both).
Every process it starts is stopped by PID and waited for.
"""

import argparse
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipc  # noqa: E402  (start, stop, load and the paths, shared with the ipc bench)

OK = ipc.OK


def cdb_hash(key):
    h = 5381
    for b in key:
        h = ((h * 33) & 0xFFFFFFFF) ^ b
    return h


def write_cdb(path, records):
    """Writes `records` (key, data) as skalibs' cdbmake does: records from offset 2048, then
    256 hash tables of twice as many slots as keys, linear probing."""
    entries = []
    with open(path, "wb") as f:
        f.write(b"\0" * 2048)
        pos = 2048
        for k, d in records:
            f.write(struct.pack("<II", len(k), len(d)) + k + d)
            entries.append((cdb_hash(k), pos))
            pos += 8 + len(k) + len(d)
        buckets = [[] for _ in range(256)]
        for h, p in entries:
            buckets[h & 255].append((h, p))
        header = []
        for b in buckets:
            n = 2 * len(b)
            slots = [(0, 0)] * n
            for h, p in b:
                i = (h >> 8) % n
                while slots[i][1]:
                    i = (i + 1) % n
                slots[i] = (h, p)
            header.append(struct.pack("<II", pos, n))
            f.write(b"".join(struct.pack("<II", h, p) for h, p in slots))
            pos += 8 * n
        f.seek(0)
        f.write(b"".join(header))


def allow(env=b""):
    return b"A" + struct.pack(">H", len(env)) + env + struct.pack(">H", 0)


def make_cdbs(tmp, megabytes):
    me = f"uid/{os.getuid()}".encode()
    small = os.path.join(tmp, "small.cdb")
    write_cdb(small, [(me, allow())])
    big = os.path.join(tmp, "big.cdb")
    filler = b"X=" + b"x" * 470 + b"\0"
    n = megabytes * 1_000_000 // (8 + 10 + len(allow(filler)) + 16)

    def records():
        for i in range(n // 2):
            yield f"uid/{1_000_000 + i}".encode(), allow(filler)
        yield me, allow()
        for i in range(n // 2, n):
            yield f"uid/{1_000_000 + i}".encode(), allow(filler)

    write_cdb(big, records())
    return small, big


def variants(cdb):
    real_access = os.path.join(ipc.REAL, "s6-ipcserver-access")
    ours_access = os.path.join(ipc.OURS, "s6-ipcserver-access")
    return {
        "real s6, chained s6-ipcserver-access": ("real", ([], [real_access, "-x", cdb] + OK)),
        "s6-rs, chained s6-ipcserver-access": ("ours", ([], [ours_access, "-x", cdb] + OK)),
        "s6-rs, in-process --access-cdb": ("ours", ([f"--access-cdb={cdb}"], OK)),
    }


def one_connection(path):
    """Connects once and reads to EOF: seconds taken."""
    t0 = time.monotonic()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        data = b""
        while chunk := s.recv(64):
            data += chunk
    if data != b"ok\n":
        sys.exit(f"bench: the server on {path} refused the benchmarking uid ({data!r})")
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds per run")
    ap.add_argument("--rounds", type=int, default=5, help="runs per variant and size")
    ap.add_argument("--megabytes", type=int, default=100, help="size of the big cdb")
    a = ap.parse_args()
    servers = {"real": os.path.join(ipc.REAL, "s6-ipcserver"), "ours": os.path.join(ipc.OURS, "s6-ipcserver")}
    for f in list(servers.values()) + [ipc.LOAD, OK[0]]:
        if not os.access(f, os.X_OK):
            sys.exit(f"bench: missing {f} (cargo build --release --bins --examples; apt-get install s6)")
    tmp = tempfile.mkdtemp(prefix="s6rs-bench-cdb-")
    try:
        small, big = make_cdbs(tmp, a.megabytes)
        sizes = {"2 kB": small, f"{a.megabytes} MB": big}
        names = list(variants(small))
        cost = {(n, s): [] for n in names for s in sizes}
        first = []
        for rnd in range(a.rounds + 1):
            for size, cdb in sizes.items():
                for name, (impl, prog) in variants(cdb).items():
                    path = os.path.join(tmp, "bench.sock")
                    p = ipc.start(servers[impl], path, prog, 40)
                    try:
                        warm = one_connection(path)
                        if cdb == big and "in-process" in name and rnd:
                            first.append(warm)
                        # Round 0 only warms the page cache and the kernel's socket paths.
                        rate, _, _ = ipc.load(path, 1, a.seconds if rnd else 0.3)
                    finally:
                        ipc.stop(p)
                    if rnd:
                        cost[(name, size)].append(1e6 / rate)
        small_s, big_s = list(sizes)
        print(f"access check on a cdb, by its size: 1 client, handler examples/ipc_ok, "
              f"{a.rounds} rounds of {a.seconds}s, median time per connection")
        print(f"{'variant':38} {small_s:>10} {big_s:>10} {'big/small':>10}")
        med = {k: statistics.median(v) for k, v in cost.items()}
        for name in names:
            s, b = med[(name, small_s)], med[(name, big_s)]
            print(f"{name:38} {s:8.0f}us {b:8.0f}us {b / s:9.2f}x")
        real = names[0]
        for name in names[1:]:
            print(f"{name + ' / real':50} {small_s}: {med[(name, small_s)] / med[(real, small_s)]:.2f}x   "
                  f"{big_s}: {med[(name, big_s)] / med[(real, big_s)]:.2f}x")
        print(f"in-process, first connection after start on the {big_s} file (maps and verifies it): "
              f"{statistics.median(first) * 1000:.0f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
