"""FHIR write side and bulk import end to end (Tests/e2e/interop.sh starts the server).

Every check appends to `failures`; the script exits 1 when any failed, after running all.
"""
import glob
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

BASE = os.environ["CALCITRACK_URL"] + "/fhir"
TOKEN = os.environ["CLINICIAN_TOKEN"]
RESEARCHER = os.environ["RESEARCHER_TOKEN"]
BIN = os.environ["CALCITRACK_BIN"]
SERVER_DB = os.environ["SERVER_DB"]
WORK = os.environ["WORK"]
CB_PROFILES = [("ckd_stage3", 3), ("type2_diabetes", 5), ("hypertension", 7), ("anaemia", 11)]
CB_COUNT = 2
MRN = "https://calcitrack.org/fhir/sid/mrn/"

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("  FAIL", message)
    return condition


def run(*args, expect=(0,)):
    result = subprocess.run([BIN, *args], capture_output=True, text=True)
    if result.returncode not in expect:
        check(False, f"{' '.join(args)} exited {result.returncode}: {result.stdout[-2000:]} {result.stderr[-2000:]}")
    return result


def import_files(path, db, *extra, expect=(0,)):
    report = os.path.join(WORK, f"report-{time.time_ns()}.json")
    result = run("import", path, "--database", db, "--progress", "none", "--report", report, *extra, expect=expect)
    try:
        with open(report) as f:
            return json.load(f)
    except OSError:
        check(False, f"import {path} wrote no report: {result.stdout[-1000:]}")
        return {"created": 0, "updated": 0, "unchanged": 0, "rejected": [], "notStored": [], "resumedAfter": 0}


def count(db, table, where=""):
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0]
    finally:
        con.close()


DATA_TABLES = ["patients", "lesions", "lesion_measurements", "visits", "lab_results", "vital_signs", "medications",
               "medication_holds", "procedures", "infection_episodes", "imaging_studies"]


def table_counts(db):
    con = sqlite3.connect(db)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in DATA_TABLES if t in names}
    finally:
        con.close()


def audit_ok(db, label):
    result = run("audit", "verify", "--database", db)
    check("intact" in result.stdout, f"{label}: audit verify: {result.stdout.strip()}")


def http(method, path, body=None, token=TOKEN, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/fhir+json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req) as response:
            text = response.read().decode()
            return response.status, dict(response.headers), json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        return e.code, dict(e.headers), json.loads(text) if text else None


def fresh_db(name, *sites):
    db = os.path.join(WORK, name)
    for site in sites:
        run("site", "add", site, f"{site} patients", "--database", db)
    return db


# --------------------------------------------------------------------------- carebundle
def carebundle():
    print("carebundle transaction Bundles: calcitrack import and POST /fhir")
    out = os.path.join(WORK, "carebundle")
    for profile, seed in CB_PROFILES:
        subprocess.run(["carebundle", "generate", "--profile", profile, "--count", str(CB_COUNT), "--seed", str(seed),
                        "--out", out], check=True, capture_output=True)
    bundles = sorted(glob.glob(os.path.join(out, "*.json")))
    check(len(bundles) == len(CB_PROFILES) * CB_COUNT, f"carebundle wrote {len(bundles)} bundles")
    patients = len(bundles)

    db = fresh_db("carebundle-cli.sqlite", "CB")
    first = import_files(out, db, "--site", "CB")
    check(first["created"] > patients and not first["rejected"], f"carebundle CLI import: created {first['created']}, rejected {first['rejected'][:3]}")
    check(count(db, "patients") == patients, f"carebundle CLI import: {count(db, 'patients')} patients, expected {patients}")
    check(count(db, "lab_results") > 0 and count(db, "vital_signs") > 0, "carebundle CLI import stored no labs or vitals")
    check(all(n["reason"] for n in first["notStored"]), "every resource not stored has a reason")
    before = table_counts(db)
    again = os.path.join(WORK, "carebundle-again")
    shutil.copytree(out, again)  # another path: the progress table does not skip it, the ledger must
    second = import_files(again, db, "--site", "CB")
    check(second["created"] == 0 and second["updated"] == 0, f"carebundle CLI re-import created {second['created']}, updated {second['updated']}")
    check(table_counts(db) == before, f"carebundle CLI re-import changed the registry: {before} -> {table_counts(db)}")
    audit_ok(db, "carebundle CLI")

    statuses = []
    for path in bundles:
        with open(path) as f:
            bundle = json.load(f)
        status, _, reply = http("POST", "", bundle)
        if not check(status == 200 and reply.get("type") == "transaction-response", f"POST {os.path.basename(path)}: {status} {json.dumps(reply)[:500]}"):
            continue
        for entry in reply["entry"]:
            code = entry["response"]["status"]
            statuses.append(code)
            if code.startswith("422"):
                check(entry["response"].get("outcome", {}).get("resourceType") == "OperationOutcome", f"422 entry without an OperationOutcome: {entry}")
        status, _, reply = http("POST", "", bundle)
        check(status == 200 and all(not e["response"]["status"].startswith("201") for e in reply.get("entry", [])),
              f"POST {os.path.basename(path)} again created resources: {[e['response']['status'] for e in reply.get('entry', [])]}")
    check(any(s.startswith("201") for s in statuses), "POST /fhir created nothing")
    check(count(SERVER_DB, "patients") == patients, f"server has {count(SERVER_DB, 'patients')} patients after posting every bundle twice, expected {patients}")
    status, _, reply = http("POST", "", {"resourceType": "Bundle", "type": "transaction", "entry": []}, token=RESEARCHER)
    check(status == 403 and reply.get("resourceType") == "OperationOutcome", f"researcher POST /fhir: {status}")


