#!/usr/bin/env bash
# End-to-end checks of the registry with the real binary on a SQLite file:
#   serve (demo data, printed address), user/token CLI, the API with a bearer token,
#   kill -9 in the middle of a stream of writes then restart (every acknowledged write is
#   there, no partial record, audit chain intact), online backup and restore, SIGTERM under load
#   (in-flight requests finish, exit 0), and an audit entry edited in the file being named by
#   `audit verify`.
# Prints "registry: N passed, M failed" and exits non-zero on failure.
set -u
cd "$(dirname "$0")/../.."
BIN="${CALCITRACK_BIN:-.build/debug/calcitrack}"
[ -x "$BIN" ] || { echo "missing $BIN: run swift build first"; exit 1; }
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }
tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill -9 "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
DB="$tmp/registry.sqlite"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"

start() {
  "$BIN" serve --port "$PORT" --database "$DB" > "$tmp/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "$URL/health" >/dev/null && return 0; sleep 0.1; done
  return 1
}

start; check "serve starts on a new SQLite file and answers /health" '[ $? -eq 0 ]'
check "serve prints its address" 'grep -q "CalciTrack registry on http://127.0.0.1:$PORT" "$tmp/serve.log"'
check "first start creates the demo clinician and prints the password once" 'grep -q "user: demo  password: " "$tmp/serve.log"'

TOKEN=$("$BIN" token issue demo --database "$DB")
AUTH="Authorization: Bearer $TOKEN"
total=$(curl -s -H "$AUTH" "$URL/api/v1/patients" | python3 -c 'import sys,json; print(json.load(sys.stdin)["total"])')
check "the demo registry holds the two seed patients" '[ "$total" = "2" ]'
check "anonymous API access is refused (401)" '[ "$(curl -s -o /dev/null -w "%{http_code}" "$URL/api/v1/patients")" = "401" ]'
echo "second user password" | "$BIN" user add nurse --role clinician --site DEMO --password-stdin --database "$DB" >/dev/null
check "user add --password-stdin works while the server runs" '[ $? -eq 0 ] && "$BIN" user list --database "$DB" | grep -q "^nurse"'

SITE=$(curl -s -H "$AUTH" "$URL/api/v1/sites" | python3 -c 'import sys,json; print([s["id"] for s in json.load(sys.stdin)["items"] if s["code"]=="DEMO"][0])')
PATIENT=$(curl -s -H "$AUTH" -H 'content-type: application/json' -d "{\"siteId\":\"$SITE\",\"mrn\":\"CRASH-1\",\"familyName\":\"Crash\",\"givenName\":\"Test\",\"sex\":\"female\"}" "$URL/api/v1/patients" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')

# A stream of writes; each acknowledged (201) id is logged after the response arrives.
(
  i=0
  while true; do
    i=$((i + 1))
    out=$(curl -s -m 5 -w '\n%{http_code}' -H "$AUTH" -H 'content-type: application/json' \
      -d "{\"test\":\"crp\",\"value\":$i,\"unit\":\"mg/L\",\"date\":\"2026-01-01\"}" "$URL/api/v1/patients/$PATIENT/labs") || break
    code=$(echo "$out" | tail -1)
    [ "$code" = "201" ] || break
    echo "$out" | head -1 | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])' >> "$tmp/acked"
  done
) &
writer=$!
sleep 3
kill -9 "$server"; server=""
wait "$writer" 2>/dev/null
acked=$(wc -l < "$tmp/acked")
check "writes were acknowledged before the kill ($acked)" '[ "$acked" -gt 5 ]'

start; check "the server restarts after kill -9" '[ $? -eq 0 ]'
missing=0
while read -r id; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$URL/api/v1/labs/$id")" = "200" ] || missing=$((missing + 1))
done < "$tmp/acked"
check "every acknowledged write survived kill -9 ($acked checked, $missing missing)" '[ "$missing" -eq 0 ]'
stored=$(curl -s -H "$AUTH" "$URL/api/v1/patients/$PATIENT/labs" | python3 -c '
import sys, json
items = json.load(sys.stdin)["items"]
complete = all(i.get("test") == "crp" and i.get("unit") == "mg/L" and i.get("version") == 1 for i in items)
print(len(items) if complete else -1)')
check "no partial record: $stored stored, all complete (acknowledged $acked, at most one more in flight)" '[ "$stored" -ge "$acked" ] && [ "$stored" -le $((acked + 1)) ]'
"$BIN" audit verify --database "$DB" > "$tmp/verify.txt"; code=$?
check "audit chain intact after the crash ($(cat "$tmp/verify.txt"))" '[ $code -eq 0 ]'

"$BIN" backup "$tmp/backup.sqlite" --database "$DB" > /dev/null; code=$?
check "online backup while the server runs" '[ $code -eq 0 ] && [ -s "$tmp/backup.sqlite" ]'
kill -9 "$server"; server=""
"$BIN" restore "$tmp/backup.sqlite" --database "$DB" > "$tmp/restore.txt"; code=$?
check "restore puts the backup in place and verifies its audit log" '[ $code -eq 0 ] && grep -q "intact" "$tmp/restore.txt"'
start
restored=$(curl -s -H "$AUTH" "$URL/api/v1/patients/$PATIENT/labs" | python3 -c 'import sys,json; print(len(json.load(sys.stdin)["items"]))')
check "the restored registry has the records ($restored labs)" '[ "$restored" = "$stored" ]'

# SIGTERM (a deploy, systemd stop) while 16 clients read the worklist: in-flight requests finish
# before the database closes; the process exits 0 (it crashed with a nil database before).
python3 - "$URL" "$TOKEN" > "$tmp/load.txt" 2>&1 <<'PY' &
import sys, threading, time, urllib.request
url, token = sys.argv[1], sys.argv[2]
answered = [0]
def client():
    end = time.time() + 4
    while time.time() < end:
        try:
            urllib.request.urlopen(urllib.request.Request(url + "/api/v1/patients", headers={"Authorization": "Bearer " + token}), timeout=5).read()
            answered[0] += 1
        except Exception:
            pass  # refused once the server stops listening
threads = [threading.Thread(target=client) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
print(answered[0])
PY
load=$!
sleep 1.5
kill -TERM "$server"; wait "$server"; code=$?; server=""
wait "$load"
check "SIGTERM under load ($(cat "$tmp/load.txt") requests answered): exit 0, no crash" '[ $code -eq 0 ] && ! grep -q -i -E "runtime failure|fatal error" "$tmp/serve.log"'
"$BIN" audit verify --database "$DB" > "$tmp/verify-term.txt"; code=$?
check "audit chain intact after SIGTERM under load" '[ $code -eq 0 ]'

# An attacker with the file edits one audit entry; `audit verify` names it and exits 1.
python3 - "$DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER audit_entries_no_update")
db.execute("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 5")
db.commit()
PY
"$BIN" audit verify --database "$DB" > "$tmp/tamper.txt"; code=$?
check "audit verify names the edited entry ($(cat "$tmp/tamper.txt"))" '[ $code -eq 1 ] && grep -q "BROKEN at entry 5:" "$tmp/tamper.txt"'

echo "registry: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
