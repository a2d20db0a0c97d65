#!/usr/bin/env bash
# Builds Felix (calico-felix) from the pinned Calico source tree into a versioned cache outside
# the repository, for the tests that enforce policy with the real Felix. Idempotent: a finished
# build is skipped; concurrent callers are serialised and the later one finds the cache.
# CGO_ENABLED=0 because the lab needs only the iptables and nftables data planes (no BPF).
#
#   hack/felix/build.sh [VERSION]        prints the directory holding calico-felix
#   hack/felix/build.sh --print-dir [VERSION]
#
# Exit codes: 2 unknown version, 3 no Go, 4 source tree unavailable, 5 build failed.
set -euo pipefail

print_only=0
if [ "${1:-}" = "--print-dir" ]; then print_only=1; shift; fi
version=${1:-3.31.7}
CACHE_ROOT=${CNP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnp-operator}
out="$CACHE_ROOT/bin/felix-v$version"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '[felix] %s\n' "$*" >&2; }
die() { log "error: $1"; exit "${2:-1}"; }

case "$version" in
  3.31.7|3.32.1) ;;
  *) die "unsupported Calico version $version (known: 3.31.7, 3.32.1)" 2 ;;
esac

if [ "$print_only" = 1 ]; then echo "$out"; exit 0; fi

built() { [ -x "$out/calico-felix" ]; }
if built; then
  log "cached: $out"
  echo "$out"
  exit 0
fi

export PATH="$PATH:${CNP_OPERATOR_GO_FALLBACK:-/usr/local/go/bin}"
command -v go >/dev/null 2>&1 || die "Go is not installed (need Go on PATH or in /usr/local/go/bin; https://go.dev/dl/)" 3

mkdir -p "$out"
exec 9>"$out.lock"
flock 9
if built; then
  log "built by another process: $out"
  echo "$out"
  exit 0
fi

src=$(bash "$HERE/../calico/source.sh" "$version") \
  || die "no Calico v$version source tree (see the message above; CNP_CALICO_SOURCE_DIR names a folder with calico-v$version.tar.gz)" 4

started=$(date +%s)
log "building calico-felix v$version from $src (the first build takes about 10 minutes on 2 cores)"
# The binary goes to a temporary name first so an interrupted build never looks finished.
( cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$out/calico-felix.tmp" ./felix/cmd/calico-felix ) \
  || die "go build ./felix/cmd/calico-felix failed for v$version (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))" 5
mv "$out/calico-felix.tmp" "$out/calico-felix"
log "done in $(( $(date +%s) - started ))s: $out"
echo "$out"
