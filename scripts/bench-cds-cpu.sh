#!/usr/bin/env bash
# Server CPU per CDS Hooks call: robust on a shared machine, where latency percentiles are not.
#
#   scripts/bench-cds-cpu.sh OLD_BINARY NEW_BINARY [...]     # alternates the binaries, ROUNDS times
#
# For each round, route and binary: a fresh `calcitrack serve` (fresh SQLite file, demo patients,
# caller authentication on), a short warm-up, then one wrk run (DURATION, CONNECTIONS); the server's
# utime+stime from /proc/<pid>/stat over the run ÷ requests answered = ms of CPU per request.
# Routes: es384 and rs384 (patient-view with the seed-1 admission prefetch, a fresh token per
# request, as scripts/bench-cds.sh), health (GET /health). The keys, issuer file, tokens and body
# are made once by scripts/bench-cds.sh's code (OUT/…) and reused, so every binary gets the same
# tokens (the replay cache lives in the server process, and each run has its own process).
#
# Environment: DURATION (10s), CONNECTIONS (32), THREADS (2), ROUNDS (2), ROUTES ("es384 rs384 health"),
# PORT (8098), TOKENS (per thread, 20000), OUT (artifacts/bench-cds-cpu; delete it for fresh tokens: they
# expire after an hour).
set -euo pipefail
cd "$(dirname "$0")/.."
(($# >= 1)) || { echo "usage: $0 BINARY [BINARY...]" >&2; exit 2; }
DURATION="${DURATION:-10s}"; CONNECTIONS="${CONNECTIONS:-32}"; THREADS="${THREADS:-2}"; ROUNDS="${ROUNDS:-2}"
ROUTES="${ROUTES:-es384 rs384 health}"; PORT="${PORT:-8098}"; OUT="${OUT:-artifacts/bench-cds-cpu}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
log() { printf '[bench-cds-cpu %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
BASE="http://127.0.0.1:$PORT"

# Tokens, issuer file, body and wrk scripts: scripts/bench-cds.sh's, made without serving or measuring.
if [[ ! -f "$OUT/patient-view.lua" ]]; then
  log "making keys, tokens and the request body (scripts/bench-cds.sh setup)"
  sed -n '/^rm -f "\$OUT"/,/^# --- serve/p' scripts/bench-cds.sh > "$OUT/setup.sh"
  PORT="$PORT" OUT="$OUT" THREADS="$THREADS" TOKENS="${TOKENS:-20000}" BASE="$BASE" AUD="$BASE/cds-services/calcinosis-assessment" \
    bash -c 'set -euo pipefail; log() { :; }; '"$(cat "$OUT/setup.sh")"
fi

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
server=""
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null || true; }
trap cleanup EXIT

measure() { # binary route → "ms_per_request requests"
  local bin=$1 route=$2 script url
  rm -f "$OUT"/cpu.sqlite*
  CALCITRACK_CDS_ISSUERS="$OUT/issuers.json" CALCITRACK_PUBLIC_URL="$BASE" "$bin" serve --port "$PORT" --database "$OUT/cpu.sqlite" > "$OUT/serve-cpu.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -sf "$BASE/health" >/dev/null && break; sleep 0.1; done
  case $route in
    es384) script="$OUT/patient-view.lua"; url="$BASE" ;;
    rs384) script="$OUT/patient-view-rs384.lua"; url="$BASE" ;;
    health) script="$OUT/health.lua"; url="$BASE/health" ;;
  esac
  wrk -t1 -c4 -d2s -s "$OUT/health.lua" "$BASE/health" >/dev/null
  local before after requests non2xx
  before=$(cpu_ticks "$server")
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s "$script" "$url" > "$OUT/wrk-cpu.txt"
  after=$(cpu_ticks "$server")
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  requests=$(awk '/requests in/ {print $1}' "$OUT/wrk-cpu.txt")
  non2xx=$(grep -o 'non2xx=[0-9]*' "$OUT/wrk-cpu.txt" | cut -d= -f2)
  awk -v b="$before" -v a="$after" -v t="$ticks" -v r="$requests" -v n="${non2xx:-?}" \
    'BEGIN { printf "%.3f %d non2xx=%s\n", (a - b) / t * 1000 / r, r, n }'
}

log "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| round | binary | route | ms CPU/req | requests | |"
echo "|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  for route in $ROUTES; do
    for bin in "$@"; do
      read -r ms requests non2xx <<< "$(measure "$bin" "$route")"
      echo "| $round | $bin | $route | $ms | $requests | $non2xx |"
    done
  done
done
log "load average $(cut -d' ' -f1-3 /proc/loadavg)"
