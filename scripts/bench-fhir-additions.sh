#!/usr/bin/env bash
# Timings of the FHIR additions of 2026-12-07 (Group read/search, _revinclude, _elements,
# _summary=count, _lastUpdated, Group-level $export) on a registry filled by `calcitrack import` (REGISTRY: a
# SQLite file, e.g. the target of scripts/bench-import.sh kept aside; it is copied, not changed),
# release build (BIN). One clinician of site SYNTH, curl; numbers go to BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.build-release/release/calcitrack}"
REGISTRY="${REGISTRY:?set REGISTRY to a SQLite registry with site SYNTH (e.g. a kept scripts/bench-import.sh target)}"
D=$(mktemp -d)
cp "$REGISTRY" $D/h.sqlite
echo "pass pass 1" | $BIN user add grpclin --role clinician --site SYNTH --password-stdin --database $D/h.sqlite >/dev/null
TOKEN=$($BIN token issue grpclin --database $D/h.sqlite)
$BIN serve --port 8094 --database $D/h.sqlite > $D/serve.log 2>&1 &
PID=$!
trap 'kill $PID; rm -rf $D' EXIT
for i in $(seq 50); do curl -s localhost:8094/health >/dev/null && break; sleep 0.5; done
t() { curl -s -o $D/out.json -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$@"; }
SITE=$(sqlite3 $D/h.sqlite "select lower(id) from sites where code='SYNTH'")
echo "Group read (4,000 members): $(t "localhost:8094/fhir/Group/$SITE") s, $(wc -c < $D/out.json) bytes"
echo "Group search: $(t 'localhost:8094/fhir/Group') s"
echo "Patient?_count=50&_revinclude=Observation:patient: $(t 'localhost:8094/fhir/Patient?_count=50&_revinclude=Observation:patient') s, $(python3 -c "import json;print(len(json.load(open('$D/out.json'))['entry']))") entries"
echo "Observation?_elements=id&_count=500: $(t 'localhost:8094/fhir/Observation?_elements=id&_count=500') s"
echo "Observation?_summary=count: $(t 'localhost:8094/fhir/Observation?_summary=count') s"
# _lastUpdated (no index on updated_at): a poll that finds nothing new, and one that matches everything.
echo "Observation?_lastUpdated=gt2099-01-01: $(t 'localhost:8094/fhir/Observation?_lastUpdated=gt2099-01-01') s"
echo "Observation?_lastUpdated=ge2000&_count=50: $(t 'localhost:8094/fhir/Observation?_lastUpdated=ge2000&_count=50') s"
echo "Observation?patient=<id>&_lastUpdated=ge2000: $(t "localhost:8094/fhir/Observation?patient=$(sqlite3 $D/h.sqlite "select lower(id) from patients limit 1")&_lastUpdated=ge2000") s"
# Group export of the whole site, timed to completion.
start=$(date +%s.%N)
loc=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" -H "Prefer: respond-async" "localhost:8094/fhir/Group/$SITE/\$export" | grep -i content-location | tr -d '\r' | awk '{print $2}')
while [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$loc")" = "202" ]; do sleep 0.2; done
end=$(date +%s.%N)
curl -s -H "Authorization: Bearer $TOKEN" "$loc" > $D/m.json
python3 -c "import json;m=json.load(open('$D/m.json'));n=sum(o['count'] for o in m['output']);print(f'Group \$export: {n} resources in {$end-$start:.1f} s = {n/($end-$start):.0f}/s')"
