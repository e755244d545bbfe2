#!/usr/bin/env python3
"""Server time of the web pages (issue 4): sequential GETs over one keep-alive connection with a
signed-in session; prints a Markdown table of p50/p95/max per page.

    calcitrack generate --patients 100000 --database /tmp/g.sqlite
    echo "bench pass 1" | calcitrack user add benchclin --role clinician --site SYNTH --password-stdin --database /tmp/g.sqlite
    calcitrack serve --no-demo --port 8771 --database /tmp/g.sqlite &     # a release build, started fresh
    scripts/bench-web-pages.py 8771 /tmp/g.sqlite benchclin "bench pass 1" 100

Patient ids are drawn at random from the registry (second argument: the SQLite file, or the
PostgreSQL URL the server uses, read with psql).
"""
import http.client, random, re, sqlite3, statistics, subprocess, sys, time, urllib.parse
port, db, user, pw, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
conn = http.client.HTTPConnection("127.0.0.1", port)
cookie = ""
def req(method, path, body=None):
    global cookie
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None: headers["Content-Type"] = "application/x-www-form-urlencoded"
    t = time.perf_counter(); conn.request(method, path, body=body, headers=headers); r = conn.getresponse(); data = r.read(); dt = time.perf_counter() - t
    sc = r.getheader("Set-Cookie")
    if sc: cookie = sc.split(";")[0]
    return r.status, data.decode(), dt
_, page, _ = req("GET", "/login")
csrf = re.search(r'name="_csrf" value="([^"]*)"', page).group(1)
status, _, _ = req("POST", "/login", urllib.parse.urlencode({"_csrf": csrf, "username": user, "password": pw, "next": "/"}))
assert status == 303, status
def rows(query, *params):
    """Rows of a read-only query (integer parameters only) from SQLite or PostgreSQL."""
    if not db.startswith("postgres"):
        return sqlite3.connect(db).execute(query, params).fetchall()
    for p in params: query = query.replace("?", str(int(p)), 1)
    out = subprocess.run(["psql", db, "-tA", "-F", "\t", "-c", query], check=True, capture_output=True, text=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]
ids = [r[0] for r in rows("SELECT id FROM patients ORDER BY random() LIMIT ?", n)]
def run(name, paths):
    times = []
    for p in paths:
        s, body, dt = req("GET", p); assert s == 200, (p, s, body[:300]); times.append(dt * 1000)
    times.sort()
    print(f"| {name} | {len(times)} | {statistics.median(times):.1f} | {times[int(len(times) * 0.95) - 1]:.1f} | {times[-1]:.1f} |")
print("| page | requests | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
for _ in range(5): req("GET", "/")  # warm-up
# The worklist caches each rendered page until the next write (WorklistCache): repeated views
# are cache hits; every distinct page below is its first view since the server started, so
# uncached (the server is started fresh for a run).
run("worklist `/` (needs attention, page 1, repeated: cached)", ["/"] * n)
run("worklist `/?status=attention&page=K` (pages 2..n+1, each a first view)", [f"/?status=attention&page={k}" for k in range(2, n + 2)])
# Deep pages anywhere in the lists (first views): the page count of each list from the file
# (migration 012's stored status and tier; the bench clinician's only site is SYNTH).
def pages(where):
    count = int(rows(f"SELECT COUNT(*) FROM patients WHERE deleted_at IS NULL AND {where}")[0][0])
    return max(1, (count + 24) // 25)
def sample(last):
    return random.sample(range(1, last + 1), min(n, last))
run(f"worklist `/?status=attention&page=K` (random page of {pages('worklist_tier <= 8')}, first views)",
    [f"/?status=attention&page={k}" for k in sample(pages("worklist_tier <= 8"))])
for status in ["lost", "overdue", "due"]:
    last = pages(f"follow_up_status = '{status}'")
    run(f"worklist `/?status={status}&page=K` (random page of {last}, first views)", [f"/?status={status}&page={k}" for k in sample(last)])
last = pages("worsening_lesion")
run(f"worklist `/?status=worsening&page=K` (random page of {last}, first views)", [f"/?status=worsening&page={k}" for k in sample(last)])
run("worklist `/?status=alerts&page=K` (high alerts, first views)", [f"/?status=alerts&page={k}" for k in range(1, n + 1)])
run("worklist `/?status=sepsis&page=K` (sepsis screen, first views)", [f"/?status=sepsis&page={k}" for k in range(1, n + 1)])
run("worklist `/?status=infection&page=K` (active infection, first views)", [f"/?status=infection&page={k}" for k in range(1, n + 1)])
run("worklist `/?status=all&page=K` (random page 1-4000, first views)", [f"/?status=all&page={k}" for k in random.sample(range(1, 4001), n)])
prefixes = [a + b for a in "abcdefghijklmnoprstw" for b in "aeiou"]
run("worklist search `/?q=PREFIX` (two letters, first views)", [f"/?q={p}" for p in random.sample(prefixes, min(n, len(prefixes)))])
# Three letters of a real family name (the registry's own names, so every search has matches).
names = [r[0] for r in rows(
    "SELECT p FROM (SELECT DISTINCT lower(substr(family_name, 1, 3)) AS p FROM patients) AS prefixes ORDER BY random() LIMIT ?", n)]
run(f"worklist search `/?q=PREFIX` (three letters: {len(names)} distinct family-name prefixes, first views)", [f"/?q={urllib.parse.quote(p)}" for p in names])
run("patient page `/patients/{id}`", [f"/patients/{i}" for i in ids])
run("visit form `/patients/{id}/visits/new`", [f"/patients/{i}/visits/new" for i in ids[: n // 2]])
