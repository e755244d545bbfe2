#!/usr/bin/env bash
# Bulk Data $export against `calcitrack export` (issue 5): the same resources, the same cost?
#
#   scripts/bench-export.sh                       # N=2000, debug build
#   N=20000 BIN=.build/release/calcitrack scripts/bench-export.sh
#
# Generates N synthetic patients into a fresh SQLite file, starts `calcitrack serve --no-demo`,
# adds a clinician of site SYNTH (every generated patient), times `calcitrack export --format ndjson`
# and then $export from kick-off to the manifest (status polled every 0.2 s), and prints both
# counts per type (they must be equal).
set -euo pipefail
cd "$(dirname "$0")/.."
. Tests/e2e/lib.sh
N="${N:-2000}"
BIN="${BIN:-.build/debug/calcitrack}"
tmp=$(mktemp -d)
PORT=$(free_port)
"$BIN" serve --port "$PORT" --database "$tmp/b.sqlite" --no-demo > "$tmp/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
wait_for_health "http://127.0.0.1:$PORT"
"$BIN" generate --patients "$N" --seed 7 --database "$tmp/b.sqlite" > /dev/null
echo "bench pass 12345" | "$BIN" user add benchclin --role clinician --site SYNTH --password-stdin --database "$tmp/b.sqlite" >/dev/null
TOKEN=$("$BIN" token issue benchclin --database "$tmp/b.sqlite")
s=$(date +%s.%N); "$BIN" export --format ndjson --database "$tmp/b.sqlite" "$tmp/cli" > "$tmp/cli.log"; e=$(date +%s.%N)
echo "calcitrack export: $(cat "$tmp/cli.log") in $(echo "$e - $s" | bc) s"
s=$(date +%s.%N)
loc=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" -H "Prefer: respond-async" \
  "http://127.0.0.1:$PORT/fhir/\$export" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-location"{print $2}')
while :; do code=$(curl -s -o "$tmp/manifest.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$loc"); [ "$code" != 202 ] && break; sleep 0.2; done
e=$(date +%s.%N)
echo "\$export: status $code after $(echo "$e - $s" | bc) s (kick-off to manifest)"
python3 -c "import json; m=json.load(open('$tmp/manifest.json')); print({o['type']: o['count'] for o in m['output']})"
