#!/usr/bin/env bash
# CDS Hooks end to end, through the real configuration path: `calcitrack serve` on a fresh SQLite
# file with CALCITRACK_CDS_ISSUERS (a JWKS file made here from a fresh ES384 key; python
# cryptography) and CALCITRACK_PUBLIC_URL; then discovery, patient-view with the seed-1 admission
# prefetch (critical infection card, HOLD-01 warning), order-sign of seed 1's discharge
# doxycycline (DDI-02 warning offering to remove the draft, HOLD-02 offering a valid INR
# ServiceRequest, and the feedback accepting a suggestion), 412 without prefetch for an unknown
# patient and for a prefetch that omits declared keys, 401 for an unsigned (alg none) token with
# its WWW-Authenticate challenge and CORS headers, a refused oct key
# at startup, and the startup warning of CALCITRACK_CDS_AUTH=off. Needs python3 with cryptography (.ci/run installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
. Tests/e2e/lib.sh
BIN="${CALCITRACK_BIN:-.build/debug/calcitrack}"
[ -x "$BIN" ] || { echo "missing $BIN: run swift build first"; exit 1; }
python3 -c 'import cryptography' 2>/dev/null || { echo "cds-hooks: needs python3 cryptography (pip install cryptography)"; exit 1; }
tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
fail() { echo "cds-hooks: FAIL: $*"; [ -f "$tmp/serve.log" ] && tail -20 "$tmp/serve.log"; exit 1; }

# Key, issuer file, tokens (one per call: replays are refused), request bodies.
python3 - "$tmp" "$BASE" <<'PY'
import base64, json, sys, time, uuid
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
tmp, base = sys.argv[1], sys.argv[2]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = ec.generate_private_key(ec.SECP384R1()); n = key.public_key().public_numbers()
iss = "https://e2e-ehr.example.org"
json.dump({iss: {"jwks": {"keys": [{"kty": "EC", "crv": "P-384", "kid": "e2e", "x": b64(n.x.to_bytes(48, "big")), "y": b64(n.y.to_bytes(48, "big"))}]}}},
          open(f"{tmp}/issuers.json", "w"))
json.dump({iss: {"jwks": {"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}}}, open(f"{tmp}/oct.json", "w"))
def token(aud, alg="ES384"):
    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "e2e"}).encode())
    payload = b64(json.dumps({"iss": iss, "sub": "e2e", "aud": aud, "iat": int(time.time()), "exp": int(time.time()) + 300, "jti": str(uuid.uuid4())}).encode())
    if alg == "none": return f"{header}.{payload}."
    r, s = decode_dss_signature(key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA384())))
    return f"{header}.{payload}.{b64(r.to_bytes(48, 'big') + s.to_bytes(48, 'big'))}"
aud = base + "/cds-services/calcinosis-assessment"
for name in ["t1", "t2", "t3"]: open(f"{tmp}/{name}", "w").write(token(aud))
open(f"{tmp}/none", "w").write(token(aud, "none"))
bundle = json.load(open("Tests/CalciTrackFHIRTests/Fixtures/seed-1-admission.fhir.json"))
patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
# The prefetch as discovery declares it: one searchset per key (an omitted key makes it incomplete).
searchset = lambda t: {"resourceType": "Bundle", "type": "searchset", "entry": [e for e in bundle["entry"] if e["resource"]["resourceType"] == t]}
prefetch = {"patient": patient, "conditions": searchset("Condition"), "observations": searchset("Observation"),
            "medications": searchset("MedicationStatement"), "lesions": searchset("BodyStructure"), "encounters": searchset("Encounter")}
ctx = lambda pid: {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": {"userId": "Practitioner/e2e", "patientId": pid}}
json.dump(dict(ctx(patient["id"]), prefetch=prefetch), open(f"{tmp}/seed1.json", "w"))
json.dump(dict(ctx(patient["id"]), prefetch={"patient": patient}), open(f"{tmp}/partial.json", "w"))
json.dump(ctx(str(uuid.uuid4())), open(f"{tmp}/unknown.json", "w"))
# order-sign: seed 1's discharge prescription of oral doxycycline, drafted for the admission case.
sign = base + "/cds-services/calcinosis-medication-safety-sign"
open(f"{tmp}/s1", "w").write(token(sign)); open(f"{tmp}/f1", "w").write(token(sign + "/feedback"))
doxycycline = {"resourceType": "MedicationRequest", "id": "discharge-doxy", "status": "draft", "intent": "order",
               "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "3640", "display": "doxycycline"}]},
               "subject": {"reference": "Patient/" + patient["id"]}}
order = dict(ctx(patient["id"]), hook="order-sign", prefetch=prefetch)
order["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": doxycycline}]}
json.dump(order, open(f"{tmp}/sign.json", "w"))
PY

# A symmetric key in the issuer file stops the server at startup, naming the entry.
if CALCITRACK_CDS_ISSUERS="$tmp/oct.json" timeout 20 "$BIN" serve --port "$PORT" --database "$tmp/oct.sqlite" > "$tmp/oct.log" 2>&1; then
  fail "the server started with an oct key"
fi
grep -q "kty oct" "$tmp/oct.log" || fail "no message naming the oct key: $(tail -3 "$tmp/oct.log")"

CALCITRACK_CDS_ISSUERS="$tmp/issuers.json" CALCITRACK_PUBLIC_URL="$BASE" "$BIN" serve --port "$PORT" --database "$tmp/cds.sqlite" > "$tmp/serve.log" 2>&1 &
server=$!
wait_for_health "$BASE" || fail "the server did not start"

curl -sf "$BASE/cds-services" | python3 -c 'import json,sys; s=json.load(sys.stdin)["services"][0]; assert s["id"]=="calcinosis-assessment" and s["hook"]=="patient-view", s' \
  || fail "discovery"
