#!/usr/bin/env bash
# `npm run demo`: works on a fresh clone. Installs the npm packages if missing, builds, then
# runs the demo through the same launcher a user runs (a local control plane, the CRDs, the
# sample CNPs, their translations and the operator). Arguments go to the demo (`-- --once`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
[ -d node_modules ] || npm ci
npm run build >/dev/null
exec node bin/cnp-operator demo "$@"
