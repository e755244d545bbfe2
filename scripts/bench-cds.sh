#!/usr/bin/env bash
# CDS Hooks latency benchmark (issue 5 target: patient-view p99 <= 10 ms).
#
#   scripts/bench-cds.sh                    # build release once, serve, measure, update BENCHMARKS.md
#   SKIP_BUILD=1 DURATION=10s scripts/bench-cds.sh
#
# Builds `swift build -c release --scratch-path .build-release`, starts `calcitrack serve` on a
# fresh SQLite file with the demo patients and caller authentication ON: one trusted issuer
# (CALCITRACK_CDS_ISSUERS) with two fresh keys (python cryptography), an EC P-384 key (ES384) and
# an RSA 2048 key (RS384), the two algorithms CDS Hooks 2.0 allows. Every request carries its own
# signed token (unique jti: the server refuses replays), all signed before the run. wrk
# (CONNECTIONS connections, THREADS threads) then measures, in this one run on the same server:
#   patient-view  POST /cds-services/calcinosis-assessment with the seed-1 admission prefetch
#                 (Tests/CalciTrackFHIRTests/Fixtures/seed-1-admission.fhir.json) and ES384 tokens:
#                 JWT check, FHIR → case mapping, engine, cards (the headline row)
#   patient-view-rs384  the same with RS384 tokens (RSA verification is far cheaper than P-384)
#   health        GET /health (bare route: SELECT 1, no auth)
#   patient-view(1-conn), patient-view-rs384(1-conn)  one connection: service time without queueing
# and writes p50/p95/p99, req/s and errors to the "CDS Hooks" section of BENCHMARKS.md (and
# $OUT/results.md).
#
# Environment: DURATION (15s), WARMUP (3s), CONNECTIONS (32), THREADS (2), TOKENS (per thread,
# 60000), PORT (8097), SCRATCH (.build-release), OUT (artifacts/bench-cds), SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-15s}"; WARMUP="${WARMUP:-3s}"; CONNECTIONS="${CONNECTIONS:-32}"; THREADS="${THREADS:-2}"
TOKENS="${TOKENS:-60000}"; PORT="${PORT:-8097}"; SCRATCH="${SCRATCH:-.build-release}"; OUT="${OUT:-artifacts/bench-cds}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
log() { printf '[bench-cds %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v wrk >/dev/null 2>&1 || { log "installing wrk"; apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }
python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install --quiet cryptography

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "swift build -c release --scratch-path $SCRATCH"
  nice -n 19 swift build -c release --scratch-path "$SCRATCH" --product calcitrack 2>&1 | tail -3 >&2
fi
BIN="${CALCITRACK_BIN:-$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/calcitrack}"
[[ -x "$BIN" ]] || { log "no binary at $BIN"; exit 1; }

rm -f "$OUT"/bench.sqlite* "$OUT"/tokens-*.txt "$OUT"/rs-tokens-*.txt
BASE="http://127.0.0.1:$PORT"
AUD="$BASE/cds-services/calcinosis-assessment"

# --- keys, issuer file, tokens, request body ----------------------------------------------------
log "signing $((THREADS + 1)) x $TOKENS ES384 and as many RS384 tokens"
python3 - "$OUT" "$AUD" "$THREADS" "$TOKENS" <<'PY'
import base64, json, os, sys, time, uuid
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
out, aud, threads, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = ec.generate_private_key(ec.SECP384R1())
nums = key.public_key().public_numbers()
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa_nums = rsa_key.public_key().public_numbers()
big = lambda n: n.to_bytes((n.bit_length() + 7) // 8, "big")
iss = "https://bench-ehr.example.org"
json.dump({iss: {"jwks": {"keys": [{"kty": "EC", "crv": "P-384", "kid": "bench-1", "use": "sig",
           "x": b64(nums.x.to_bytes(48, "big")), "y": b64(nums.y.to_bytes(48, "big"))},
          {"kty": "RSA", "kid": "bench-rsa", "use": "sig", "alg": "RS384", "n": b64(big(rsa_nums.n)), "e": b64(big(rsa_nums.e))}]}}},
          open(f"{out}/issuers.json", "w"))
now = int(time.time())
def es384(signing_input):
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA384())))
    return r.to_bytes(48, "big") + s.to_bytes(48, "big")
