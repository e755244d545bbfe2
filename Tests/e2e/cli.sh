#!/usr/bin/env bash
# End-to-end checks of the real `calcitrack` binary: the seed cases through ../shared's checker,
# exit codes and error channels of `assess`, the allocator the binary was linked with. Prints "N passed, M failed" and exits non-zero on failure.
set -u
cd "$(dirname "$0")/../.."
SHARED="${SHARED:-../shared}"
BIN="${CALCITRACK_BIN:-.build/debug/calcitrack}"
[ -x "$BIN" ] || { echo "missing $BIN: run swift build first"; exit 1; }
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for c in seed-1-admission seed-1-discharge seed-2-followup; do
  "$BIN" assess "$SHARED/cases/$c.case.json" --format json > "$tmp/$c.json"
  out=$(python3 "$SHARED/tools/check-assessment.py" "$tmp/$c.json" "$SHARED/cases/$c.expected.json" | tail -1)
  check "$c passes its expectations ($out)" '[[ "$out" == *" 0 failed" ]]'
done

"$BIN" assess - --format json < "$SHARED/cases/seed-2-followup.case.json" > "$tmp/stdin.json"; code=$?
check "assess - reads standard input (exit 0)" '[ $code -eq 0 ] && grep -q "\"caseId\": \"seed-2-followup\"" "$tmp/stdin.json"'

"$BIN" assess "$SHARED/cases/seed-2-followup.case.json" --as-of 2018-05-01 --format json > "$tmp/asof.json"; code=$?
check "--as-of overrides asOf" '[ $code -eq 0 ] && grep -q "\"asOf\": \"2018-05-01\"" "$tmp/asof.json"'

"$BIN" assess "$SHARED/cases/seed-1-admission.case.json" > "$tmp/text.txt"; code=$?
check "text report is the default and puts URGENT first" '[ $code -eq 0 ] && sed -n 3p "$tmp/text.txt" | grep -q URGENT'

printf '{"formatVersion": 1, "patient": {}, "vitals": [{"date": "2023-06-15", "temperatureC": 385}], "labs": [{"test": "calcium", "value": 9, "unit": "g/L", "date": "2023-06-15"}]}' > "$tmp/bad.json"
"$BIN" assess "$tmp/bad.json" --format json > "$tmp/bad.out" 2> "$tmp/bad.err"; code=$?
check "invalid case: exit 2 with --format json" '[ $code -eq 2 ]'
check "invalid case: every error as JSON on stdout" 'python3 -c "import json,sys; e=json.load(open(sys.argv[1]))[\"errors\"]; f={x[\"field\"] for x in e}; sys.exit(0 if {\"vitals[0].temperatureC\",\"labs[0].unit\"} <= f else 1)" "$tmp/bad.out"'

"$BIN" assess "$tmp/bad.json" > "$tmp/bad.out" 2> "$tmp/bad.err"; code=$?
check "invalid case, text: exit 2, errors on stderr, nothing on stdout" '[ $code -eq 2 ] && grep -q "vitals\[0\].temperatureC" "$tmp/bad.err" && [ ! -s "$tmp/bad.out" ]'

printf 'not json' > "$tmp/notjson.json"
"$BIN" assess "$tmp/notjson.json" --format json > "$tmp/nj.out" 2>/dev/null; code=$?
check "not JSON: exit 2 with a line and column" '[ $code -eq 2 ] && grep -q "line 1, column 1" "$tmp/nj.out"'

: > "$tmp/empty.json"
"$BIN" assess "$tmp/empty.json" --format json > "$tmp/empty.out" 2>/dev/null; code=$?
check "empty file: exit 2" '[ $code -eq 2 ] && grep -q "empty" "$tmp/empty.out"'

"$BIN" assess "$tmp/does-not-exist.json" > /dev/null 2>&1; code=$?
check "missing file: exit 1" '[ $code -eq 1 ]'

"$BIN" assess "$SHARED/cases/seed-1-admission.case.json" --as-of 2023-13-01 --format json > "$tmp/asof-bad.out" 2>/dev/null; code=$?
check "malformed --as-of: exit 2" '[ $code -eq 2 ] && grep -q -- "--as-of" "$tmp/asof-bad.out"'

"$BIN" assess "$SHARED/cases/seed-2-followup.case.json" --threshold caxp.metastatic=30 --format json > "$tmp/thr.json"; code=$?
check "--threshold overrides a threshold and is reported" '[ $code -eq 0 ] && grep -q "\"aboveThreshold\": true" "$tmp/thr.json" && grep -q "\"caxp.metastatic\": 30" "$tmp/thr.json"'

"$BIN" assess "$SHARED/cases/seed-2-followup.case.json" --threshold nope=1 > /dev/null 2>&1; code=$?
check "unknown threshold key: exit 2" '[ $code -eq 2 ]'

"$BIN" thresholds --json > "$tmp/thresholds.json"; code=$?
check "thresholds --json lists every threshold with a source" '[ $code -eq 0 ] && python3 -c "import json,sys; t=json.load(open(sys.argv[1])); sys.exit(0 if len(t) > 40 and all(x[\"sources\"] and x[\"tag\"] for x in t) else 1)" "$tmp/thresholds.json"'