# --------------------------------------------------------------------------- round trip
ENTRY_TIME = {("MedicationStatement", "dateAsserted"), ("Condition", "recordedDate")}


def normalise(resource):
    """What an import into another registry cannot keep: when a record was entered (meta, the
    entry-time fields below) and the order of the derived calcinosis Condition's lesion lists
    (lesions imported together share their entry time)."""
    r = dict(resource)
    r.pop("meta", None)
    for t, field in ENTRY_TIME:
        if r["resourceType"] == t:
            r.pop(field, None)
    if r["resourceType"] == "Observation" and r["id"].startswith("weight-"):
        r.pop("effectiveDateTime", None)  # the weight's date is the patient row's update time
    if r["resourceType"] == "Condition" and r["id"].startswith("calcinosis-"):
        for key in ("bodySite", "evidence"):
            if key in r:
                r[key] = sorted(r[key], key=lambda x: json.dumps(x, sort_keys=True))
    return r


def load_export(directory):
    out = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.ndjson"))):
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                out[(r["resourceType"], r["id"])] = normalise(r)
    return out


def compare(a, b, label):
    missing, extra = set(a) - set(b), set(b) - set(a)
    differing = [k for k in a if k in b and a[k] != b[k]]
    check(not missing and not extra, f"{label}: {len(missing)} resources lost, {len(extra)} added: {sorted(missing)[:3]} {sorted(extra)[:3]}")
    for k in differing[:5]:
        check(False, f"{label}: {k} differs:\n    {json.dumps(a[k], sort_keys=True)[:700]}\n    {json.dumps(b[k], sort_keys=True)[:700]}")
    return not missing and not extra and not differing


def round_trip():
    print("round trip: generate -> export -> import into a fresh registry -> export")
    source = os.path.join(WORK, "rt-source.sqlite")
    run("generate", "--patients", "40", "--seed", "9", "--as-of", "2026-11-20", "--database", source)
    e1, e2, e3 = (os.path.join(WORK, f"rt-e{i}") for i in (1, 2, 3))
    run("export", "--format", "ndjson", "--database", source, e1)
    second = fresh_db("rt-second.sqlite", "SYNTH")
    summary = import_files(e1, second)
    check(not summary["rejected"], f"round trip import rejected {summary['rejected'][:3]}")
    check(table_counts(second) == table_counts(source), f"round trip: row counts differ: {table_counts(source)} -> {table_counts(second)}")
    run("export", "--format", "ndjson", "--database", second, e2)
    compare(load_export(e1), load_export(e2), "export -> import -> export")
    third = fresh_db("rt-third.sqlite", "SYNTH")
    import_files(e2, third)
    run("export", "--format", "ndjson", "--database", third, e3)
    compare(load_export(e2), load_export(e3), "second round trip")
    audit_ok(second, "round trip")


# --------------------------------------------------------------------------- clinosim
def r4_invalid(resource):
    """The R4 (4.0.1) validation error of a resource by fhirclient's strict models, or None."""
    import importlib
    try:
        module = importlib.import_module("fhirclient.models." + resource["resourceType"].lower())
        getattr(module, resource["resourceType"])(resource, strict=True)
        return None
    except Exception as e:  # fhirclient raises FHIRValidationError with the element path
        return str(e)


