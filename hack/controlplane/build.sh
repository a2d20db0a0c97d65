#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kubectl from Go modules into a
# versioned cache outside the repository. Idempotent: a finished build is skipped,
# an interrupted one resumes (Go's module and build caches keep the work done).
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.35.4}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
CACHE_ROOT=${CNP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnp-operator}
OUT="$CACHE_ROOT/bin/k8s-v$K8S_VERSION-etcd-v$ETCD_VERSION"
WORK="$CACHE_ROOT/build"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '[controlplane] %s\n' "$*" >&2; }
die() { log "error: $1"; exit "${2:-1}"; }

if [ "${1:-}" = "--print-dir" ]; then echo "$OUT"; exit 0; fi

# kubectl is built too: the tests and the demo use it, and a fresh machine may not have it.
built() { [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/kube-controller-manager" ] && [ -x "$OUT/kubectl" ] && [ -x "$OUT/etcd" ]; }

if built; then
  log "cached: $OUT"
  echo "$OUT"
  exit 0
fi

# The official tarball installs into /usr/local/go without touching PATH.
export PATH="$PATH:${CNP_OPERATOR_GO_FALLBACK:-/usr/local/go/bin}"
command -v go >/dev/null 2>&1 || die "Go is not installed (need Go >= 1.25 on PATH or in /usr/local/go/bin; https://go.dev/dl/)" 3
mkdir -p "$OUT" "$WORK"

# Two callers (a test run and "cluster up") may ask at once; the second waits, then finds the cache.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_ROOT/build.lock"
  flock 9
  if built; then
    log "built by another process: $OUT"
    echo "$OUT"
    exit 0
  fi
fi

# The module files live in the repository (hack/controlplane/{k8s,etcd}); they are
# copied into the scratch directory so the build never writes into the checkout.
build_module() {
  local name=$1
  local dir="$WORK/$name-$K8S_VERSION-$ETCD_VERSION"
  mkdir -p "$dir"
  cp "$HERE/$name/go.mod" "$dir/go.mod"
  [ -f "$HERE/$name/go.sum" ] && cp "$HERE/$name/go.sum" "$dir/go.sum"
  cp "$HERE/$name/tools.go" "$dir/tools.go"
  echo "$dir"
}

started=$(date +%s)
log "building Kubernetes v$K8S_VERSION and etcd v$ETCD_VERSION into $OUT (first build takes a while)"

kdir=$(build_module k8s)
( cd "$kdir"
  go mod download >/dev/null 2>&1 || true
  MINOR=$(echo "$K8S_VERSION" | cut -d. -f2)
  LDF="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$MINOR"
  for cmd in kube-apiserver kube-controller-manager kubectl; do
    if [ ! -x "$OUT/$cmd" ]; then
      log "go build $cmd"
      go build -mod=mod -trimpath -ldflags "$LDF" -o "$OUT/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd" \
        || die "building $cmd failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))" 4
      mv "$OUT/$cmd.tmp" "$OUT/$cmd"
    fi
  done
)

edir=$(build_module etcd)
( cd "$edir"
  if [ ! -x "$OUT/etcd" ]; then
    log "go build etcd"
    go build -mod=mod -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3 \
      || die "building etcd failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))" 4
    mv "$OUT/etcd.tmp" "$OUT/etcd"
  fi
)

log "done in $(( $(date +%s) - started ))s: $OUT"
echo "$OUT"
