"""Validates every FHIR resource CalciTrack serves and exports (Tests/e2e/fhir.sh).

Each resource is parsed by fhirclient's R4 (4.0.1) models in strict mode and by
fhir.resources' R4B models (pydantic); any error is a failure. Also checks the API's
behaviour: paging links, search modes, _include, ETag/Last-Modified, vread/_history,
$everything, OperationOutcome errors (unknown parameter, bad date, researcher refused),
conditional update and delete, type-level Patient/_history with _count and _since, system _history;
GET entries of batch/transaction Bundles and Bulk Data $export (bundle_reads_and_bulk.py).
"""
import importlib
import datetime
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from fhir.resources.R4B import get_fhir_model_class

import bundle_reads_and_bulk

BASE = os.environ["CALCITRACK_URL"] + "/fhir"
TOKEN = os.environ["CLINICIAN_TOKEN"]
RESEARCHER = os.environ["RESEARCHER_TOKEN"]
EXPORT = os.environ["EXPORT_DIR"]
COHORT = int(os.environ.get("COHORT", "150"))

failures = []
validated = {"fhirclient": 0, "fhir.resources": 0}
seen_types = set()


def fail(message):
    failures.append(message)
    print("FAIL:", message, file=sys.stderr)


def validate(resource, where):
    rtype = resource.get("resourceType")
    seen_types.add(rtype)
    try:
        module = importlib.import_module("fhirclient.models." + rtype.lower())
        getattr(module, rtype)(resource, strict=True)
        validated["fhirclient"] += 1
    except Exception as e:  # noqa: BLE001 - any parse error is a failure
        fail(f"{where}: fhirclient R4 rejects {rtype}/{resource.get('id')}: {e}")
    try:
        get_fhir_model_class(rtype).model_validate(resource)
        validated["fhir.resources"] += 1
    except Exception as e:  # noqa: BLE001
        fail(f"{where}: fhir.resources R4B rejects {rtype}/{resource.get('id')}: {str(e)[:800]}")


def get(path, token=TOKEN, expect=200):
    url = path if path.startswith("http") else BASE + path
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token, "Accept": "application/fhir+json"})
    try:
        with urllib.request.urlopen(req) as r:
            status, headers, body = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, body = e.code, e.headers, e.read()
    if status != expect:
        fail(f"GET {url}: status {status}, expected {expect}: {body[:300]!r}")
    if not headers.get("Content-Type", "").startswith("application/fhir+json"):
        fail(f"GET {url}: content type {headers.get('Content-Type')}")
    doc = json.loads(body) if body else None
    if doc is not None:
        validate(doc, "GET " + url)
    return doc, headers


def send(method, path, body=None, expect=200, headers=None):
    """A write; the answer (a resource or OperationOutcome) is validated like a read."""
    url = path if path.startswith("http") else BASE + path
    h = {"Authorization": "Bearer " + TOKEN, "Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}
    h.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req) as r:
            status, headers, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    if status != expect:
        fail(f"{method} {url}: status {status}, expected {expect}: {raw[:300]!r}")
    doc = json.loads(raw) if raw else None
    if doc is not None:
        validate(doc, f"{method} {url}")
    return doc, headers