post() { curl -s -o "$tmp/out.json" -w '%{http_code}' -X POST "$BASE/cds-services/calcinosis-assessment" -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat "$tmp/$1")" --data @"$tmp/$2"; }
[ "$(post t1 seed1.json)" = 200 ] || fail "patient-view: $(cat "$tmp/out.json")"
python3 - "$tmp/out.json" <<'PY' || fail "seed-1 cards"
import json, sys
cards = json.load(open(sys.argv[1]))["cards"]
topics = {c["source"]["topic"]["code"]: c["indicator"] for c in cards}
assert topics.get("infection-severe") == "critical", topics
assert topics.get("alert:HOLD-01") == "warning", topics
assert all(len(c["summary"]) < 140 for c in cards)
print("cds-hooks: seed-1:", ", ".join(f"{v} {k}" for k, v in topics.items()))
PY
# order-sign: DDI-02 offers removing the draft (CDS Hooks 2.0 Suggestion, delete Action; with
# suggestions a card names its selectionBehavior), HOLD-02 the INR order (create Action, a valid
# ServiceRequest), and the feedback accepting a suggestion is taken.
code=$(curl -s -o "$tmp/sign-out.json" -w '%{http_code}' -X POST "$BASE/cds-services/calcinosis-medication-safety-sign" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $(cat "$tmp/s1")" --data @"$tmp/sign.json")
[ "$code" = 200 ] || fail "order-sign: $code $(cat "$tmp/sign-out.json")"
python3 - "$tmp/sign-out.json" "$tmp/feedback.json" <<'PY' || fail "order-sign cards"
import json, sys
cards = json.load(open(sys.argv[1]))["cards"]
ddi = next(c for c in cards if c["source"]["topic"]["code"] == "alert:DDI-02")
assert ddi["indicator"] == "warning", ddi
assert ddi["selectionBehavior"] == "at-most-one", ddi
[suggestion] = ddi["suggestions"]
assert suggestion["actions"] == [{"type": "delete", "description": suggestion["actions"][0]["description"], "resourceId": "MedicationRequest/discharge-doxy"}], suggestion
assert all("selectionBehavior" in c for c in cards if c.get("suggestions")), cards
# HOLD-02 (warfarin with doxycycline) also offers the INR it asks for: a draft ServiceRequest that
# must be valid FHIR R4 (fhirclient strict) and R4B (fhir.resources), as everything CalciTrack serves.
hold = next(c for c in cards if c["source"]["topic"]["code"] == "alert:HOLD-02")
[create] = [a for s in hold["suggestions"] for a in s["actions"] if a["type"] == "create"]
request = create["resource"]
assert request["resourceType"] == "ServiceRequest" and request["code"]["coding"][0]["code"] == "6301-6", request
from fhirclient.models.servicerequest import ServiceRequest
ServiceRequest(request, strict=True)
from fhir.resources.R4B import get_fhir_model_class
get_fhir_model_class("ServiceRequest").model_validate(request)
json.dump({"feedback": [{"card": ddi["uuid"], "outcome": "accepted", "acceptedSuggestions": [{"id": suggestion["uuid"]}],
                         "outcomeTimestamp": "2026-12-07T10:00:00Z"}]}, open(sys.argv[2], "w"))
print("cds-hooks: order-sign: DDI-02 offers", suggestion["label"] + "; HOLD-02 offers", create["description"])
PY
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/cds-services/calcinosis-medication-safety-sign/feedback" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $(cat "$tmp/f1")" --data @"$tmp/feedback.json")" = 200 ] || fail "feedback accepting the suggestion"
[ "$(post t2 unknown.json)" = 412 ] || fail "unknown patient without prefetch should answer 412: $(cat "$tmp/out.json")"
# A prefetch without the keys discovery declares, for a patient the registry does not hold: 412 naming them.
[ "$(post t3 partial.json)" = 412 ] || fail "an incomplete prefetch of an unknown patient should answer 412: $(cat "$tmp/out.json")"
grep -q "omits conditions, observations, medications, lesions, encounters" "$tmp/out.json" || fail "the 412 should name the omitted keys: $(cat "$tmp/out.json")"
[ "$(post t1 seed1.json)" = 401 ] || fail "a replayed token should answer 401"
# A refusal carries the Bearer challenge (RFC 6750) and, for a browser client, the CORS headers.
headers=$(curl -s -D - -o /dev/null -X POST "$BASE/cds-services/calcinosis-assessment" -H 'Content-Type: application/json' \
  -H 'Origin: https://sandbox.cds-hooks.org' -H "Authorization: Bearer $(cat "$tmp/none")" --data @"$tmp/seed1.json")
echo "$headers" | grep -qi '^www-authenticate: Bearer error="invalid_token"' || fail "alg none: no WWW-Authenticate challenge: $headers"
echo "$headers" | grep -qi '^access-control-allow-origin: \*' || fail "alg none: no CORS headers on the 401: $headers"
[ "$(post none seed1.json)" = 401 ] || fail "alg none should answer 401"
kill "$server"; wait "$server" 2>/dev/null || true; server=""

# Authentication off: accepted, and warned about at startup.
CALCITRACK_CDS_AUTH=off "$BIN" serve --port "$PORT" --database "$tmp/cds.sqlite" > "$tmp/off.log" 2>&1 &
server=$!
wait_for_health "$BASE" || true  # the warning check below is the test
grep -q "authentication is OFF" "$tmp/off.log" || fail "no startup warning with CALCITRACK_CDS_AUTH=off"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/cds-services/calcinosis-assessment" -H 'Content-Type: application/json' --data @"$tmp/seed1.json")" = 200 ] \
  || fail "auth off should accept an unsigned call"
echo "cds-hooks: ok"
