#!/usr/bin/env bash
# Installs (if missing) and starts PostgreSQL 15 from Debian, then creates the role `calcitrack`
# and an empty database named $1 (default calcitrack_test) owned by it. Runs as root (CI) and
# prints the DATABASE_URL to use. Idempotent: an existing database is dropped and recreated.
set -euo pipefail
DB="${1:-calcitrack_test}"
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >/dev/null
fi
pg_ctlcluster 15 main start 2>/dev/null || true
for _ in $(seq 1 30); do runuser -u postgres -- pg_isready -q && break; sleep 1; done
# The test suite runs its suites in parallel, each test with its own app and pool (up to 4
# connections per event loop): Debian's default of 100 connections ran out (53300) with 90 tests.
if [ "$(runuser -u postgres -- psql -tAc 'SHOW max_connections')" -lt 400 ]; then
  runuser -u postgres -- psql -q -c "ALTER SYSTEM SET max_connections = 400"
  pg_ctlcluster 15 main restart
  for _ in $(seq 1 30); do runuser -u postgres -- pg_isready -q && break; sleep 1; done
fi
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'calcitrack') THEN
    CREATE ROLE calcitrack LOGIN PASSWORD 'calcitrack';
  END IF;
END \$\$;
DROP DATABASE IF EXISTS ${DB};
CREATE DATABASE ${DB} OWNER calcitrack;
SQL
echo "postgres://calcitrack:calcitrack@127.0.0.1:5432/${DB}"
