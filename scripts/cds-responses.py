#!/usr/bin/env python3
"""Every CDS Hooks answer of one `calcitrack` binary, for a byte-for-byte before/after comparison.

    scripts/cds-responses.py BINARY OUT.jsonl [--work DIR] [--port N] [--fhir DIR]

Serves BINARY on a fresh SQLite file (demo patients, caller authentication on, a trusted issuer
with an ES384 and an RS384 key kept in DIR so that every binary sees the same keys) and records
status, headers (but Date) and body of: discovery and CORS preflight; patient-view with the
seed-1 admission prefetch (ES384, RS384, prefetch keys with null, a session cookie); variants of
that prefetch that exercise the Inbound paths (dateTimes with offsets and fractions, invalid
times, absolute/_history/urn:uuid/non-ASCII references, body sites as text, unknown elements,
a modifier extension, an implausible value the decoder rejects); every demo patient from the
registry (audited reads); 412s; every 401 of the token checks; 400s; feedback (good and bad);
optionally one call per patient of an NDJSON export (--fhir DIR, e.g. `calcitrack export`);
and at the end the audit entries the calls wrote (action, resource, patient, actor, detail).
Random card uuids and registry patient ids are replaced by stable names; nothing else is.
Compare two runs with `cmp` or `diff`.
"""
import argparse, base64, copy, json, os, re, sqlite3, subprocess, sys, time, urllib.error, urllib.request, uuid
from collections import defaultdict

from cryptography.hazmat.primitives import hashes, serialization, hmac as chmac
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ap = argparse.ArgumentParser()
ap.add_argument("binary"); ap.add_argument("out")
ap.add_argument("--work", default="artifacts/cds-responses"); ap.add_argument("--port", type=int, default=8096)
ap.add_argument("--fhir", help="directory of NDJSON files (Patient.ndjson, ...): one call per patient")
args = ap.parse_args()
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.makedirs(args.work, exist_ok=True)
base = f"http://127.0.0.1:{args.port}"
service = base + "/cds-services/calcinosis-assessment"
iss = "https://golden-ehr.example.org"
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()

