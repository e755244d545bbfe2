#!/usr/bin/env bash
# The whole test suite (the README's test command):
#   1. swift test: engine, rules and the registry API suite on in-memory SQLite;
#   2. the registry API suite again on PostgreSQL when CALCITRACK_TEST_POSTGRES_URL is set
#      (.ci/run sets it up with scripts/postgres-setup.sh);
#   3. end-to-end checks of the built binary: CLI, registry (kill -9, backup/restore, audit tamper),
#      FHIR (API reads and export validated with fhirclient R4 and fhir.resources R4B),
#      CDS Hooks (JWT from a configured issuer, prefetch → cards, 412, 401),
#      schemathesis against /openapi.json when the `st` command is installed, and the web UI in
#      headless Chromium (selenium + axe-core) when chromium, chromedriver and selenium are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d ../shared/cases ] || { echo "../shared (seed cases and checker) must sit beside this checkout"; exit 1; }
swift build
swift test --parallel
if [ -n "${CALCITRACK_TEST_POSTGRES_URL:-}" ]; then
  echo "== registry API suite on PostgreSQL"
  DATABASE_URL="$CALCITRACK_TEST_POSTGRES_URL" swift test --filter CalciTrackServerTests
fi
Tests/e2e/cli.sh
Tests/e2e/registry.sh
# FHIR read API and export, every resource validated with fhirclient (R4) and fhir.resources (R4B).
Tests/e2e/fhir.sh
# CDS Hooks through the real configuration (issuer JWKS file, public URL, auth off warning).
Tests/e2e/cds-hooks.sh
# FHIR writes and bulk import: carebundle Bundles (CLI and POST /fhir), round trip, clinosim NDJSON,
# fhirpy as a third-party client, kill -9 during imports then rerun.
Tests/e2e/interop.sh
if command -v st >/dev/null 2>&1 && [ -x Tests/e2e/schemathesis.sh ]; then
  Tests/e2e/schemathesis.sh .build/debug/calcitrack
else
  echo "schemathesis not installed (pip install schemathesis): API fuzzing skipped; .ci/run installs it"
fi
# Web UI in headless Chromium (selenium + axe-core); skipped with a message when not installed.
Tests/e2e/ui.sh