def clinosim():
    print("clinosim NDJSON: R4-invalid resources rejected naming the element, the rest imported")
    out = os.path.join(WORK, "clinosim")
    subprocess.run(["clinosim", "simulate", "-o", out, "-p", os.environ.get("CLINOSIM_POPULATION", "100"), "-s", "11",
                    "--country", "US", "--end", "2026-06-30", "--format", "fhir-r4"], check=True, capture_output=True)
    ndjson = os.path.join(out, "fhir_r4")
    db = fresh_db("clinosim.sqlite", "CS")
    summary = import_files(ndjson, db, "--site", "CS", expect=(0, 2))
    check(summary["created"] > 0, f"clinosim import created nothing: {json.dumps(summary)[:800]}")
    check(count(db, "patients") > 0 and count(db, "lab_results") > 0, "clinosim import stored no patients or labs")
    # clinosim writes a Bulk Data manifest.json (ignored) and _generator_metadata.json (not FHIR:
    # rejected as a whole file, naming why) beside its NDJSON files.
    check(any(i.endswith("manifest.json (a Bulk Data manifest)") for i in summary["ignored"]), f"clinosim manifest not listed as ignored: {summary['ignored']}")
    whole = [r for r in summary["rejected"] if r["position"] == "whole file"]
    check([os.path.basename(r["file"]) for r in whole] == ["_generator_metadata.json"]
          and whole[0]["issues"] == ["not a FHIR Bundle: the object has no resourceType"], f"clinosim whole-file rejections: {whole}")
    rejected = {(r["resourceType"], r["id"]): r for r in summary["rejected"]}
    for r in summary["rejected"]:
        if r["position"] == "whole file":
            continue
        check(r["issues"] and all(re.match(r"[A-Z][A-Za-z]+(\.[A-Za-z\[\]0-9]+)+: ", i) for i in r["issues"]),
              f"clinosim rejection without an element path: {r}")
    # Resources of the types CalciTrack stores that R4 itself calls invalid must be among the rejected.
    stored_types = {"Patient", "Condition", "Observation", "Encounter", "Procedure", "MedicationRequest", "MedicationStatement",
                    "BodyStructure", "ImagingStudy"}
    invalid = []
    for path in glob.glob(os.path.join(ndjson, "*.ndjson")):
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                resource = json.loads(line)
                if resource["resourceType"] in stored_types:
                    error = r4_invalid(resource)
                    if error:
                        invalid.append(((resource["resourceType"], resource.get("id")), error))
    accepted_invalid = [(k, e) for k, e in invalid if k not in rejected]
    print(f"  {summary['created']} created, {len(summary['rejected'])} rejected, {len(invalid)} R4-invalid by fhirclient")
    for k, e in accepted_invalid[:5]:
        check(False, f"clinosim {k[0]}/{k[1]} is invalid R4 ({e[:300]}) but was accepted")
    audit_ok(db, "clinosim")


