#!/usr/bin/env bash
# `npm run demo`: works on a fresh clone. Installs the npm packages if missing, builds, then
# runs the demo (a local control plane, the CRDs, the sample CNPs and their translations).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
[ -d node_modules ] || npm ci
npm run build >/dev/null
exec node dist/cli/main.js demo "$@"
