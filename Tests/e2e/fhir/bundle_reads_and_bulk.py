"""GET entries of batch/transaction Bundles and Bulk Data $export (Tests/e2e/fhir.sh, via validate.py).

Every Bundle response and every line of every $export file goes through the same validation
(fhirclient R4 strict + fhir.resources R4B) as the rest of the API; the files must equal the
`calcitrack export --format ndjson` files line for line.
"""
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request


def request(h, method, url, headers, body=None):
    url = url if url.startswith("http") else h.BASE + url
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers = dict(headers, **{"Content-Type": "application/fhir+json"})
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def bundle_reads(h, pid):
    """A batch and a transaction with GET entries: each answer validated and equal to the plain GET."""
    plain, _ = h.get(f"/Patient/{pid}")
    search, _ = h.get(f"/Observation?patient={pid}&_count=200")
    missing = "00000000-0000-0000-0000-000000000000"
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        {"request": {"method": "GET", "url": f"Observation?patient={pid}&_count=200"}},
        {"request": {"method": "GET", "url": f"Patient/{pid}/_history"}},
        {"request": {"method": "GET", "url": f"Patient/{missing}"}},
    ]}
    answer, _ = h.send("POST", "", batch, expect=200)
    entries = (answer or {}).get("entry", [])
    statuses = [e.get("response", {}).get("status") for e in entries]
    if statuses != ["200 OK", "200 OK", "200 OK", "404 Not Found"]:
        h.fail(f"batch GET statuses {statuses}")
        return
    for e in entries:
        for doc in [e.get("resource"), e.get("response", {}).get("outcome")]:
            if doc:
                h.validate(doc, "batch GET entry")
    if entries[0]["resource"] != plain:
        h.fail("batch GET Patient differs from GET /Patient/id")
    if entries[0]["response"].get("etag") != f'W/"{plain["meta"]["versionId"]}"':
        h.fail(f"batch GET etag {entries[0]['response'].get('etag')}")
    if entries[1]["resource"].get("entry") != search.get("entry"):
        h.fail("batch GET search differs from the plain search")
    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "GET", "url": "Patient?identifier=https://calcitrack.org/fhir/sid/mrn/DEMO|E2E-TX-1"}},
        {"fullUrl": "urn:uuid:5b0c1f8e-2d7a-4a55-9f3e-1c2b3a4d5e61", "request": {"method": "POST", "url": "Patient"},
         "resource": {"resourceType": "Patient", "identifier": [{"system": "https://calcitrack.org/fhir/sid/mrn/DEMO", "value": "E2E-TX-1"}],
                      "name": [{"family": "Bundle", "given": ["Reader"]}], "gender": "female", "birthDate": "1969-04-05"}},
    ]}
    answer, _ = h.send("POST", "", transaction, expect=200)
    entries = (answer or {}).get("entry", [])
    if len(entries) != 2 or entries[0].get("resource", {}).get("total") != 1:
        h.fail(f"transaction GET did not see the transaction's POST: {json.dumps(answer)[:400]}")
    for e in entries:
        if e.get("resource"):
            h.validate(e["resource"], "transaction entry")
    failed = dict(transaction, entry=[transaction["entry"][1] | {"fullUrl": "urn:uuid:5b0c1f8e-2d7a-4a55-9f3e-1c2b3a4d5e62"},
                                      {"request": {"method": "GET", "url": f"Patient/{missing}"}}])
    failed["entry"][0]["resource"] = dict(failed["entry"][0]["resource"], identifier=[{"system": "https://calcitrack.org/fhir/sid/mrn/DEMO", "value": "E2E-TX-2"}])
    h.send("POST", "", failed, expect=404)
    found, _ = h.get("/Patient?identifier=https://calcitrack.org/fhir/sid/mrn/DEMO|E2E-TX-2")
    if found.get("total") != 0:
        h.fail("a transaction with a failing GET wrote its POST")