def conditional_writes_and_type_history():
    """Conditional update and delete (R4 http.html#cond-update, #cond-delete) and Patient/_history."""
    meta, _ = get("/metadata")
    patient_support = next(r for r in meta["rest"][0]["resource"] if r["type"] == "Patient")
    if patient_support.get("conditionalUpdate") is not True or patient_support.get("conditionalDelete") != "single":
        fail(f"metadata: conditionalUpdate {patient_support.get('conditionalUpdate')}, conditionalDelete {patient_support.get('conditionalDelete')}")
    if {"code": "history-type"} not in patient_support["interaction"]:
        fail("metadata: Patient lacks history-type")
    system = "https://calcitrack.org/fhir/sid/mrn/DEMO"
    criteria = "/Patient?identifier=" + urllib.parse.quote(f"{system}|E2E-CU-1", safe="")
    patient = {"resourceType": "Patient", "identifier": [{"system": system, "value": "E2E-CU-1"}],
               "name": [{"family": "Conditional", "given": ["Eve"]}], "gender": "female", "birthDate": "1971-02-03"}
    created, headers = send("PUT", criteria, patient, expect=201)
    pid = created["id"] if created else None
    patient["name"][0]["family"] = "Updated"
    updated, headers = send("PUT", criteria, patient, expect=200)
    if not updated or updated["id"] != pid or headers.get("ETag") != 'W/"2"':
        fail(f"conditional update: {updated and updated.get('id')} vs {pid}, ETag {headers.get('ETag')}")
    send("PUT", "/Patient?family=Updated", patient, expect=400)
    history, _ = get("/Patient/_history?_count=5")
    if history.get("type") != "history" or history.get("total", 0) < 2 or len(history.get("entry", [])) != min(5, history["total"]):
        fail(f"Patient/_history: type {history.get('type')}, {len(history.get('entry', []))} entries, total {history.get('total')}")
    first = history["entry"][0].get("resource", {})
    if first.get("id") != pid or first.get("meta", {}).get("versionId") != "2":
        fail(f"Patient/_history: newest entry is {first.get('id')} v{first.get('meta', {}).get('versionId')}, expected {pid} v2")
    nxt = [l["url"] for l in history.get("link", []) if l["relation"] == "next"]
    if bool(nxt) != (history.get("total", 0) > 5):
        fail(f"Patient/_history: next link {nxt} with total {history.get('total')}")
    if nxt:
        get(nxt[0])
    future, _ = get("/Patient/_history?_since=2099-01-01T00:00:00Z")
    if future.get("total") != 0:
        fail(f"Patient/_history?_since=2099: total {future.get('total')}")
    get("/Patient/_history?_since=yesterday", expect=400)
    get("/Flag/_history", expect=400)
    for rtype in ["Observation", "Condition"]:
        page, _ = get(f"/{rtype}/_history?_count=50")
        if page.get("type") != "history" or not page.get("entry") or any(e.get("resource", {}).get("resourceType", rtype) != rtype for e in page["entry"]):
            fail(f"{rtype}/_history: {json.dumps(page)[:300]}")
        nxt = [l["url"] for l in page.get("link", []) if l["relation"] == "next"]
        if nxt:
            get(nxt[0])
    # System history (every type's versions; no total): the newest version is the update above,
    # and every page (followed by next links, at most 20) validates.
    system, _ = get("/_history?_count=50")
    newest = system.get("entry", [{}])[0].get("resource", {})
    if system.get("type") != "history" or "total" in system or newest.get("id") != pid or newest.get("meta", {}).get("versionId") != "2":
        fail(f"_history: type {system.get('type')}, total {system.get('total')}, newest {newest.get('resourceType')}/{newest.get('id')}")
    for _ in range(20):
        nxt = [l["url"] for l in system.get("link", []) if l["relation"] == "next"]
        if not nxt:
            break
        system, _ = get(nxt[0])
    get("/_history?patient=x", expect=400)
    deleted, _ = send("DELETE", criteria, expect=200)
    if not deleted or deleted["resourceType"] != "OperationOutcome":
        fail(f"conditional delete: {deleted}")
    get(f"/Patient/{pid}", expect=410)
    again, _ = send("DELETE", criteria, expect=200)
    if "nothing deleted" not in json.dumps(again):
        fail(f"conditional delete of nothing: {again}")
    return pid


