#!/bin/sh
# Builds s6-rs and runs the demo supervision tree in the foreground with our s6-svscan.
#   examples/demo.sh [RUNDIR]        (default: ${TMPDIR:-/tmp}/s6rs-demo)
# The example scan directory is copied to RUNDIR/service (supervisors write supervise/ and
# event/ into service directories, so the repository copy stays clean); logs go to
# RUNDIR/logs. Stop with Ctrl-C, or from another shell:
#   target/release/s6-svscanctl -t RUNDIR/service
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
run=${1:-${TMPDIR:-/tmp}/s6rs-demo}
case $run in /*) ;; *) run="$(pwd)/$run" ;; esac
# Cargo reads .cargo/config.toml (the musl target) from the current directory.
cd "$repo"
rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 || true
cargo build --release --bins
bin="$repo/target/release"
rm -rf "$run"
mkdir -p "$run/logs"
cp -R "$repo/examples/scandir" "$run/service"
S6RS_DEMO_LOGS="$run/logs"
S6RS_DEMO_RUN="$run"
PATH="$bin:$PATH"
export S6RS_DEMO_LOGS S6RS_DEMO_RUN PATH
echo "s6-rs demo: scan directory $run/service, logs in $run/logs"
echo "  inspect:  $bin/s6-svstat $run/service/ticker"
echo "  talk:     $bin/s6-ipcclient $run/greeter.sock sh -c 'cat <&6'"
echo "  sudo:     $bin/s6-setuidgid nobody $bin/s6-sudo $run/ticker-sudo.sock   (restarts the ticker)"
echo "  stop:     $bin/s6-svscanctl -t $run/service   (or Ctrl-C)"
exec "$bin/s6-svscan" "$run/service"
