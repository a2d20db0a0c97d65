#!/usr/bin/env bash
# The one test command (README and CI): works on a fresh clone. Installs the npm packages if
# missing, builds, builds the control-plane binaries and the real-engine lab's (cached after the
# first run), then runs every vitest project: unit, simulation and CLI tests, the integration
# tests against a real local control plane, and the real-engine tests (root, network
# namespaces). Extra arguments go to vitest (e.g. `npm test -- --project unit`).
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

# The real-engine tests (vitest project "engines") run Felix built from Calico's source, the
# lab's probe program and a newer nft, and Cilium's policy engine (hack/cilium-engine); built
# only when that project runs. Each build is cached, so after the first run this takes seconds.
projects=()
prev=""
for arg in "$@"; do
  case "$arg" in --project=*) projects+=("${arg#--project=}") ;; esac
  [ "$prev" = "--project" ] && projects+=("$arg")
  prev=$arg
done
engines=1
if [ "${#projects[@]}" -gt 0 ]; then
  engines=0
  for p in "${projects[@]}"; do [ "$p" = engines ] && engines=1; done
fi

if [ "$engines" = 1 ]; then
  step "binaries: control plane, Felix 3.31.7 and 3.32.1, the lab's probe and nft, Cilium's policy engine (in parallel; cached after the first run)"
else
  step "control-plane binaries (hack/controlplane/build.sh)"
fi
mkdir -p .cache/build-logs
pids=()
names=()
build() {
  local name=$1
  shift
  "$@" >/dev/null 2>".cache/build-logs/$name.log" &
  pids+=($!)
  names+=("$name")
}
build controlplane bash hack/controlplane/build.sh
if [ "$engines" = 1 ]; then
  build felix-3.31.7 bash hack/felix/build.sh 3.31.7
  build felix-3.32.1 bash hack/felix/build.sh 3.32.1
  build probe bash hack/probe/build.sh
  build nftables bash hack/nftables/fetch.sh
  build cilium-engine bash hack/cilium-engine/build.sh
fi
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    failed=1
    printf '[test] building %s failed (.cache/build-logs/%s.log):\n' "${names[$i]}" "${names[$i]}" >&2
    tail -n 20 ".cache/build-logs/${names[$i]}.log" >&2
  fi
done
[ "$failed" = 0 ] || exit 1

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