# --------------------------------------------------------------------------- fhirpy
def fhirpy_client():
    print("fhirpy: create, search, stale update (412), $everything")
    from fhirpy import SyncFHIRClient
    from fhirpy.base.exceptions import MultipleResourcesFound, OperationOutcome as FHIRError
    client = SyncFHIRClient(BASE, authorization=f"Bearer {TOKEN}", extra_headers={"Content-Type": "application/fhir+json"})
    patient = client.resource("Patient", identifier=[{"system": MRN + "CB", "value": "FHIRPY-1"}],
                              name=[{"family": "Client", "given": ["Third", "Party"]}], gender="female", birthDate="1961-02-03")
    patient.save()
    check(bool(patient.id), "fhirpy: the created patient has no id")
    observations = [
        {"code": "17861-6", "value": 10.4, "unit": "mg/dL", "category": "laboratory"},
        {"code": "8867-4", "value": 88, "unit": "/min", "category": "vital-signs"},
        {"code": "8310-5", "value": 38.1, "unit": "Cel", "category": "vital-signs"},
    ]
    for o in observations:
        obs = client.resource("Observation", status="final",
                              category=[{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": o["category"]}]}],
                              code={"coding": [{"system": "http://loinc.org", "code": o["code"]}]},
                              subject=patient.to_reference(), effectiveDateTime="2026-11-02",
                              valueQuantity={"value": o["value"], "unit": o["unit"], "system": "http://unitsofmeasure.org", "code": o["unit"]})
        obs.save()
        check(bool(obs.id), f"fhirpy: observation {o['code']} has no id")
    found = client.resources("Observation").search(subject=f"Patient/{patient.id}").fetch_all()
    codes = sorted(c["code"] for r in found for c in r["code"]["coding"] if c.get("system") == "http://loinc.org")
    check(codes == sorted(o["code"] for o in observations), f"fhirpy: search found LOINC {codes}")
    first = client.reference("Patient", patient.id).to_resource()
    stale = client.reference("Patient", patient.id).to_resource()
    first["gender"] = "other"
    first.save()
    stale["birthDate"] = "1961-02-04"
    try:
        stale.save()
        check(False, "fhirpy: an update based on a stale version was accepted")
    except (FHIRError, MultipleResourcesFound) as e:  # fhirpy reports every 412 as MultipleResourcesFound
        check("changed by someone else" in str(e), f"fhirpy: stale update failed, but not with the 412 OperationOutcome: {e}")
    status, _, _ = http("PUT", f"/Patient/{patient.id}", dict(stale.serialize()), headers={"If-Match": 'W/"1"'})
    check(status == 412, f"PUT with a stale If-Match answered {status}")
    everything = client.execute(f"Patient/{patient.id}/$everything", method="get")
    types = sorted({e["resource"]["resourceType"] for e in everything.get("entry", [])})
    check("Patient" in types and "Observation" in types, f"fhirpy: $everything returned {types}")
    current = client.reference("Patient", patient.id).to_resource()
    check(current["gender"] == "other" and current["birthDate"] == "1961-02-03", f"fhirpy: the stored patient is {current.serialize()}")


# --------------------------------------------------------------------------- kill -9
def wait_for_progress(db, proc, minimum):
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        try:
            con = sqlite3.connect(db, timeout=1)
            done = con.execute("SELECT coalesce(sum(resources_done), 0) FROM fhir_import_progress").fetchone()[0]
            con.close()
            if done >= minimum:
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    return False


def kill_and_resume():
    print("kill -9 during imports, then rerun")
    source = os.path.join(WORK, "big-source.sqlite")
    run("generate", "--patients", os.environ.get("KILL_PATIENTS", "200"), "--seed", "13", "--database", source)
    nd, bundles = os.path.join(WORK, "big-ndjson"), os.path.join(WORK, "big-bundles")
    run("export", "--format", "ndjson", "--database", source, nd)
    run("export", "--format", "bundle", "--batch", "20", "--database", source, bundles)
    reference = fresh_db("big-reference.sqlite", "SYNTH")
    import_files(nd, reference)
    expected = table_counts(reference)
    check(expected == table_counts(source), f"clean import differs from the source: {table_counts(source)} -> {expected}")

    # The default chunk (10,000) writes a file's resources in calls of 2,000 inside one
    # transaction: a kill in its later calls must roll back the earlier ones too.
    for label, path, chunk in (("NDJSON", nd, "250"), ("NDJSON, default chunks", nd, "10000"), ("transaction Bundles", bundles, "250")):
        db = fresh_db(f"killed-{label[:3]}-{chunk}.sqlite", "SYNTH")
        proc = subprocess.Popen([BIN, "import", path, "--database", db, "--progress", "none", "--chunk", chunk],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reached = wait_for_progress(db, proc, 1)
        proc.kill()  # SIGKILL
        proc.wait()
        check(reached, f"{label}: the import finished or stalled before it could be killed")
        if label == "transaction Bundles":
            con = sqlite3.connect(db)
            stored = {r[0] for r in con.execute("SELECT id FROM patients")}
            con.close()
            for bundle_path in sorted(glob.glob(os.path.join(path, "*.json"))):
                with open(bundle_path) as f:
                    ids = {e["request"]["url"].split("/")[1].upper() for e in json.load(f)["entry"] if e["request"]["url"].startswith("Patient/")}
                present = len({i for i in ids if i in {s.upper() for s in stored}})
                check(present in (0, len(ids)), f"{os.path.basename(bundle_path)} half-applied after kill -9: {present} of {len(ids)} patients")
        summary = import_files(path, db)
        check(not summary["rejected"], f"{label}: rerun rejected {summary['rejected'][:2]}")
        check(table_counts(db) == expected, f"{label}: after kill -9 and rerun {table_counts(db)}, expected {expected}")
        audit_ok(db, f"{label} after kill -9")


for step in (carebundle, round_trip, fhirpy_client, clinosim, kill_and_resume):
    try:
        step()
    except Exception as e:  # a crash in one part must not hide the others
        import traceback
        traceback.print_exc()
        check(False, f"{step.__name__} crashed: {e}")

if failures:
    print(f"interop: {len(failures)} failure(s)")
    sys.exit(1)
print("interop: all checks passed")