def rs384(signing_input):
    return rsa_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA384())
for prefix, alg, kid, sign in (("tokens", "ES384", "bench-1", es384), ("rs-tokens", "RS384", "bench-rsa", rs384)):
    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    for t in range(threads + 1):  # one more file: the 1-connection run and the sample call
        with open(f"{out}/{prefix}-{t + 1}.txt", "w") as f:
            for _ in range(per):
                payload = b64(json.dumps({"iss": iss, "sub": "bench", "aud": aud, "iat": now, "exp": now + 3600, "jti": str(uuid.uuid4())}).encode())
                f.write(f"{header}.{payload}.{b64(sign(f'{header}.{payload}'.encode()))}\n")
bundle = json.load(open("Tests/CalciTrackFHIRTests/Fixtures/seed-1-admission.fhir.json"))
patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
# Every key discovery declares (a prefetch that omits one is incomplete: 412 for this non-registry id).
searchset = lambda t: {"resourceType": "Bundle", "type": "searchset", "entry": [e for e in bundle["entry"] if e["resource"]["resourceType"] == t]}
prefetch = {"patient": patient, "conditions": searchset("Condition"), "observations": searchset("Observation"),
            "medications": searchset("MedicationStatement"), "lesions": searchset("BodyStructure"), "encounters": searchset("Encounter")}
body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "fhirServer": "https://bench-ehr.example.org/fhir",
        "context": {"userId": "Practitioner/bench", "patientId": patient["id"]}, "prefetch": prefetch}
open(f"{out}/patient-view.json", "w").write(json.dumps(body))
PY

# wrk: thread N reads tokens-N.txt (rs-tokens-N.txt for RS384) and sends each token once.
cat > "$OUT/patient-view.lua" <<LUA
local counter = 0
function setup(thread) counter = counter + 1; thread:set("id", counter) end
function init(args)
  local f = io.open("$OUT/patient-view.json"); body = f:read("*a"); f:close()
  tokens = {}; for line in io.lines("$OUT/tokens-" .. id .. ".txt") do tokens[#tokens + 1] = line end
  i = 0
end
function request()
  i = i + 1
  if i > #tokens then i = 1 end
  return wrk.format("POST", "/cds-services/calcinosis-assessment",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[i]}, body)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT p50=%.2f p95=%.2f p99=%.2f rps=%.0f non2xx=%d errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
