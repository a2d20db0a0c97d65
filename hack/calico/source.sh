#!/usr/bin/env bash
# The Calico source tree of a pinned release, for the tests that build and run the real Felix.
# No package registry serves it, so it comes from a tarball: the one in $CNP_CALICO_SOURCE_DIR
# (a folder holding calico-vVERSION.tar.gz, e.g. a copy made for machines without internet
# access), else GitHub's archive of the tag. Either way the tar stream is checked against the
# sha256 pinned below before anything is unpacked; the gzip layer is not pinned because
# GitHub and `git archive` compress the same tar differently.
#
#   hack/calico/source.sh [VERSION]     prints the unpacked tree (cached by version)
set -euo pipefail

version=${1:-3.31.7}
CACHE_ROOT=${CNP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnp-operator}
out="$CACHE_ROOT/src/calico-$version"

log() { printf '[calico-source] %s\n' "$*" >&2; }
die() { log "error: $1"; exit "${2:-1}"; }

# sha256 of the uncompressed tar of each tag (top folder calico-VERSION/).
case "$version" in
  3.31.7) tar_sha=dca32016b23acc1a74360e6323e4c092f8dcd042b08f624483f7bdfcaaa564c5 ;;
  3.32.1) tar_sha=eb2e616f51a9101c4be50cd77076ce2e59c349c911502728749f8b461b64af64 ;;
  *) die "no pinned checksum for Calico $version (known: 3.31.7, 3.32.1)" 2 ;;
esac

if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
mkdir -p "$CACHE_ROOT/src"
exec 9>"$CACHE_ROOT/src/.lock"
flock 9
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

tarball=""
if [ -n "${CNP_CALICO_SOURCE_DIR:-}" ]; then
  tarball="$CNP_CALICO_SOURCE_DIR/calico-v$version.tar.gz"
  [ -f "$tarball" ] || die "CNP_CALICO_SOURCE_DIR=$CNP_CALICO_SOURCE_DIR has no calico-v$version.tar.gz" 3
else
  url="https://github.com/projectcalico/calico/archive/refs/tags/v$version.tar.gz"
  tarball="$CACHE_ROOT/src/calico-v$version.tar.gz"
  log "downloading $url (set CNP_CALICO_SOURCE_DIR to a folder with calico-v$version.tar.gz on machines without internet access)"
  curl -fsSL --retry 3 -o "$tarball.tmp" "$url" || die "cannot download $url; set CNP_CALICO_SOURCE_DIR to a folder holding calico-v$version.tar.gz" 4
  mv "$tarball.tmp" "$tarball"
fi

got=$(gzip -dc "$tarball" | sha256sum | cut -d' ' -f1)
[ "$got" = "$tar_sha" ] || die "$tarball: the tar inside has sha256 $got, expected $tar_sha (Calico v$version)" 5

rm -rf "$out.tmp" && mkdir -p "$out.tmp"
tar -xzf "$tarball" -C "$out.tmp" --strip-components=1
touch "$out.tmp/.complete"
rm -rf "$out" && mv "$out.tmp" "$out"
log "unpacked Calico v$version into $out"
echo "$out"
