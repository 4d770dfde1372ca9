#!/bin/sh
# Runs every benchmark, side by side with real s6 (Debian's package) in the same run.
# Benchmarks are never part of the test suite.
set -eu
cd "$(dirname "$0")/.."
[ -x /usr/bin/s6-svscan ] || { echo "bench: install real s6 first: apt-get install s6 execline" >&2; exit 100; }
cargo build --release --bins
cargo build --release --examples
sync
python3 bench/supervise_tree.py "$@"
python3 bench/runhelpers.py
python3 bench/log.py
python3 bench/ipc.py
python3 bench/access_cdb.py
python3 bench/sudo.py
python3 bench/fdholder.py
python3 bench/status.py