# Keys: made once per work directory, so that both binaries trust the same issuer file.
ec_path, rsa_path = f"{args.work}/ec.pem", f"{args.work}/rsa.pem"
if not os.path.exists(ec_path):
    open(ec_path, "wb").write(ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    open(rsa_path, "wb").write(rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
ec_key = serialization.load_pem_private_key(open(ec_path, "rb").read(), None)
rsa_key = serialization.load_pem_private_key(open(rsa_path, "rb").read(), None)
en, rn = ec_key.public_key().public_numbers(), rsa_key.public_key().public_numbers()
big = lambda n: n.to_bytes((n.bit_length() + 7) // 8, "big")
json.dump({iss: {"jwks": {"keys": [
    {"kty": "EC", "crv": "P-384", "kid": "g-ec", "use": "sig", "x": b64(en.x.to_bytes(48, "big")), "y": b64(en.y.to_bytes(48, "big"))},
    {"kty": "RSA", "kid": "g-rsa", "use": "sig", "alg": "RS384", "n": b64(big(rn.n)), "e": b64(big(rn.e))}]}}},
    open(f"{args.work}/issuers.json", "w"))

counter = [0]
def token(aud=service, alg="ES384", kid=None, iss_=iss, exp=3600, iat=0, jti=None, sign=True):
    now = int(time.time())
    counter[0] += 1
    kid = kid or ("g-rsa" if alg.startswith("RS") else "g-ec")
    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps({"iss": iss_, "sub": "golden", "aud": aud, "iat": now + iat, "exp": now + exp,
                              "jti": jti or f"golden-{counter[0]}"}).encode())
    data = f"{header}.{payload}".encode()
    if not sign: return f"{header}.{payload}."
    if alg == "ES384":
        r, s = decode_dss_signature(ec_key.sign(data, ec.ECDSA(hashes.SHA384())))
        sig = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    elif alg in ("RS384", "RS256"):
        sig = rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA384() if alg == "RS384" else hashes.SHA256())
    elif alg == "HS384":
        h = chmac.HMAC(b"shared-secret-shared-secret-shared-secret-shared", hashes.SHA384()); h.update(data); sig = h.finalize()
    return f"{header}.{payload}.{b64(sig)}"

db = f"{args.work}/golden.sqlite"
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(db + suffix): os.remove(db + suffix)
env = dict(os.environ, CALCITRACK_CDS_ISSUERS=f"{args.work}/issuers.json", CALCITRACK_PUBLIC_URL=base)
server = subprocess.Popen([args.binary, "serve", "--port", str(args.port), "--database", db],
                          env=env, stdout=open(f"{args.work}/serve.log", "w"), stderr=subprocess.STDOUT)
for _ in range(300):
    try: urllib.request.urlopen(base + "/health", timeout=1); break
    except Exception: time.sleep(0.1)

names = {}  # random ids → stable names
def name_of(kind, value):
    key = (kind, value)
    if key not in names: names[key] = f"<{kind}-{sum(1 for k in names if k[0] == kind) + 1}>"
    return names[key]
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
issued = {}  # card uuid as issued, for feedback
demo_ids = set()

def normalize(text):
    def sub(m):
        v = m.group(0)
        if v in demo_ids: return name_of("patient", v)
        if v in issued: return issued[v]
        return v
    return UUID_RE.sub(sub, text)

out = open(args.out, "w")
def call(label, method, path, body=None, tok=None, headers=None):
    h = dict(headers or {})
    if body is not None: h["Content-Type"] = "application/json"
    if tok is not None: h["Authorization"] = "Bearer " + tok
    data = body if isinstance(body, (bytes, type(None))) else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r: status, rh, raw = r.status, r.getheaders(), r.read()
    except urllib.error.HTTPError as e: status, rh, raw = e.code, e.headers.items(), e.read()
    text = raw.decode("utf-8")
    if status == 200 and text.startswith('{"cards"'):
        for card in json.loads(text)["cards"]:
            issued.setdefault(card["uuid"], f"<card-{len(issued) + 1}>")
    # A new session's cookie is random: kept as "a cookie was set".
    kept = sorted((k.lower(), "<new session cookie>" if k.lower() == "set-cookie" else normalize(v)) for k, v in rh if k.lower() not in ("date", "x-request-id"))
    out.write(json.dumps({"case": label, "status": status, "headers": kept, "body": normalize(text)}, ensure_ascii=False) + "\n")
    return status, text

# --- inputs -------------------------------------------------------------------------------------
bundle = json.load(open(f"{repo}/Tests/CalciTrackFHIRTests/Fixtures/seed-1-admission.fhir.json"))
patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
rest = copy.deepcopy(bundle); rest["type"] = "searchset"
rest["entry"] = [e for e in rest["entry"] if e["resource"]["resourceType"] != "Patient"]
# The prefetch keys discovery declares, by the resource type each asks for: a prefetch must send
# every one (null: none), or it is incomplete (registry patient: the registry record; else 412).
KEYS = {"Condition": "conditions", "Observation": "observations", "MedicationStatement": "medications", "BodyStructure": "lesions", "Encounter": "encounters"}
def by_key(patient, entries):
    prefetch = {"patient": patient}
    for t, key in KEYS.items():
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": [e for e in entries if e["resource"]["resourceType"] == t]}
    return prefetch
def hook(pid, prefetch=None, **extra):
    body = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "fhirServer": "https://golden-ehr.example.org/fhir",
            "context": {"userId": "Practitioner/golden", "patientId": pid}}
    if prefetch is not None: body["prefetch"] = prefetch
    body.update(extra)
    return body
seed1 = hook(patient["id"], by_key(patient, rest["entry"]))
SVC = "/cds-services/calcinosis-assessment"

def transform(value, f):
    if isinstance(value, dict): return {k: transform(f(k, v), f) for k, v in value.items()}
    if isinstance(value, list): return [transform(v, f) for v in value]
    return value
DAY = re.compile(r"^\d{4}-\d\d-\d\d$")
def dates(suffix):
    return lambda k, v: v + suffix if isinstance(v, str) and DAY.match(v) and k != "birthDate" else v
def refs(fmt):
    return lambda k, v: (fmt.format(v.split("/")[0], v.split("/")[-1]) if k == "reference" and isinstance(v, str) and v.count("/") == 1 else v)