def bulk_export(h, export_dir):
    """Kick-off, poll, manifest, download; each line validated and equal to the CLI export."""
    auth = {"Authorization": "Bearer " + h.TOKEN}
    status, headers, body = request(h, "GET", "/$export", dict(auth, Accept="application/fhir+json"))
    if status != 400:
        h.fail(f"$export without Prefer: {status}")
    else:
        h.validate(json.loads(body), "$export 400")
    status, _, _ = request(h, "GET", "/$export", {"Authorization": "Bearer " + h.RESEARCHER, "Accept": "application/fhir+json", "Prefer": "respond-async"})
    if status != 403:
        h.fail(f"$export by a researcher: {status}")
    location, manifest = kick_off_and_wait(h, "GET", "/$export?_outputFormat=application/fhir%2Bndjson", None, "$export")
    if manifest is None:
        return
    if manifest.get("requiresAccessToken") is not True or not manifest.get("transactionTime") or manifest.get("error") != []:
        h.fail(f"$export manifest: {json.dumps(manifest)[:400]}")
    cli = sorted(os.listdir(os.path.join(export_dir, "ndjson")))
    served = sorted(o["type"] + ".ndjson" for o in manifest.get("output", []))
    if served != cli:
        h.fail(f"$export files {served}, CLI export files {cli}")
    total = 0
    for output in manifest.get("output", []):
        status, headers, body = request(h, "GET", output["url"], auth)
        if status != 200 or headers.get("Content-Type") != "application/fhir+ndjson":
            h.fail(f"{output['url']}: {status} {headers.get('Content-Type')}")
            continue
        lines = body.decode().splitlines()
        if len(lines) != output.get("count"):
            h.fail(f"{output['url']}: {len(lines)} lines, manifest count {output.get('count')}")
        for n, line in enumerate(lines):
            resource = json.loads(line)
            if resource.get("resourceType") != output["type"]:
                h.fail(f"{output['url']} line {n + 1} is a {resource.get('resourceType')}")
            h.validate(resource, f"$export {output['type']}:{n + 1}")
        with open(os.path.join(export_dir, "ndjson", output["type"] + ".ndjson")) as f:
            if [json.loads(l) for l in f] != [json.loads(l) for l in lines]:
                h.fail(f"$export {output['type']} differs from calcitrack export")
        total += len(lines)
    status, _, _ = request(h, "DELETE", location, auth)
    if status != 202:
        h.fail(f"$export DELETE: {status}")
    status, _, _ = request(h, "GET", location, auth)
    if status != 404:
        h.fail(f"$export status after DELETE: {status}")
    print(f"fhir: $export served {total} resources in {len(manifest.get('output', []))} files, each equal to the CLI export")


