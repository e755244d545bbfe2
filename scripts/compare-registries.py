#!/usr/bin/env python3
"""Compares two CalciTrack SQLite registries table by table, for a performance change that must
not change what is written (e.g. the same NDJSON imported by an old and a new binary).

Ignored, because they differ between any two runs: timestamps, the random date shift of each
patient, the random ids of sites and of records without a source id (holds), audit hashes (they
cover the entry's time) and the `at` of each entry. JSON text columns are compared as JSON with
the same keys dropped. Prints each table's verdict; exits 1 if any table differs.

Usage: scripts/compare-registries.py OLD.sqlite NEW.sqlite
"""
import json
import sqlite3
import sys

VOLATILE = {"created_at", "updated_at", "recorded_at", "at", "imported_at", "date_shift_days", "hash", "prev_hash",
            "createdAt", "updatedAt", "lastUpdated", "dateShiftDays"}
SKIP_TABLES = {"_fluent_migrations", "_fluent_sessions", "sqlite_stat1", "fhir_import_progress", "audit_head"}


def rows(path, table, id_map):
    db = sqlite3.connect(path)
    cols = [c[1] for c in db.execute(f'PRAGMA table_info("{table}")') if c[1] not in VOLATILE]
    out = []
    for row in db.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{table}"'):
        values = []
        for col, v in zip(cols, row):
            if isinstance(v, bytes):
                v = id_map.get(v.hex(), v.hex())
            elif isinstance(v, str) and v[:1] in "{[":
                try:
                    v = json.dumps(strip(json.loads(v), id_map), sort_keys=True)
                except ValueError:
                    pass
            elif isinstance(v, str):
                v = id_map.get(v.replace("-", "").lower(), v) if len(v) == 36 else v
            values.append(v)
        out.append(tuple("" if v is None else str(v) for v in values))
    return cols, sorted(out)


def strip(value, id_map):
    if isinstance(value, dict):
        return {k: strip(v, id_map) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v, id_map) for v in value]
    if isinstance(value, str) and len(value) == 36:
        return id_map.get(value.replace("-", "").lower(), value)
    return value


def random_ids(path):
    """Ids that are random per run, named by something stable: sites by code, holds by medication and start."""
    db = sqlite3.connect(path)
    ids = {}
    for sid, code in db.execute("SELECT id, code FROM sites"):
        ids[sid.hex() if isinstance(sid, bytes) else sid.replace("-", "").lower()] = "site:" + code
    for hid, mid, start in db.execute("SELECT id, medication_id, start FROM medication_holds"):
        h = hid.hex() if isinstance(hid, bytes) else hid.replace("-", "").lower()
        ids[h] = "hold:" + (mid.hex() if isinstance(mid, bytes) else mid) + ":" + start
    return ids


def main(old, new):
    tables = [t for (t,) in sqlite3.connect(old).execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name") if t not in SKIP_TABLES]
    old_ids, new_ids = random_ids(old), random_ids(new)
    differ = 0
    for table in tables:
        cols, a = rows(old, table, old_ids)
        _, b = rows(new, table, new_ids)
        if a == b:
            print(f"{table}: {len(a)} rows, identical")
            continue
        differ += 1
        only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
        print(f"{table}: DIFFERS ({len(a)} vs {len(b)} rows; {len(only_a)} only in old, {len(only_b)} only in new)")
        for label, sample in (("old", only_a[:2]), ("new", only_b[:2])):
            for r in sample:
                print(f"  {label}: " + ", ".join(f"{c}={v[:120]}" for c, v in zip(cols, r)))
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
