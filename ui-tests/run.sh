#!/usr/bin/env bash
# Run the Galata UI tests against a real JupyterLab in Debian's chromium, then print one plain
# "N passed, N failed" line (Playwright's own summary is not in a format CI reads).
set -uo pipefail
cd "$(dirname "$0")"
# The port (8888 unless REPRO_UI_PORT says otherwise): a stale Lab there would be silently reused.
PORT="${REPRO_UI_PORT:-8888}"
if command -v fuser >/dev/null; then fuser -k "$PORT/tcp" >/dev/null 2>&1 || true; fi
rm -f test-results/results.json
npx playwright test "$@"
status=$?
node -e '
const fs = require("fs");
const f = "test-results/results.json";
if (!fs.existsSync(f)) { console.log("ui-tests: 0 passed, 1 failed (no results file)"); process.exit(0); }
const s = JSON.parse(fs.readFileSync(f, "utf8")).stats || {};
const failed = (s.unexpected || 0);
const skipped = (s.skipped || 0);
console.log(`ui-tests: ${(s.expected || 0) + (s.flaky || 0)} passed, ${failed} failed, ${skipped} skipped`);
'
exit $status