def search_ids(h, path):
    """The ids a search of the API matches, following its next links."""
    ids, url = set(), path
    while url:
        bundle, _ = h.get(url)
        ids |= {e["resource"]["id"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match"}
        url = next((l["url"] for l in bundle.get("link", []) if l["relation"] == "next"), None)
        if url and url.startswith(h.BASE):
            url = url[len(h.BASE):]
    return ids


def kick_off_and_wait(h, method, path, params, label):
    """Kick-off, then poll the status URL: (status URL, manifest), or (status URL, None) on failure."""
    auth = {"Authorization": "Bearer " + h.TOKEN}
    status, headers, body = request(h, method, path, dict(auth, Accept="application/fhir+json", Prefer="respond-async"), params)
    location = headers.get("Content-Location")
    if status != 202 or not location:
        h.fail(f"{label} kick-off: {status} {body[:300]!r}")
        return location, None
    deadline = time.time() + 600
    while True:
        status, _, body = request(h, "GET", location, auth)
        if status != 202 or time.time() > deadline:
            break
        time.sleep(0.5)
    if status != 200:
        h.fail(f"{label} status: {status} {body[:300]!r}")
        return location, None
    return location, json.loads(body)


def run_export(h, method, path, params=None, label="$export"):
    """Kick-off, poll and download: {type: [resource, ...]}, each line validated; None on failure."""
    auth = {"Authorization": "Bearer " + h.TOKEN}
    location, manifest = kick_off_and_wait(h, method, path, params, label)
    if manifest is None:
        return None
    files = {}
    for output in manifest.get("output", []):
        status, _, data = request(h, "GET", output["url"], auth)
        files[output["type"]] = [json.loads(l) for l in data.decode().splitlines()]
        for n, resource in enumerate(files[output["type"]]):
            h.validate(resource, f"{label} {output['type']}:{n + 1}")
    # A _since export's deletions: transaction Bundles of DELETE entries (manifest "deleted").
    for item in manifest.get("deleted", []):
        status, _, data = request(h, "GET", item["url"], auth)
        bundles = [json.loads(l) for l in data.decode().splitlines()]
        for n, bundle in enumerate(bundles):
            h.validate(bundle, f"{label} deleted:{n + 1}")
        files.setdefault("deleted", []).extend(e["request"]["url"] for b in bundles for e in b.get("entry", []) if e["request"]["method"] == "DELETE")
    request(h, "DELETE", location, auth)
    return files


def filtered_export(h, pids):
    """A POST kick-off (Parameters) with `patient` and `_typeFilter`: the files hold exactly what the
    search API answers for the same search of those patients, each line validated."""
    params = {"resourceType": "Parameters", "parameter":
              [{"name": "_type", "valueString": "Patient,Observation"},
               {"name": "_typeFilter", "valueString": "Observation?category=laboratory"}]
              + [{"name": "patient", "valueReference": {"reference": f"Patient/{p}"}} for p in pids]}
    files = run_export(h, "POST", "/Patient/$export", params, "POST $export")
    if files is None:
        return
    exported = {t: {r["id"] for r in rs} for t, rs in files.items()}
    expected = search_ids(h, f"/Observation?patient={','.join(pids)}&category=laboratory&_count=500")
    if not expected or exported.get("Observation", set()) != expected:
        h.fail(f"POST $export Observation?category=laboratory: {len(exported.get('Observation', []))} exported, the search answers {len(expected)}")
    if exported.get("Patient", set()) != set(pids):
        h.fail(f"POST $export patient {pids}: Patient file holds {sorted(exported.get('Patient', []))}")
    print(f"fhir: POST $export of {len(pids)} patients with _typeFilter: {len(expected)} laboratory Observations, equal to the search API")


def groups_and_group_export(h):
    """The clinician's sites as Groups (search, read, validated), and each Group's $export: its
    Patient file is the Group's members, and its Observations are the search API's for them."""
    bundle, _ = h.get("/Group")
    h.validate(bundle, "Group search")
    groups = [e["resource"] for e in bundle.get("entry", [])]
    if len(groups) < 2:
        h.fail(f"Group search: {len(groups)} groups for a clinician of two sites")
    for group in groups:
        read, _ = h.get(f"/Group/{group['id']}")
        h.validate(read, f"Group/{group['id']}")
        if read != group:
            h.fail(f"Group/{group['id']}: read and search differ")
        code = read["identifier"][0]["value"]
        found, _ = h.get(f"/Group?identifier={code}")
        if [e["resource"]["id"] for e in found.get("entry", [])] != [group["id"]]:
            h.fail(f"Group?identifier={code}: {found.get('total')} matches")
        members = {m["entity"]["reference"].split("/")[1] for m in read.get("member", [])}
        files = run_export(h, "GET", f"/Group/{group['id']}/$export?_type=Patient,Encounter", label=f"Group/{code}/$export")
        if files is None:
            continue
        exported = {r["id"] for r in files.get("Patient", [])}
        if exported != members or read.get("quantity") != len(members):
            h.fail(f"Group/{code}/$export: {len(exported)} patients exported, {len(members)} members, quantity {read.get('quantity')}")
        subjects = {r["subject"]["reference"].split("/")[1] for r in files.get("Encounter", [])}
        if not subjects <= members:
            h.fail(f"Group/{code}/$export: Encounters of {len(subjects - members)} non-members")
        print(f"fhir: Group {code}: {len(members)} members; its $export holds exactly them ({len(files.get('Encounter', []))} Encounters)")


def deleted_since(h, since, deleted_patient):
    """A _since export after the conditional delete of a patient: its deletions file names that
    Patient (each Bundle validated), and nothing deleted is in the output."""
    files = run_export(h, "GET", "/$export?_since=" + urllib.parse.quote(since), label="_since $export")
    if files is None:
        return
    deleted = set(files.pop("deleted", []))
    if f"Patient/{deleted_patient}" not in deleted:
        h.fail(f"_since $export: Patient/{deleted_patient} was deleted but is not in the deleted files ({sorted(deleted)[:5]})")
    exported = {f"{t}/{r['id']}" for t, rs in files.items() for r in rs}
    if deleted & exported:
        h.fail(f"_since $export: {sorted(deleted & exported)[:5]} are both deleted and exported")
    print(f"fhir: _since $export lists {len(deleted)} deleted resource(s) as DELETE Bundles, none also exported")
