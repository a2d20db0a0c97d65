#!/usr/bin/env bash
# Upstream inputs by pinned version, the way the control plane gets etcd and kube-apiserver:
# Go modules come from the module proxy (their go.sum hashes are checked by `go mod download`
# against the checksum database) and the parts the project reads are copied into a versioned
# folder of the cache, so nothing depends on a checkout beside the repository.
#
#   hack/upstream.sh network-policy-api [VERSION]   CRDs, crdtest data, conformance sources, examples
#   hack/upstream.sh cilium [VERSION]               Cilium's CRDs (CCNP, CNP, …)
#
# Prints the folder. Idempotent and safe to run in parallel (flock).
set -euo pipefail

CACHE_ROOT=${CNP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnp-operator}
export PATH="$PATH:${CNP_OPERATOR_GO_FALLBACK:-/usr/local/go/bin}"

log() { printf '[upstream] %s\n' "$*" >&2; }
die() { log "error: $1"; exit "${2:-1}"; }

what=${1:-}
case "$what" in
  network-policy-api)
    module=sigs.k8s.io/network-policy-api; version=${2:-v0.3.0}
    parts=(config/crd pkg/crdtest/testdata conformance/base conformance/tests site-src/user-story-examples apis/v1alpha1 LICENSE) ;;
  cilium)
    module=github.com/cilium/cilium; version=${2:-v1.20.2}
    parts=(pkg/k8s/apis/cilium.io/client/crds/v2 LICENSE) ;;
  *) die "usage: hack/upstream.sh network-policy-api|cilium [VERSION]" 2 ;;
esac

out="$CACHE_ROOT/upstream/$what-$version"
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
mkdir -p "$CACHE_ROOT/upstream"
exec 9>"$CACHE_ROOT/upstream/.lock"
flock 9
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

command -v go >/dev/null 2>&1 || die "Go is not installed (need Go on PATH or in /usr/local/go/bin to fetch $module@$version)" 3
log "go mod download $module@$version"
# Outside any module, so no go.mod of ours is read or written.
json=$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod GO111MODULE=on go mod download -json "$module@$version") \
  || die "go mod download $module@$version failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))" 4
dir=$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
sum=$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p')
[ -n "$dir" ] && [ -d "$dir" ] || die "go mod download $module@$version gave no directory: $json" 4

rm -rf "$out.tmp" && mkdir -p "$out.tmp"
for p in "${parts[@]}"; do
  [ -e "$dir/$p" ] || continue
  mkdir -p "$out.tmp/$(dirname "$p")"
  cp -R "$dir/$p" "$out.tmp/$p"
done
chmod -R u+w "$out.tmp"
printf 'module %s\nversion %s\nsum %s\n' "$module" "$version" "$sum" > "$out.tmp/MODULE"
touch "$out.tmp/.complete"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "$out"
