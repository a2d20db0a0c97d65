#!/usr/bin/env bash
# Builds cnp-lab-probe (this folder's Go program) into the cache, keyed by a hash of its sources,
# so an edit rebuilds it and an unchanged tree reuses the binary. Standard library only: it
# builds without the Go module proxy. Prints the binary's path.
#
# Exit codes: 3 no Go, 5 build failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${CNP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnp-operator}

log() { printf '[probe] %s\n' "$*" >&2; }
die() { log "error: $1"; exit "${2:-1}"; }

hash=$(cd "$HERE" && cat go.mod ./*.go | sha256sum | cut -c1-16)
out="$CACHE_ROOT/bin/probe-$hash"
if [ -x "$out/cnp-lab-probe" ]; then echo "$out/cnp-lab-probe"; exit 0; fi

export PATH="$PATH:${CNP_OPERATOR_GO_FALLBACK:-/usr/local/go/bin}"
command -v go >/dev/null 2>&1 || die "Go is not installed (need Go on PATH or in /usr/local/go/bin)" 3
mkdir -p "$out"
exec 9>"$out.lock"
flock 9
if [ -x "$out/cnp-lab-probe" ]; then echo "$out/cnp-lab-probe"; exit 0; fi
log "building cnp-lab-probe ($hash)"
( cd "$HERE" && CGO_ENABLED=0 go build -trimpath -o "$out/cnp-lab-probe.tmp" . ) || die "go build failed in $HERE" 5
mv "$out/cnp-lab-probe.tmp" "$out/cnp-lab-probe"
echo "$out/cnp-lab-probe"
