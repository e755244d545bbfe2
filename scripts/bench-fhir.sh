#!/usr/bin/env bash
# FHIR read API and export at scale (issue 5): searches must be indexed SQL at 100,000 patients.
#
#   scripts/bench-fhir.sh                 # SQLite file, N=100000, release build
#   N=10000 REPEAT=10 scripts/bench-fhir.sh
#
# Builds the release binary (SKIP_BUILD=1 to reuse it), generates N synthetic patients into a
# fresh SQLite file (SKIP_GENERATE=1 reuses $OUT/fhir.sqlite), starts `calcitrack serve --no-demo`,
# adds a clinician of site SYNTH with a bearer token, then times each request REPEAT times, one at
# a time (after one warm-up), and prints p50/p95/max; then times `calcitrack export` (ndjson,
# whole registry; SKIP_EXPORT=1 skips it) with its peak RSS. Results go to $OUT/results.md.
# BIN=.build/debug/calcitrack SKIP_BUILD=1 measures a debug build (upper bounds).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-100000}"; REPEAT="${REPEAT:-20}"; PORT="${PORT:-8097}"; OUT="${OUT:-artifacts/bench-fhir}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
BIN="${BIN:-.build/release/calcitrack}"
[ "${SKIP_BUILD:-0}" = 1 ] || swift build -c release --product calcitrack
DB="$OUT/fhir.sqlite"
if [ "${SKIP_GENERATE:-0}" != 1 ]; then
  rm -f "$DB" "$DB-wal" "$DB-shm"
  "$BIN" generate --patients "$N" --seed 1 --database "$DB" | tail -2
fi
"$BIN" serve --no-demo --port "$PORT" --database "$DB" > "$OUT/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
echo "bench pass long enough" | "$BIN" user add fhirbench$$ --role clinician --site SYNTH --password-stdin --database "$DB" >/dev/null
TOKEN=$("$BIN" token issue fhirbench$$ --database "$DB")
PID=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/fhir/Patient?_count=1&_offset=5000" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entry"][0]["resource"]["id"])')
python3 - "$PORT" "$TOKEN" "$PID" "$REPEAT" "$OUT/results.md" "$N" "$BIN" <<'PY'
import json, statistics, sys, time, urllib.request
port, token, pid, repeat, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
base = f"http://127.0.0.1:{port}/fhir"
queries = [
    ("read Patient", f"/Patient/{pid}"),
    ("Patient/$everything", f"/Patient/{pid}/$everything"),
    ("Observation?patient", f"/Observation?patient={pid}"),
    ("Observation?patient&code&date&_include", f"/Observation?patient={pid}&code=http://loinc.org|72287-6&date=ge2020-01-01&_include=Observation:focus"),
    ("Condition?patient", f"/Condition?patient={pid}"),
    ("Observation?code (type-level, page 1)", "/Observation?code=http://loinc.org|2000-8&_count=50"),
    ("Observation?date=eq day (type-level)", "/Observation?date=eq2025-06-15&_count=50"),
    ("Condition?code=cellulitis (type-level)", "/Condition?code=http://snomed.info/sct|128045006&_count=50"),
    ("MedicationStatement?code=warfarin (type-level)", "/MedicationStatement?code=http://www.nlm.nih.gov/research/umls/rxnorm|11289&_count=50"),
    ("Patient?_count=50 (type-level)", "/Patient?_count=50"),
    ("Encounter?date=ge month, -date (type-level)", "/Encounter?date=ge2026-10&_sort=-date&_count=50"),
]
rows = []
for name, path in queries:
    times = []
    total = None
    for i in range(repeat + 1):
        req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=300) as r:
            body = json.loads(r.read())
        dt = (time.perf_counter() - t0) * 1000
        total = body.get("total")
        if i > 0:
            times.append(dt)
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    rows.append((name, total, statistics.median(times), p95, times[-1]))
lines = [f"FHIR reads at {n} patients (SQLite, {sys.argv[7]}, one request at a time, {repeat} runs after a warm-up)", "",
         "| request | total | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|"]
lines += [f"| {n} | {t} | {a:.1f} | {b:.1f} | {c:.1f} |" for n, t, a, b, c in rows]
print("\n".join(lines))
open(out, "w").write("\n".join(lines) + "\n")
PY
kill $server; wait $server 2>/dev/null || true
[ "${SKIP_EXPORT:-0}" = 1 ] && exit 0
rm -rf "$OUT/export"
/usr/bin/time -v "$BIN" export --format ndjson --database "$DB" "$OUT/export" 2> "$OUT/export-time.txt" | tail -1
grep -E "Elapsed|Maximum resident" "$OUT/export-time.txt" | tee -a "$OUT/results.md"
du -sh "$OUT/export" | tee -a "$OUT/results.md"
