#!/usr/bin/env bash
# Import throughput of `calcitrack import` (issue 5), release build, into SQLite and PostgreSQL.
# Data: `calcitrack generate --patients N` (default 4000, about 27 resources a patient: 100,000+
# resources) exported with `calcitrack export --format ndjson`, imported into an empty registry
# (site SYNTH added first). Every resource is one the registry stores (nothing "not stored"), so
# the rate counts real writes: records, history rows, ledger rows, audit entries, summaries.
# Results (summary JSON and progress lines) go to artifacts/bench-import/; copy the numbers to
# BENCHMARKS.md. The binary links jemalloc when Debian's libjemalloc-dev is installed (each run
# prints which allocator it used; BENCHMARKS.md "Memory allocator"). Env: PATIENTS, SKIP_BUILD=1 (use the existing release binary), BIN (another binary,
# e.g. an older build for a before/after comparison), NO_POSTGRES=1.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=.build-release
[ -n "${SKIP_BUILD:-}" ] || nice swift build -c release --scratch-path "$SCRATCH" --product calcitrack
BIN="${BIN:-$SCRATCH/release/calcitrack}"
N="${PATIENTS:-4000}"
OUT=artifacts/bench-import
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BIN" generate --patients "$N" --seed 21 --as-of 2026-11-20 --database "$tmp/source.sqlite" > "$OUT/generate.log"
"$BIN" export --format ndjson --database "$tmp/source.sqlite" "$tmp/ndjson" | tee "$OUT/export.log"
resources=$(cat "$tmp"/ndjson/*.ndjson | wc -l)
echo "== $resources resources from $N patients; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

run() { # label database
  "$BIN" site add SYNTH "Synthetic patients" --database "$2" > /dev/null
  local start end
  start=$(date +%s.%N)
  # CPU seconds next to the rate: on a shared machine they say more than the wall clock.
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "$1: CPU user %U s, system %S s (wall %e s)" -o "$OUT/$1.time")
  rm -f "$OUT/$1.time"
  # Progress lines go to stderr, the summary to stdout: both into the log.
  "${timer[@]}" "$BIN" import "$tmp/ndjson" --database "$2" --progress lines --report "$OUT/$1.json" > "$OUT/$1.log" 2>&1
  end=$(date +%s.%N)
  python3 - "$OUT/$1.json" "$1" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
wall = float(sys.argv[4]) - float(sys.argv[3])
print(f"{sys.argv[2]}: {r['resources']} resources in {r['seconds']:.1f} s = {r['resourcesPerSecond']:.0f} resources/s "
      f"(process wall {wall:.1f} s incl. start and migrations); created {r['created']}, updated {r['updated']}, rejected {len(r['rejected'])}")
PY
  [ -f "$OUT/$1.time" ] && cat "$OUT/$1.time"
  # jemalloc or glibc's malloc (Package.swift: jemalloc when libjemalloc-dev was installed at build time).
  grep -m1 "memory allocator" "$OUT/$1.log" || true
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$BIN" audit verify --database "$2"
}
run sqlite "$tmp/target.sqlite"
if [ -z "${NO_POSTGRES:-}" ]; then
  URL=$(scripts/postgres-setup.sh calcitrack_bench_import | tail -1)
  run postgres "$URL"
fi
