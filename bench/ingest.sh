#!/usr/bin/env bash
# Ingest benchmark (issue: foundation). Replays the SpamAssassin corpus to at
# least 100,000 distinct messages (each copy gets an `X-Replay: N` header so
# it is a new message, not a duplicate) and measures:
#   1. parse+extract messages/s on one core (spamtrace-mail's analyze_dir example),
#   2. end-to-end `spamtrace ingest` messages/s on all cores into a fresh store,
#      with peak memory (GNU time),
#   3. a re-ingest of the same mbox (every message a known duplicate).
# Usage: bench/ingest.sh [MIN_MESSAGES]   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
min=${1:-100000}
corpus=../shared/corpora/spamassassin
[ -d "$corpus" ] || { echo "needs $corpus"; exit 1; }
cargo build --release -q -p spamtrace -p spamtrace-mail --examples --bins
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 - "$corpus" "$min" "$work/replay.mbox" <<'PY'
import os, sys
corpus, want, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
files = []
for d, _, fs in os.walk(corpus):
    for f in sorted(fs):
        if f != "index" and not f.startswith("cmds"):
            files.append(os.path.join(d, f))
files.sort()
msgs = [open(f, "rb").read() for f in files]
n = 0
with open(out, "wb") as o:
    while n < want:
        for m in msgs:
            body = m.replace(b"\n>From ", b"\n>>From ").replace(b"\nFrom ", b"\n>From ")
            o.write(b"From replay@bench Thu Mar 17 00:00:00 2011\n")
            o.write(b"X-Replay: %d\n" % n)
            o.write(body)
            if not body.endswith(b"\n"):
                o.write(b"\n")
            o.write(b"\n")
            n += 1
print(f"replayed {n} messages, {os.path.getsize(out)/1e6:.0f} MB", file=sys.stderr)
PY
rounds=$(( (min + 6046) / 6047 ))
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1. parse+extract, one core, $rounds rounds of the corpus"
./target/release/examples/analyze_dir "$corpus" "$rounds"
echo "== 2. end-to-end ingest, all cores, fresh store"
/usr/bin/time -f "peak RSS %M KB, wall %e s, cpu %P" ./target/release/spamtrace --data "$work/store" ingest "$work/replay.mbox"
echo "== 3. re-ingest (all duplicates)"
/usr/bin/time -f "peak RSS %M KB, wall %e s, cpu %P" ./target/release/spamtrace --data "$work/store" ingest "$work/replay.mbox"
