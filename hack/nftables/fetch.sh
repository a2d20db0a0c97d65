#!/usr/bin/env bash
# nft 1.1 for the real-Felix tests' nftables data plane, as a private bundle in the cache.
#
# Felix 3.31 programs nftables through the nft binary, and Calico ships nft 1.1.1 with it.
# Debian 12's nft (1.0.6) cannot replace a rule holding an anonymous interval set
# ("BUG: unhandled op 2", an assertion abort) -- Felix does that whenever a policy with a port
# range or several CIDRs changes -- so Felix stops on it. No Debian 12 package is newer, and
# Debian 13's needs a newer C library, so this fetches Debian 13's nftables with the libraries
# it needs, C library included, into a folder of its own and runs it with that folder's
# dynamic loader. Nothing is installed on the machine. apt checks the packages against
# Debian's signed archive metadata; the version is pinned below.
#
#   hack/nftables/fetch.sh        prints the folder holding `nft` (a wrapper script)
#
# Exit codes: 3 no apt (not Debian-like), 4 download failed, 5 the bundle does not run.
set -euo pipefail

NFT_VERSION=1.1.3-1
SUITE=trixie
CACHE_ROOT=${CNP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnp-operator}
out="$CACHE_ROOT/bin/nftables-$NFT_VERSION"

log() { printf '[nftables] %s\n' "$*" >&2; }
die() { log "error: $1"; exit "${2:-1}"; }

if [ -x "$out/nft" ] && [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
command -v apt-get >/dev/null 2>&1 || die "apt-get is needed to fetch Debian's nftables $NFT_VERSION" 3
[ "$(dpkg --print-architecture)" = amd64 ] || die "the bundle is put together for amd64 (its loader path); this is $(dpkg --print-architecture)" 3
mkdir -p "$CACHE_ROOT/bin"
exec 9>"$out.lock"
flock 9
if [ -x "$out/nft" ] && [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private apt configuration and state: the machine's sources and package lists stay untouched.
mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial" "$work/debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring is missing (package debian-archive-keyring)" 3
echo "deb [signed-by=$keyring] http://deb.debian.org/debian $SUITE main" >"$work/sources.list"
apt_opts=(-o "Dir::State=$work/state" -o "Dir::Cache=$work/cache" -o "Dir::Etc::SourceList=$work/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null" -o "Dir::State::status=/dev/null" -o "APT::Sandbox::User=root" -q)
log "fetching Debian $SUITE's nftables $NFT_VERSION and its libraries"
apt-get "${apt_opts[@]}" update >&2 || die "apt-get update for Debian $SUITE failed (is deb.debian.org reachable?)" 4
# nft's run-time closure on Debian 13 (Depends of nftables, libnftables1, libedit2, ...).
packages=("nftables=$NFT_VERSION" "libnftables1=$NFT_VERSION" libnftnl11 libmnl0 libgmp10 libjansson4 libxtables12 libedit2 libbsd0 libmd0 libtinfo6 libc6)
( cd "$work/debs" && apt-get "${apt_opts[@]}" download "${packages[@]}" >&2 ) || die "downloading ${packages[*]} failed" 4

rm -rf "$out.tmp" && mkdir -p "$out.tmp/root"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$out.tmp/root"; done
cat >"$out.tmp/nft" <<'WRAPPER'
#!/bin/sh
# Debian 13's nft with its own libraries and loader (hack/nftables/fetch.sh).
root=$(dirname "$(readlink -f "$0")")/root
exec "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$root/usr/lib/x86_64-linux-gnu" "$root/usr/sbin/nft" "$@"
WRAPPER
chmod +x "$out.tmp/nft"
got=$("$out.tmp/nft" --version) || die "the bundled nft does not run: $got" 5
case "$got" in *"v1.1."*) ;; *) die "expected nft 1.1, got: $got" 5 ;; esac
touch "$out.tmp/.complete"
rm -rf "$out" && mv "$out.tmp" "$out"
log "$got in $out"
echo "$out"