def body_site_text(text):
    def f(k, v):
        if k == "location" and isinstance(v, dict): return {"text": text}
        return v
    return f
def variant(f):
    return hook(patient["id"], by_key(patient, transform(copy.deepcopy(rest), f)["entry"]))

# --- calls ----------------------------------------------------------------------------------------
call("discovery", "GET", "/cds-services")
call("preflight", "OPTIONS", SVC, headers={"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST",
                                            "Access-Control-Request-Headers": "authorization,content-type"})
call("seed-1 ES384", "POST", SVC, seed1, token())
call("seed-1 RS384", "POST", SVC, seed1, token(alg="RS384"))
call("seed-1 with a null prefetch key", "POST", SVC, hook(patient["id"], dict(by_key(patient, rest["entry"]), encounters=None)), token())
call("seed-1 with Origin", "POST", SVC, seed1, token(), headers={"Origin": "https://sandbox.cds-hooks.org"})
call("seed-1 with a session cookie (new: no session lookup)", "POST", SVC, seed1, token(), headers={"Cookie": "calcitrack_session=abc"})
for label, suffix in [("dateTime Z", "T08:30:00Z"), ("dateTime offset+fraction", "T08:30:00.123+02:00"), ("dateTime leap second", "T23:59:60-05:00"),
                      ("dateTime no zone", "T08:30:00"), ("dateTime hour 24", "T24:00:00Z"), ("dateTime no seconds", "T08:30Z"),
                      ("dateTime offset 15h", "T08:30:00+15:00"), ("dateTime empty fraction", "T08:30:00.Z"), ("dateTime two T", "T08:30:00ZT"),
                      ("dateTime unicode", "T08:30:00Ｚ"), ("dateTime lowercase z", "T08:30:00z")]:
    call("dates " + label, "POST", SVC, variant(dates(suffix)), token())
for label, fmt in [("absolute", "https://golden-ehr.example.org/fhir/{0}/{1}"), ("_history", "{0}/{1}/_history/3"),
                   ("double slash", "{0}//{1}"), ("trailing slash", "{0}/{1}/"), ("non-ASCII id", "{0}/{1}é"),
                   ("non-ASCII type", "Pätient/{1}"), ("type only", "{0}"), ("lower-case type", "patient/{1}")]:
    call("references " + label, "POST", SVC, variant(refs(fmt)), token())
for text in ["Right thigh", "left distal forearm", "finger", "right lower leg", "Thigh, right", "elbow  right", "Ellbogen"]:
    call("body site " + text, "POST", SVC, variant(body_site_text(text)), token())
call("unknown element", "POST", SVC, variant(lambda k, v: dict(v, unknownThing=1) if isinstance(v, dict) and "resourceType" in v else v), token())
call("modifier extension", "POST", SVC, variant(lambda k, v: dict(v, modifierExtension=[{"url": "http://x/y", "valueBoolean": True}])
                                             if isinstance(v, dict) and v.get("resourceType") == "MedicationStatement" else v), token())
call("implausible value", "POST", SVC, variant(lambda k, v: dict(v, value=99999) if k == "valueQuantity" and isinstance(v, dict) else v), token())

# Registry patients (demo data): the registry path, audited.
con = sqlite3.connect(db)
demo = [str(r[0]).lower() for r in con.execute("SELECT id FROM patients ORDER BY mrn")]
con.close()
demo_ids.update(demo)
for pid in demo:
    call("registry " + name_of("patient", pid), "POST", SVC, hook(pid), token())
call("412 unknown uuid", "POST", SVC, hook("0b6c9a3e-5d2f-4f7a-9a51-1c2d3e4f5a6b"), token())
call("412 not a uuid", "POST", SVC, hook("abc"), token())