def element_subsets(pid):
    """_elements=id on every type: what is left (id, meta, the R4 mandatory elements, SUBSETTED tag)
    must still be a valid resource to both validators, and each type's file of mandatory elements
    is checked by that."""
    for rtype in ["Patient", "Condition", "Observation", "BodyStructure", "MedicationStatement", "Procedure", "Encounter", "ImagingStudy"]:
        bundle, _ = get(f"/{rtype}?_elements=id&_count=20")
        resources = bundle_resources(bundle)
        if not resources:
            fail(f"{rtype}?_elements=id: no resources")
        for r in resources:
            if not any(t.get("code") == "SUBSETTED" for t in r.get("meta", {}).get("tag", [])):
                fail(f"{rtype}/{r['id']} with _elements is not tagged SUBSETTED")
    flags, _ = get(f"/Flag?patient={pid}&_elements=id")
    # _summary=true and text: the summary elements (R4 isSummary) or none besides the mandatory
    # ones, tagged SUBSETTED; get() validates every resource with both validators.
    for rtype in ["Patient", "Condition", "Observation", "BodyStructure", "MedicationStatement", "Procedure", "Encounter", "ImagingStudy"]:
        for mode in ["true", "text"]:
            bundle, _ = get(f"/{rtype}?_summary={mode}&_count=20")
            if not bundle_resources(bundle):
                fail(f"{rtype}?_summary={mode}: no resources")
    # Prefer: handling=lenient: an unknown parameter is ignored and reported in an outcome entry.
    req = urllib.request.Request(BASE + f"/Observation?patient={pid}&no-such-param=1",
                                 headers={"Authorization": "Bearer " + TOKEN, "Accept": "application/fhir+json", "Prefer": "handling=lenient"})
    with urllib.request.urlopen(req) as r:
        lenient = json.loads(r.read())
    validate(lenient, "lenient search")
    if not any(e.get("search", {}).get("mode") == "outcome" for e in lenient.get("entry", [])):
        fail("lenient search: no outcome entry for the ignored parameter")
    # _revinclude: the patient with what points at it, each entry validated by get().
    rev, _ = get(f"/Patient?_id={pid}&_revinclude=Observation:patient&_revinclude=Condition:subject&_revinclude=Flag:patient")
    if not any(e.get("search", {}).get("mode") == "include" for e in rev.get("entry", [])):
        fail(f"Patient?_id={pid}&_revinclude=...: nothing included")
    count, _ = get("/Observation?_summary=count")
    if count.get("entry") or not count.get("total"):
        fail(f"Observation?_summary=count: total {count.get('total')}, {len(count.get('entry', []))} entries")
    print(f"fhir: _elements=id and _summary=true|text on every type validate; _summary=count total {count.get('total')}")


def bundle_resources(bundle):
    return [e["resource"] for e in bundle.get("entry", []) if "resource" in e]