sed 's#/tokens-#/rs-tokens-#' "$OUT/patient-view.lua" > "$OUT/patient-view-rs384.lua"
cat > "$OUT/health.lua" <<'LUA'
function done(summary, latency, requests)
  io.write(string.format("RESULT p50=%.2f p95=%.2f p99=%.2f rps=%.0f non2xx=%d errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

# --- serve ---------------------------------------------------------------------------------------
server=""
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null || true; }
trap cleanup EXIT
CALCITRACK_CDS_ISSUERS="$OUT/issuers.json" CALCITRACK_PUBLIC_URL="$BASE" \
  "$BIN" serve --port "$PORT" --database "$OUT/bench.sqlite" > "$OUT/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sf "$BASE/health" >/dev/null && break; sleep 0.1; done
curl -sf "$BASE/health" >/dev/null || { log "server did not start"; cat "$OUT/serve.log"; exit 1; }
first=$(tail -1 "$OUT/tokens-$((THREADS + 1)).txt")
status=$(curl -s -o "$OUT/sample-response.json" -w '%{http_code}' -X POST "$AUD" -H "Authorization: Bearer $first" -H 'Content-Type: application/json' --data @"$OUT/patient-view.json")
[[ "$status" == 200 ]] || { log "patient-view answered $status"; cat "$OUT/sample-response.json"; exit 1; }
first_rs=$(tail -1 "$OUT/rs-tokens-$((THREADS + 1)).txt")
status=$(curl -s -o "$OUT/sample-response-rs384.json" -w '%{http_code}' -X POST "$AUD" -H "Authorization: Bearer $first_rs" -H 'Content-Type: application/json' --data @"$OUT/patient-view.json")
[[ "$status" == 200 ]] || { log "patient-view with RS384 answered $status"; cat "$OUT/sample-response-rs384.json"; exit 1; }
python3 - "$OUT" <<'PY' || { log "ES384 and RS384 calls gave different cards"; exit 1; }
import json, sys
cards = [[{k: v for k, v in c.items() if k != "uuid"} for c in json.load(open(f"{sys.argv[1]}/{name}"))["cards"]]
         for name in ("sample-response.json", "sample-response-rs384.json")]
sys.exit(0 if cards[0] == cards[1] else 1)
PY
log "sample: $(python3 -c "import json,sys; c=json.load(open('$OUT/sample-response.json'))['cards']; print(len(c), 'cards:', ', '.join(x['indicator']+' '+x['source']['topic']['code'] for x in c))")"

load=$(cut -d' ' -f1-3 /proc/loadavg)
log "warm-up $WARMUP (load average $load)"
wrk -t1 -c4 -d "$WARMUP" -s "$OUT/health.lua" "$BASE/health" >/dev/null
run() { # name url script
  log "$1: wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s "$3" "$2" | tee "$OUT/$1.txt" | grep '^RESULT' | sed "s/^RESULT/$1/"
}
pv=$(run patient-view "$BASE" "$OUT/patient-view.lua")
pvr=$(run patient-view-rs384 "$BASE" "$OUT/patient-view-rs384.lua")
hl=$(run health "$BASE/health" "$OUT/health.lua")
# Service time without queueing: one connection, with the spare token file.
one() { # name script
  log "$1, 1 connection: wrk -t1 -c1 -d5s"
  sed "s/counter = counter + 1/counter = $((THREADS + 1))/" "$2" > "${2%.lua}-1.lua"
  wrk -t1 -c1 -d5s -s "${2%.lua}-1.lua" "$BASE" | tee "$OUT/$1-1.txt" | grep '^RESULT' | sed "s/^RESULT/$1(1-conn)/"
}
pv1=$(one patient-view "$OUT/patient-view.lua")
pvr1=$(one patient-view-rs384 "$OUT/patient-view-rs384.lua")
echo "$pv"; echo "$pvr"; echo "$hl"; echo "$pv1"; echo "$pvr1"
rss=$(awk '/VmHWM/ {print $2}' /proc/"$server"/status)

field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }
cpu="$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
{
  echo "## CDS Hooks (issue 5)"
  echo
  echo "\`scripts/bench-cds.sh\`, $(date -u +%Y-%m-%d), release build, SQLite, $cpu, shared with other builds."
  echo "Load average at the start: $load. wrk $THREADS threads, $CONNECTIONS connections, $DURATION each, one server run."
  echo "patient-view: POST /cds-services/calcinosis-assessment with the seed-1 admission prefetch (Patient + 13"
  echo "resources) and a fresh ES384 JWT per request (signature, aud, exp, iat, jti replay check), FHIR → case,"
  echo "engine, cards; patient-view-rs384: the same with RS384 (RSA 2048) tokens."
  echo
  echo "| route | p50 ms | p95 ms | p99 ms | req/s | non-2xx | socket errors |"
  echo "|---|---|---|---|---|---|---|"
  for line in "$pv" "$pvr" "$hl" "$pv1" "$pvr1"; do
    name=${line%% *}
    echo "| $name | $(field "$line" p50) | $(field "$line" p95) | $(field "$line" p99) | $(field "$line" rps) | $(field "$line" non2xx) | $(field "$line" errors) |"
  done
  echo
  echo "Target: patient-view p99 ≤ 10 ms (ES384 is the headline row). Server peak RSS: $((rss / 1024)) MB."
} > "$OUT/results.md"
cat "$OUT/results.md"

# Replace (or append) the CDS Hooks section of BENCHMARKS.md.
python3 - "$OUT/results.md" <<'PY'
import re, sys
section = open(sys.argv[1]).read().rstrip() + "\n"
text = open("BENCHMARKS.md").read()
notes = ""
m = re.search(r"^## CDS Hooks.*?(?=^## |\Z)", text, flags=re.S | re.M)
if m:
    old = m.group(0)
    keep = re.search(r"^### Notes.*", old, flags=re.S | re.M)
    notes = "\n" + keep.group(0).rstrip() + "\n" if keep else ""
    text = text[:m.start()] + section + notes + ("\n" if text[m.end():] else "") + text[m.end():]
else:
    text = text.rstrip() + "\n\n" + section
open("BENCHMARKS.md", "w").write(text)
PY
log "BENCHMARKS.md updated"