# Token checks.
call("401 no token", "POST", SVC, seed1)
call("401 expired", "POST", SVC, seed1, token(exp=-60, iat=-360))
call("401 audience", "POST", SVC, seed1, token(aud="https://other.example.org" + SVC))
call("401 issuer", "POST", SVC, seed1, token(iss_="https://evil.example.org"))
call("401 iat future", "POST", SVC, seed1, token(iat=3600))
t = token(jti="golden-replayed")
call("replay first", "POST", SVC, seed1, t); call("401 replay", "POST", SVC, seed1, t)
call("401 HS384", "POST", SVC, seed1, token(alg="HS384"))
call("401 none", "POST", SVC, seed1, token(alg="none", sign=False))
call("401 RS256", "POST", SVC, seed1, token(alg="RS256"))
good = token().split(".")
confused = b64(json.dumps({"alg": "RS384", "typ": "JWT", "kid": "g-ec"}).encode()) + "." + good[1] + "." + good[2]
call("401 algorithm confusion", "POST", SVC, seed1, confused)
call("401 bad signature", "POST", SVC, seed1, good[0] + "." + good[1] + "." + good[2][:-4] + "AAAA")
call("401 not a JWT", "POST", SVC, seed1, "abc.def")
call("401 unknown kid", "POST", SVC, seed1, token(kid="nope"))
call("401 Basic", "POST", SVC, seed1, headers={"Authorization": "Basic abc"})

# Bad requests.
call("400 not JSON", "POST", SVC, b"{nope", token())
call("400 empty body", "POST", SVC, b"", token())
call("400 array", "POST", SVC, b"[]", token())
call("400 other hook", "POST", SVC, dict(seed1, hook="order-sign"), token())
call("400 no context", "POST", SVC, {k: v for k, v in seed1.items() if k != "context"}, token())
call("400 prefetch not an object", "POST", SVC, dict(seed1, prefetch=[1]), token())
call("400 prefetch other patient", "POST", SVC, hook("someone-else", {"patient": patient}), token())
call("400 fhirAuthorization without fhirServer", "POST", SVC, {k: v for k, v in dict(seed1, fhirAuthorization={"access_token": "x"}).items() if k != "fhirServer"}, token())

# Feedback.
card = next(iter(issued))
fb = token(aud=service + "/feedback")
call("feedback", "POST", SVC + "/feedback", {"feedback": [{"card": card, "outcome": "overridden", "overrideReason": {"reason": {"code": "not-relevant"}, "userComment": "Jane"},
                                                            "outcomeTimestamp": "2026-11-24T10:00:00Z"}]}, fb)
call("feedback unknown card", "POST", SVC + "/feedback", {"feedback": [{"card": "x", "outcome": "accepted", "acceptedSuggestions": [{"id": "s1"}],
                                                                         "outcomeTimestamp": "2026-11-24T10:00:00Z"}]}, token(aud=service + "/feedback"))
call("400 feedback", "POST", SVC + "/feedback", {"feedback": [{"card": "x", "outcome": "maybe", "outcomeTimestamp": "2026-11-24T10:00:00Z"}]}, token(aud=service + "/feedback"))

# A generated registry's export: one call per patient, its resources as the prefetch.
if args.fhir:
    by_patient = defaultdict(list)
    patients = [json.loads(l) for l in open(f"{args.fhir}/Patient.ndjson")]
    for f in sorted(os.listdir(args.fhir)):
        if f == "Patient.ndjson" or not f.endswith(".ndjson"): continue
        for line in open(f"{args.fhir}/{f}"):
            r = json.loads(line)
            ref = (r.get("subject") or r.get("patient") or {}).get("reference", "")
            by_patient[ref].append(r)
    for i, p in enumerate(patients):
        entries = [{"fullUrl": f"https://golden-ehr.example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in by_patient["Patient/" + p["id"]]]
        prefetch = by_key(p, entries)
        if i % 2 == 1:  # every other patient: the keys it has nothing for as null
            prefetch = {k: (None if k != "patient" and not v["entry"] else v) for k, v in prefetch.items()}
        call(f"export patient {i}", "POST", SVC, hook(p["id"], prefetch), token())

server.terminate(); server.wait()
con = sqlite3.connect(db)
cols = [r[1] for r in con.execute("PRAGMA table_info(audit_entries)")]
keep = [c for c in ("action", "resource_type", "resource_id", "patient_id", "actor", "role", "detail") if c in cols]
for row in con.execute(f"SELECT {', '.join(keep)} FROM audit_entries WHERE actor LIKE 'cds:%' ORDER BY rowid"):
    out.write(json.dumps({"audit": [normalize(str(v)) for v in row]}, ensure_ascii=False) + "\n")
out.close()
print(f"{args.out}: {sum(1 for _ in open(args.out))} lines")
