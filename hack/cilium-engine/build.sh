#!/usr/bin/env bash
# Builds the Cilium policy engine (this folder: a Go module pinning github.com/cilium/cilium)
# into a cache outside the repository, keyed by the Cilium version and a hash of the module's
# files, and prints the executable's path. Idempotent: a finished build is reused; two
# callers at once wait for each other (flock). The first build compiles a large part of
# Cilium (minutes); later ones take a second.
#
#   hack/cilium-engine/build.sh            build if needed, print the path
#   hack/cilium-engine/build.sh --print    print the path only
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${CNP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnp-operator}
export PATH="$PATH:${CNP_OPERATOR_GO_FALLBACK:-/usr/local/go/bin}"

log() { printf '[cilium-engine] %s\n' "$*" >&2; }
die() { log "error: $1"; exit "${2:-1}"; }

VERSION=$(sed -n 's/^[[:space:]]*github.com\/cilium\/cilium \(v[0-9.]*\).*/\1/p' "$HERE/go.mod" | head -n1)
[ -n "$VERSION" ] || die "no github.com/cilium/cilium version in $HERE/go.mod"
HASH=$(cd "$HERE" && cat go.mod go.sum $(ls *.go | LC_ALL=C sort) | sha256sum | cut -c1-12)
OUT="$CACHE_ROOT/bin/cilium-engine-$VERSION-$HASH"
BIN="$OUT/cilium-engine"

if [ "${1:-}" = "--print" ]; then echo "$BIN"; exit 0; fi
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi

command -v go >/dev/null 2>&1 || die "Go is not installed (need Go >= 1.26 on PATH or in /usr/local/go/bin; https://go.dev/dl/)" 3
command -v flock >/dev/null 2>&1 || die "flock is missing (util-linux)" 3
mkdir -p "$OUT"
exec 9>"$CACHE_ROOT/cilium-engine.lock"
flock 9
if [ -x "$BIN" ]; then log "built by another process: $BIN"; echo "$BIN"; exit 0; fi

started=$(date +%s)
log "building the policy engine against Cilium $VERSION into $OUT (the first build takes several minutes)"
# -mod=readonly: go.sum in the repository is the pin; nothing is written into the checkout.
( cd "$HERE" && go build -mod=readonly -trimpath -ldflags "-s -w" -o "$BIN.tmp" . ) \
  || die "go build failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))" 4
mv "$BIN.tmp" "$BIN"
# Earlier builds of this engine (other module hashes) are of no further use.
for old in "$CACHE_ROOT"/bin/cilium-engine-*; do
  [ "$old" = "$OUT" ] || rm -rf "$old"
done
log "built in $(( $(date +%s) - started ))s: $BIN"
echo "$BIN"
