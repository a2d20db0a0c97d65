#!/usr/bin/env bash
# The one test command (README and CI): works on a fresh clone. Installs the npm packages if
# missing, builds, builds the control-plane binaries (cached after the first run), then runs
# every vitest project: unit, simulation and CLI tests, and the integration tests against a
# real local control plane. Extra arguments go to vitest (e.g. `npm test -- --project unit`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

step() { printf '\n[test] %s\n' "$*" >&2; }

if [ ! -d node_modules ]; then
  step "npm ci"
  npm ci
fi

step "npm run build"
npm run build

step "type check and lint (the pure core's import boundaries included)"
npx tsc -p tsconfig.json --noEmit
npx eslint .

step "control-plane binaries (hack/controlplane/build.sh)"
bash hack/controlplane/build.sh >/dev/null

step "vitest"
results=.cache/vitest-results.json
mkdir -p .cache
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# One plain closing line, whatever the reporter's colours: "N passed, N failed[, N skipped]".
if [ -f "$results" ]; then
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`);' "$results"
fi
exit "$status"
