#!/usr/bin/env bash
# Registry scale benchmark (issue: p95 <= 50 ms at 100,000 patients, server RSS <= 300 MB).
#
#   scripts/bench-registry.sh                      # SQLite file, N=100000
#   N=10000 DURATION=10s scripts/bench-registry.sh # quick run
#   DATABASE_URL=postgres://calcitrack:calcitrack@127.0.0.1:5432/calcitrack_bench scripts/bench-registry.sh
#
# Builds the release binary, creates a FRESH database (SQLite: a new file under $OUT;
# PostgreSQL: drops and recreates the schema `public` of a database whose name contains "bench",
# or any database with BENCH_FORCE=1), runs `calcitrack generate --patients $N`, starts
# `calcitrack serve --no-demo`, adds a clinician of site SYNTH with a bearer token, and runs wrk
# (CONNECTIONS connections, THREADS threads, DURATION each, after a WARMUP run) against:
#   health      GET /health                                   (bare route: SELECT 1, no auth, no audit)
#   overdue     GET /api/v1/patients?followUp=overdue&limit=50
#   infection   GET /api/v1/patients?activeInfection=true&limit=50
#   uncached    GET /api/v1/patients?followUp=overdue&limit=1..50&offset=0..450 (mostly pages not in WorklistCache)
#   assessment  GET /api/v1/patients/{id}/assessment         (random id of IDS_COUNT patients per request)
# Prints and writes $OUT/results-<db>.md: req/s, p50/p90/p95/p99, errors, server RSS (VmHWM,
# VmRSS), generation time and peak RSS, database size, and `audit verify`.
#
# Environment: N (100000), SEED (1), DURATION (25s), WARMUP (5s), CONNECTIONS (16), THREADS (2),
# WRK_TIMEOUT (30s: a slower request counts as a timeout, not a latency), PORT (8099), IDS_COUNT (20000), SCRATCH (swift build scratch path, default .build), OUT
# (artifacts/bench-registry), SKIP_BUILD=1, SKIP_GENERATE=1 (reuse the database of the last run).
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-100000}"; SEED="${SEED:-1}"; DURATION="${DURATION:-25s}"; WARMUP="${WARMUP:-5s}"
CONNECTIONS="${CONNECTIONS:-16}"; THREADS="${THREADS:-2}"; WRK_TIMEOUT="${WRK_TIMEOUT:-30s}"; PORT="${PORT:-8099}"; IDS_COUNT="${IDS_COUNT:-20000}"
SCRATCH="${SCRATCH:-.build}"; OUT="${OUT:-artifacts/bench-registry}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk"
  (apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; })
fi

# --- build -------------------------------------------------------------------------------------
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "swift build -c release --scratch-path $SCRATCH"
  swift build -c release --scratch-path "$SCRATCH" --product calcitrack 2>&1 | tail -3 >&2
fi
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/calcitrack"
[[ -x "$BIN" ]] || { log "no binary at $BIN"; exit 1; }

# --- fresh database ----------------------------------------------------------------------------
if [[ -n "${DATABASE_URL:-}" ]]; then
  KIND=postgresql
  DB="$DATABASE_URL"
  DBNAME="${DB##*/}"; DBNAME="${DBNAME%%\?*}"
  sizeof() { psql "$DB" -Atc "SELECT pg_database_size(current_database())"; }
  query() { psql "$DB" -Atc "$1"; }
  if [[ "${SKIP_GENERATE:-0}" != 1 ]]; then
    if [[ "$DBNAME" != *bench* && "${BENCH_FORCE:-0}" != 1 ]]; then
      log "refusing to wipe database '$DBNAME' (name lacks 'bench'; set BENCH_FORCE=1)"; exit 1
    fi
    log "wiping schema public of $DBNAME"
    psql "$DB" -q -v ON_ERROR_STOP=1 -c "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;" >&2
  fi
else
  KIND=sqlite
  DB="$OUT/bench.sqlite"
  sizeof() { local total=0 f; for f in "$DB" "$DB-wal" "$DB-shm"; do [[ -f "$f" ]] && total=$((total + $(stat -c %s "$f"))); done; echo "$total"; }
  query() { sqlite3 "$DB" "$1"; }
  [[ "${SKIP_GENERATE:-0}" == 1 ]] || rm -f "$DB" "$DB-wal" "$DB-shm"