# The allocator the build linked (Package.swift): jemalloc where libjemalloc-dev is installed, as
# .ci/run installs it, unless CALCITRACK_MALLOC=glibc; the binary says which and really has it.
mkdir -p "$tmp/empty-import" && : > "$tmp/empty-import/Patient.ndjson"
"$BIN" import "$tmp/empty-import" --database "$tmp/empty-import/registry.sqlite" --progress none > "$tmp/import.out" 2>&1; code=$?
if ls /usr/lib/*-linux-gnu/libjemalloc_pic.a >/dev/null 2>&1 && [ "${CALCITRACK_MALLOC:-}" != glibc ]; then
  check "import names its allocator: jemalloc, linked (malloc is the binary's own)" \
    '[ $code -eq 0 ] && grep -q "memory allocator: jemalloc" "$tmp/import.out" && nm -D "$BIN" | grep -q " T malloc$"'
else
  check "import names its allocator: glibc malloc" '[ $code -eq 0 ] && grep -q "memory allocator: glibc malloc" "$tmp/import.out"'
fi

# import and export: exit statuses, what is retried, what is refused, which channel says what.
src="$tmp/ie-source.sqlite"
"$BIN" generate --patients 3 --seed 5 --as-of 2026-11-20 --database "$src" > /dev/null || fail "generate for the import/export checks"
"$BIN" export --format ndjson --database "$src" "$tmp/ie-all" > /dev/null; code=$?
check "export ndjson: exit 0" '[ $code -eq 0 ] && [ -s "$tmp/ie-all/Patient.ndjson" ]'
fresh="$tmp/ie-fresh.sqlite"
"$BIN" import "$tmp/ie-all" --database "$fresh" --progress lines > "$tmp/ie1.out" 2> "$tmp/ie1.err"; code=$?
check "import into a registry without site SYNTH: exit 2, every resource rejected" '[ $code -eq 2 ] && grep -q "site SYNTH" "$tmp/ie1.out" && grep -q "created   0" "$tmp/ie1.out"'
check "import --progress lines: progress on stderr, the summary alone on stdout" \
  'grep -q "% of file" "$tmp/ie1.err" && ! grep -q "% of file" "$tmp/ie1.out" && grep -q "^imported " "$tmp/ie1.out"'
"$BIN" site add SYNTH Synth --database "$fresh" > /dev/null
"$BIN" import "$tmp/ie-all" --database "$fresh" --progress none > "$tmp/ie2.out" 2>&1; code=$?
patients=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from patients").fetchone()[0])' "$fresh")
check "rerun after the site was added: the rejected resources are retried (exit 0, 3 patients)" \
  '[ $code -eq 0 ] && [ "$patients" = 3 ] && ! grep -q "already imported" "$tmp/ie2.out" && grep -q "rejected  0" "$tmp/ie2.out"'
"$BIN" import "$tmp/ie-all" --database "$fresh" --progress none > "$tmp/ie3.out" 2>&1; code=$?
check "third run: every file already imported (skipped), exit 0" '[ $code -eq 0 ] && grep -q "already imported (skipped)" "$tmp/ie3.out"'

mkdir -p "$tmp/ie-odd"
echo '{"resourceType": "Patient", "id": "x"}' > "$tmp/ie-odd/Patient.json"
echo 'notes' > "$tmp/ie-odd/notes.txt"
mkdir -p "$tmp/ie-odd/sub"
"$BIN" import "$tmp/ie-odd" --database "$fresh" --progress none > "$tmp/ie4.out" 2>&1; code=$?
check "a .json that is not a Bundle is rejected naming why (exit 2)" '[ $code -eq 2 ] && grep -q "not a FHIR Bundle: resourceType Patient" "$tmp/ie4.out"'
check "a directory import lists the entries it ignores" 'grep -q "ignored (not .ndjson/.jsonl/.json.*notes.txt" "$tmp/ie4.out" && grep -q "ie-odd/sub/" "$tmp/ie4.out"'

"$BIN" export --format ndjson --database "$tmp/no-such.sqlite" "$tmp/ie-none" > /dev/null 2> "$tmp/ie5.err"; code=$?
check "export from a database that does not exist: exit 1 naming it, nothing created" \
  '[ $code -eq 1 ] && grep -q "no-such.sqlite" "$tmp/ie5.err" && [ ! -e "$tmp/no-such.sqlite" ] && [ ! -e "$tmp/ie-none" ]'
"$BIN" audit verify --database "$tmp/no-such.sqlite" > /dev/null 2>&1; code=$?
check "audit verify of a database that does not exist: exit 1, nothing created" '[ $code -eq 1 ] && [ ! -e "$tmp/no-such.sqlite" ]'

"$BIN" export --format ndjson --patient 00000000-0000-4000-8000-000000000000 --database "$src" "$tmp/ie-unknown" > /dev/null 2> "$tmp/ie6.err"; code=$?
check "export --patient of an unknown id: a plain message, exit 1" \
  '[ $code -eq 1 ] && grep -q "patient 00000000-0000-4000-8000-000000000000 not found" "$tmp/ie6.err" && ! grep -q APIError "$tmp/ie6.err"'

one=$(head -1 "$tmp/ie-all/Patient.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN" export --format ndjson --patient "$one" --database "$src" "$tmp/ie-all" > /dev/null 2> "$tmp/ie7.err"; code=$?
check "export into a directory holding an earlier export: refused, exit 1, files left" \
  '[ $code -eq 1 ] && grep -q -- "--replace" "$tmp/ie7.err" && [ $(wc -l < "$tmp/ie-all/Patient.ndjson") -eq 3 ]'
"$BIN" export --format ndjson --patient "$one" --replace --database "$src" "$tmp/ie-all" > /dev/null; code=$?
check "export --replace: only the new export's files, of that patient alone" \
  '[ $code -eq 0 ] && python3 - "$tmp/ie-all" "$one" <<PY
import glob, json, sys
ok = True
for f in glob.glob(sys.argv[1] + "/*.ndjson"):
    for line in open(f):
        r = json.loads(line)
        ref = r["id"] if r["resourceType"] == "Patient" else (r.get("subject") or r.get("patient") or {}).get("reference", "")
        ok = ok and ref.endswith(sys.argv[2])
sys.exit(0 if ok else 1)
PY'

echo "cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
