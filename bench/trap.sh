#!/usr/bin/env bash
# Trap benchmark (issue: the spam trap) through the real product path:
# `spamtrace trap` into the SQLite store with Durability::Machine (fsync per
# group commit), loaded by Postfix's smtp-source with 4 KB messages at 1, 8
# and 64 concurrent sessions. Prints accepted messages/s for each.
# Usage: bench/trap.sh [MESSAGES_PER_RUN]   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin
command -v smtp-source >/dev/null || { echo "needs smtp-source (apt-get install postfix)"; exit 1; }
cargo build --release -q -p spamtrace
work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
./target/release/spamtrace --data "$work/store" trap --listen "127.0.0.1:$port" --no-tls 2>"$work/trap.log" &
pid=$!
for _ in $(seq 50); do grep -q "listening" "$work/trap.log" && break; sleep 0.1; done
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $n messages of 4 KB per run"
for s in 1 8 64; do
  before=$(./target/release/spamtrace --data "$work/store" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sightings"])')
  start=$(date +%s.%N)
  smtp-source -s "$s" -m "$n" -l 4096 -f bench@load.example -t trap@trap.example "127.0.0.1:$port"
  end=$(date +%s.%N)
  after=$(./target/release/spamtrace --data "$work/store" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sightings"])')
  python3 -c "import sys; n=$after-$before; t=$end-$start; print(f'sessions {$s:>3}: {n} stored in {t:.2f} s = {n/t:,.0f} messages/s')"
done