fi
RESULTS="$OUT/results-$KIND.md"

# --- generate ----------------------------------------------------------------------------------
GEN_SECONDS="(reused)"; GEN_RSS_KB="-"
if [[ "${SKIP_GENERATE:-0}" != 1 ]]; then
  log "generate --patients $N ($KIND)"
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$OUT/generate-$KIND.rss" "$BIN" generate --patients "$N" --seed "$SEED" --database "$DB" | tee "$OUT/generate-$KIND.log" >&2
  GEN_SECONDS=$(echo "$(date +%s.%N) - $start" | bc); GEN_SECONDS=$(printf '%.1f' "$GEN_SECONDS")
  GEN_RSS_KB=$(tail -1 "$OUT/generate-$KIND.rss")
  if [[ "$KIND" == sqlite ]]; then sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null; fi
  if [[ "$KIND" == postgresql ]]; then psql "$DB" -qc "VACUUM ANALYZE" >&2; fi
fi
DB_BYTES=$(sizeof)
PATIENTS=$(query "SELECT count(*) FROM patients")

# --- user, token, ids --------------------------------------------------------------------------
if ! "$BIN" user list --database "$DB" | grep -q '^bench'; then
  echo "bench-password-$RANDOM$RANDOM" | "$BIN" user add bench --role clinician --site SYNTH --password-stdin --database "$DB" >&2
fi
TOKEN=$("$BIN" token issue bench --label "bench $(date +%s)" --database "$DB")
query "SELECT id FROM patients WHERE site_id = (SELECT id FROM sites WHERE code = 'SYNTH') ORDER BY random() LIMIT $IDS_COUNT" \
  | tr 'A-Z' 'a-z' > "$OUT/ids.txt"
log "$(wc -l < "$OUT/ids.txt") patient ids for the assessment run"

