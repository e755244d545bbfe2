#!/usr/bin/env bash
# FHIR write side and bulk import end to end (issue 5; Tests/e2e/interop/test_interop.py):
#   - PyPI carebundle transaction Bundles (several profiles, fixed seeds) through
#     `calcitrack import` and through POST /fhir, twice (nothing duplicated);
#   - round trip: generate -> export ndjson -> import into a fresh registry -> export again;
#   - PyPI clinosim NDJSON: R4-invalid resources rejected naming the element, the rest imported;
#   - PyPI fhirpy (a third-party client): create a patient with observations, search them back,
#     update with a stale version (412), $everything;
#   - kill -9 during a large NDJSON import and during transaction Bundle imports, then rerun:
#     audit log intact, no Bundle half-applied, nothing duplicated.
# Starts `calcitrack serve --no-demo` on a fresh SQLite file on a free port.
set -u
cd "$(dirname "$0")/../.."
. Tests/e2e/lib.sh
BIN="${CALCITRACK_BIN:-.build/debug/calcitrack}"
[ -x "$BIN" ] || { echo "missing $BIN: run swift build first"; exit 1; }
python3 -c 'import carebundle, clinosim, fhirpy' 2>/dev/null || { echo "interop: needs python carebundle, clinosim and fhirpy (pip install carebundle clinosim fhirpy)"; exit 1; }
tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
DB="$tmp/server.sqlite"
PORT=$(free_port)
"$BIN" site add CB "carebundle patients" --database "$DB" >/dev/null || exit 1
"$BIN" serve --no-demo --port "$PORT" --database "$DB" > "$tmp/serve.log" 2>&1 &
server=$!
wait_for_health "http://127.0.0.1:$PORT" || { echo "interop: the server did not start"; cat "$tmp/serve.log"; exit 1; }
echo "clinician pass 1" | "$BIN" user add interopclin --role clinician --site CB --password-stdin --database "$DB" >/dev/null || exit 1
echo "researcher pass 1" | "$BIN" user add interopresearch --role researcher --password-stdin --database "$DB" >/dev/null || exit 1
CLIN=$("$BIN" token issue interopclin --database "$DB") || exit 1
RES=$("$BIN" token issue interopresearch --database "$DB") || exit 1
CALCITRACK_URL="http://127.0.0.1:$PORT" CLINICIAN_TOKEN="$CLIN" RESEARCHER_TOKEN="$RES" CALCITRACK_BIN="$BIN" \
  SERVER_DB="$DB" WORK="$tmp" python3 Tests/e2e/interop/test_interop.py
