#!/usr/bin/env bash
# FHIR read API and export end to end (issue 5): starts `calcitrack serve` on a fresh SQLite file
# (demo patients), adds a generated cohort (`calcitrack generate`), then reads every resource
# through the API (search with paging, read, vread, _history, Patient/$everything, _include) and
# through `calcitrack export` (ndjson and bundle), and validates each with PyPI fhirclient
# (R4 4.0.1, strict) and fhir.resources (R4B). Any failure fails the script.
set -u
cd "$(dirname "$0")/../.."
. Tests/e2e/lib.sh
BIN="${CALCITRACK_BIN:-.build/debug/calcitrack}"
[ -x "$BIN" ] || { echo "missing $BIN: run swift build first"; exit 1; }
python3 -c 'import fhirclient, fhir.resources' 2>/dev/null || { echo "fhir: needs python fhirclient and fhir.resources (pip install fhirclient fhir.resources)"; exit 1; }
COHORT="${FHIR_E2E_PATIENTS:-150}"
tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
DB="$tmp/fhir.sqlite"
PORT=$(free_port)
"$BIN" serve --port "$PORT" --database "$DB" > "$tmp/serve.log" 2>&1 &
server=$!
wait_for_health "http://127.0.0.1:$PORT" || { echo "fhir: the server did not start"; cat "$tmp/serve.log"; exit 1; }
"$BIN" generate --patients "$COHORT" --seed 5 --database "$DB" > "$tmp/generate.log" 2>&1 || { echo "fhir: generate failed"; cat "$tmp/generate.log"; exit 1; }
echo "clinician pass 1" | "$BIN" user add fhirclin --role clinician --site DEMO --site SYNTH --password-stdin --database "$DB" >/dev/null || exit 1
echo "researcher pass 1" | "$BIN" user add fhirresearch --role researcher --password-stdin --database "$DB" >/dev/null || exit 1
CLIN=$("$BIN" token issue fhirclin --database "$DB") || exit 1
RES=$("$BIN" token issue fhirresearch --database "$DB") || exit 1
"$BIN" export --format ndjson --database "$DB" "$tmp/ndjson" || { echo "fhir: export ndjson failed"; exit 1; }
"$BIN" export --format bundle --batch 50 --database "$DB" "$tmp/bundle" || { echo "fhir: export bundle failed"; exit 1; }
FIRST=$(head -1 "$tmp/ndjson/Patient.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN" export --patient "$FIRST" --format ndjson --database "$DB" "$tmp/one" || { echo "fhir: export --patient failed"; exit 1; }
# export --site, --type, --since: the DEMO site's patients are the two seed patients; a type list writes
# those files only; nothing changed after 2099; an unknown site or a Flag type is refused (exit non-zero).
"$BIN" export --site DEMO --type Patient,Encounter --format ndjson --database "$DB" "$tmp/demo" > /dev/null || { echo "fhir: export --site failed"; exit 1; }
python3 - "$tmp/demo" <<'PY' || exit 1
import json, os, sys
d = sys.argv[1]
files = sorted(os.listdir(d))
patients = [json.loads(l) for l in open(os.path.join(d, "Patient.ndjson"))]
ids = {p["id"] for p in patients}
subjects = {json.loads(l)["subject"]["reference"].split("/")[1] for l in open(os.path.join(d, "Encounter.ndjson"))}
systems = {p["identifier"][0]["system"] for p in patients}
assert files == ["Encounter.ndjson", "Patient.ndjson"], files
assert len(patients) == 2 and systems == {"https://calcitrack.org/fhir/sid/mrn/DEMO"}, (len(patients), systems)
assert subjects <= ids, subjects - ids
print(f"fhir: export --site DEMO --type Patient,Encounter: {len(patients)} patients, Encounters of them only")
PY
"$BIN" export --since 2099-01-01T00:00:00Z --format ndjson --database "$DB" "$tmp/none" | grep -q "Patient 0" || { echo "fhir: export --since 2099 exported something"; exit 1; }
! "$BIN" export --site NOPE --format ndjson --database "$DB" "$tmp/nope" > /dev/null 2>&1 || { echo "fhir: export --site NOPE did not fail"; exit 1; }
! "$BIN" export --type Flag --format ndjson --database "$DB" "$tmp/nope" > /dev/null 2>&1 || { echo "fhir: export --type Flag did not fail"; exit 1; }
CALCITRACK_URL="http://127.0.0.1:$PORT" CLINICIAN_TOKEN="$CLIN" RESEARCHER_TOKEN="$RES" EXPORT_DIR="$tmp" COHORT="$COHORT" \
  python3 Tests/e2e/fhir/validate.py