# --- wrk scripts -------------------------------------------------------------------------------
cat > "$OUT/report.lua" <<'LUA'
-- Appended to every wrk script: one machine-readable line with the percentiles wrk does not print.
done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.1f p50=%.2f p90=%.2f p95=%.2f p99=%.2f max=%.2f mean=%.2f requests=%d non2xx=%d sockerr=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000, summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout))
end
LUA
cp "$OUT/report.lua" "$OUT/plain.lua"
cat > "$OUT/assessment.lua" <<LUA
-- A different patient on every request: ids from ids.txt, random order per thread.
local ids = {}
for line in io.lines("$OUT/ids.txt") do ids[#ids + 1] = line end
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args) math.randomseed(os.time() + (seed or 0) * 7919) end
request = function()
  return wrk.format("GET", "/api/v1/patients/" .. ids[math.random(#ids)] .. "/assessment")
end
LUA
cat "$OUT/report.lua" >> "$OUT/assessment.lua"
cat > "$OUT/worklist-uncached.lua" <<LUA
-- The overdue worklist with a page size of 1-50 and one of its first ten pages, so that most
-- pages are built afresh (WorklistCache keeps up to 256 pages; there are 500 of these).
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args) math.randomseed(os.time() + (seed or 0) * 7919) end
request = function()
  return wrk.format("GET", "/api/v1/patients?followUp=overdue&limit=" .. math.random(1, 50) .. "&offset=" .. 50 * math.random(0, 9))
end
LUA
cat "$OUT/report.lua" >> "$OUT/worklist-uncached.lua"

# --- server ------------------------------------------------------------------------------------
log "serve --no-demo on port $PORT"
"$BIN" serve --no-demo --port "$PORT" --database "$DB" > "$OUT/server-$KIND.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { log "server did not start"; tail "$OUT/server-$KIND.log" >&2; exit 1; }
RSS_IDLE=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
BASE="http://127.0.0.1:$PORT"
AUTH="Authorization: Bearer $TOKEN"
# Sanity: each endpoint answers 200 before it is measured.
for path in "/api/v1/patients?followUp=overdue&limit=50" "/api/v1/patients?activeInfection=true&limit=50" \
            "/api/v1/patients/$(head -1 "$OUT/ids.txt")/assessment"; do
  code=$(curl -s -o "$OUT/sample.json" -w '%{http_code}' -H "$AUTH" "$BASE$path")
  [[ "$code" == 200 ]] || { log "GET $path -> $code: $(head -c 300 "$OUT/sample.json")"; exit 1; }
done
OVERDUE_TOTAL=$(curl -s -H "$AUTH" "$BASE/api/v1/patients?followUp=overdue&limit=1" | jq .total)
INFECTION_TOTAL=$(curl -s -H "$AUTH" "$BASE/api/v1/patients?activeInfection=true&limit=1" | jq .total)

declare -A RES
run() { # name path script [auth]
  local name=$1 path=$2 script=$3 header=()
  [[ "${4:-}" == auth ]] && header=(-H "$AUTH")
  log "wrk $name: warm-up $WARMUP, then $DURATION"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --timeout "$WRK_TIMEOUT" "${header[@]}" -s "$script" "$BASE$path" > /dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency "${header[@]}" -s "$script" "$BASE$path" | tee "$OUT/wrk-$KIND-$name.txt" >&2
  RES[$name]=$(grep '^RESULT' "$OUT/wrk-$KIND-$name.txt" | sed 's/^RESULT //')
}
field() { echo "${RES[$1]}" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }

run health "/health" "$OUT/plain.lua"
run overdue "/api/v1/patients?followUp=overdue&limit=50" "$OUT/plain.lua" auth
run infection "/api/v1/patients?activeInfection=true&limit=50" "$OUT/plain.lua" auth
run uncached "/" "$OUT/worklist-uncached.lua" auth
run assessment "/" "$OUT/assessment.lua" auth
RSS_HWM=$(awk '/VmHWM/ {print $2}' /proc/$SERVER/status)
RSS_NOW=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
trap - EXIT
AUDIT=$("$BIN" audit verify --database "$DB" 2>&1 || true)

# --- report ------------------------------------------------------------------------------------
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
{
  echo "### $KIND, $PATIENTS patients ($(date -u +%Y-%m-%d))"
  echo
  echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per endpoint after a $WARMUP warm-up; latencies in ms."
  echo
  echo "| endpoint | req/s | p50 | p90 | p95 | p99 | max | non-2xx | socket errors/timeouts | p95 / health p95 |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  hp95=$(field health p95)
  for name in health overdue infection uncached assessment; do
    case $name in
      health) label="GET /health (SELECT 1)";;
      overdue) label="worklist followUp=overdue&limit=50 ($OVERDUE_TOTAL match)";;
      infection) label="worklist activeInfection=true&limit=50 ($INFECTION_TOTAL match)";;
      uncached) label="worklist followUp=overdue, limit 1-50, offset 0-450 at random (most pages built afresh)";;
      assessment) label="GET /patients/{id}/assessment ($(wc -l < "$OUT/ids.txt") ids)";;
    esac
    ratio=$(awk -v a="$(field $name p95)" -v b="$hp95" 'BEGIN { if (b > 0) printf "%.1f x", a / b; else print "-" }')
    echo "| $label | $(field $name rps) | $(field $name p50) | $(field $name p90) | $(field $name p95) | $(field $name p99) | $(field $name max) | $(field $name non2xx) | $(field $name sockerr) | $ratio |"
  done
  echo
  echo "- generation: $GEN_SECONDS s wall for $N patients (peak RSS of \`generate\`: $( [[ "$GEN_RSS_KB" == - ]] && echo - || echo "$(mb "$GEN_RSS_KB") MB"))"
  echo "- database size after generation and the runs: $(awk -v b="$DB_BYTES" 'BEGIN { printf "%.0f MB", b / 1048576 }')"
  echo "- server RSS: idle after start $(mb "$RSS_IDLE") MB; after the runs VmRSS $(mb "$RSS_NOW") MB, peak VmHWM $(mb "$RSS_HWM") MB"
  echo "- audit verify after the runs: $AUDIT"
} | tee "$RESULTS"
log "results in $RESULTS"
