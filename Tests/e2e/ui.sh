#!/usr/bin/env bash
# Browser tests of the clinician web UI (issue 4): starts `calcitrack serve` on a fresh SQLite
# file with the demo patients on a free port, adds a clinician (site DEMO) and a researcher,
# then drives headless Chromium with selenium (Tests/e2e/browser/test_ui.py), checking every
# page with axe-core. Screenshots (one PNG per test) go to artifacts/screenshots/.
# Skips (exit 0, with a message) when chromium, chromedriver or selenium is missing;
# .ci/run installs them.
set -u
cd "$(dirname "$0")/../.."
. Tests/e2e/lib.sh
BIN="${CALCITRACK_BIN:-.build/debug/calcitrack}"
[ -x "$BIN" ] || { echo "missing $BIN: run swift build first"; exit 1; }
if ! command -v chromium >/dev/null 2>&1 || [ ! -x /usr/bin/chromedriver ] || ! python3 -c 'import selenium' 2>/dev/null; then
  echo "ui: skipped (needs chromium, chromium-driver and python selenium: apt-get install chromium chromium-driver; pip install selenium axe-selenium-python)"
  exit 0
fi
tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
DB="$tmp/ui.sqlite"
PORT=$(free_port)
"$BIN" serve --port "$PORT" --database "$DB" > "$tmp/serve.log" 2>&1 &
server=$!
wait_for_health "http://127.0.0.1:$PORT" || { echo "ui: the server did not start"; cat "$tmp/serve.log"; exit 1; }
echo "clinician pass 1" | "$BIN" user add uiclin --role clinician --site DEMO --password-stdin --database "$DB" >/dev/null
echo "researcher pass 1" | "$BIN" user add uiresearch --role researcher --password-stdin --database "$DB" >/dev/null
mkdir -p artifacts/screenshots
rm -f artifacts/screenshots/*.png  # only this run's pictures
SE_AVOID_STATS=true CALCITRACK_URL="http://127.0.0.1:$PORT" \
  UI_CLINICIAN=uiclin UI_CLINICIAN_PASSWORD="clinician pass 1" UI_RESEARCHER=uiresearch UI_RESEARCHER_PASSWORD="researcher pass 1" \
  SCREENSHOTS=artifacts/screenshots python3 Tests/e2e/browser/test_ui.py