def main():
    get("/metadata")
    # Page through every patient (the demo patients and the cohort).
    patients = []
    bundle, _ = get("/Patient?_count=100")
    total = bundle.get("total")
    pages = 0
    while bundle:
        pages += 1
        patients += bundle_resources(bundle)
        nxt = [l["url"] for l in bundle.get("link", []) if l["relation"] == "next"]
        bundle = get(nxt[0])[0] if nxt else None
    if total != len(patients) or len(patients) < COHORT:
        fail(f"Patient search: total {total}, paged {len(patients)} over {pages} page(s), cohort {COHORT}")
    if len({p["id"] for p in patients}) != len(patients):
        fail("Patient paging returned a patient twice")
    # Every patient: $everything, then each resource read, vread and history.
    reads = 0
    for i, patient in enumerate(patients):
        pid = patient["id"]
        everything, _ = get(f"/Patient/{pid}/$everything")
        resources = bundle_resources(everything)
        if not any(r["resourceType"] == "Patient" and r["id"] == pid for r in resources):
            fail(f"$everything of {pid} lacks the Patient")
        if i % 10 != 0 and i > 5:
            continue  # full reads on a sample; $everything validated every resource of every patient
        for r in resources:
            read, headers = get(f"/{r['resourceType']}/{r['id']}")
            reads += 1
            if read != r:
                fail(f"read {r['resourceType']}/{r['id']} differs from its $everything entry")
            if r["resourceType"] == "Flag":
                continue
            etag = headers.get("ETag")
            if etag != f'W/"{r["meta"]["versionId"]}"' or not headers.get("Last-Modified"):
                fail(f"{r['resourceType']}/{r['id']}: ETag {etag}, Last-Modified {headers.get('Last-Modified')}")
            if r["resourceType"] == "Condition" and r["id"].startswith("calcinosis-"):
                continue
            history, _ = get(f"/{r['resourceType']}/{r['id']}/_history")
            if history.get("type") != "history" or not history.get("entry"):
                fail(f"history of {r['resourceType']}/{r['id']} is empty")
            vread, _ = get(f"/{r['resourceType']}/{r['id']}/_history/{r['meta']['versionId']}")
            if vread != r:
                fail(f"vread {r['resourceType']}/{r['id']} current version differs from read")
        # Searches of this patient with _include.
        for query in ["Observation?patient={}&_include=Observation:patient&_include=Observation:focus",
                      "Condition?subject=Patient/{}&_include=*", "MedicationStatement?subject={}&_sort=-date",
                      "Procedure?patient={}", "Encounter?patient={}&date=ge2000-01-01", "BodyStructure?patient={}&_include=BodyStructure:patient",
                      "ImagingStudy?patient={}", "Flag?patient={}", "Observation?patient={}&code=http://loinc.org|72287-6&_sort=-date"]:
            found, _ = get("/" + query.format(pid))
            modes = {e["search"]["mode"] for e in found.get("entry", [])}
            if "_include" in query and found.get("entry") and "include" not in modes and not query.startswith("Condition"):
                fail(f"{query.format(pid)}: no included resource")
    # Type-level searches with every date prefix, validated.
    for prefix in ["eq", "ne", "lt", "gt", "le", "ge", "sa", "eb"]:
        get(f"/Observation?date={prefix}2025-06&_count=20")
    get("/Observation?code=http://loinc.org|8310-5&_count=20")
    get("/Condition?code=http://snomed.info/sct|89155008&_count=20")
    # Errors are OperationOutcomes.
    oo, _ = get("/Observation?colour=blue", expect=400)
    if not oo or oo["resourceType"] != "OperationOutcome" or oo["issue"][0].get("expression") != ["colour"]:
        fail(f"unknown parameter: {oo}")
    get("/Observation?date=2025-13-45", expect=400)
    get("/Patient", token=RESEARCHER, expect=403)
    get("/Patient/00000000-0000-0000-0000-000000000000", expect=404)
    # Export: every line and every bundle.
    exported = 0
    for name in sorted(os.listdir(os.path.join(EXPORT, "ndjson"))):
        with open(os.path.join(EXPORT, "ndjson", name)) as f:
            for n, line in enumerate(f):
                resource = json.loads(line)
                if resource["resourceType"] + ".ndjson" != name:
                    fail(f"{name} line {n + 1} is a {resource['resourceType']}")
                validate(resource, f"export {name}:{n + 1}")
                exported += 1
    bundled = 0
    for name in sorted(os.listdir(os.path.join(EXPORT, "bundle"))):
        with open(os.path.join(EXPORT, "bundle", name)) as f:
            b = json.load(f)
        validate(b, "export " + name)
        for e in b["entry"]:
            if e["request"] != {"method": "PUT", "url": f"{e['resource']['resourceType']}/{e['resource']['id']}"}:
                fail(f"{name}: entry request {e['request']}")
            validate(e["resource"], "export " + name)
            bundled += 1
    if bundled != exported:
        fail(f"ndjson export has {exported} resources, bundle export {bundled}")
    one = sum(1 for name in os.listdir(os.path.join(EXPORT, "one")) for _ in open(os.path.join(EXPORT, "one", name)))
    if one == 0:
        fail("export --patient wrote nothing")
    # Before any write: $export must equal the CLI export made at the start.
    here = sys.modules[__name__]
    bundle_reads_and_bulk.bulk_export(here, EXPORT)
    bundle_reads_and_bulk.filtered_export(here, [p["id"] for p in patients[:3]])
    bundle_reads_and_bulk.groups_and_group_export(here)
    element_subsets(patients[0]["id"])
    bundle_reads_and_bulk.bundle_reads(here, patients[0]["id"])
    since = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    deleted_patient = conditional_writes_and_type_history()
    bundle_reads_and_bulk.deleted_since(here, since, deleted_patient)
    print(f"fhir: {len(patients)} patients, {reads} reads, {exported} exported resources; types {sorted(seen_types)}; "
          f"validated {validated['fhirclient']} (fhirclient R4 strict) and {validated['fhir.resources']} (fhir.resources R4B)")
    for t in ["Patient", "Condition", "Observation", "BodyStructure", "MedicationStatement", "Procedure", "Encounter", "ImagingStudy", "Group", "Bundle", "CapabilityStatement", "OperationOutcome"]:
        if t not in seen_types:
            fail(f"no {t} was served or exported")
    print(f"fhir: {validated['fhirclient']} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
