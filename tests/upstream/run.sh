#!/usr/bin/env bash
# Redis's own 8.6.3 stream suites (tests/unit/type/stream.tcl and
# stream-cgroups.tcl) against the host server with the module loaded
# (issue 12). Every server the Tcl harness spawns is the host binary
# (REDIS_SERVER, default /usr/bin/redis-server) with --loadmodule IDMP_MODULE.
#
# The cached 8.6.3 source tree (servers/get.sh redis-8.6.3-src) is never
# modified: its tests/ directory is copied into a scratch tree (UPSTREAM_DIR,
# default target/upstream) whose src/ holds a wrapper in place of
# src/redis-server and the host's redis-cli / redis-benchmark.
#
# Tests a host cannot run are skipped by name from tests/upstream/skip-<ver>.txt
# (<ver> is the host's major.minor, e.g. 7.0), each with its reason.
#
# Environment: REDIS_SERVER, IDMP_MODULE (default target/release/libredis_idmp.so),
# UPSTREAM_PORTS (default 21000-21999), UPSTREAM_CLIENTS (default 2),
# UPSTREAM_TIMEOUT (seconds for the whole run, default 900),
# UPSTREAM_UNITS (default "type/stream type/stream-cgroups"), UPSTREAM_ARGS
# (more harness options, e.g. --dump-logs or --only NAME).
# UPSTREAM_NATIVE=1 runs the server without the module (a baseline: with
# REDIS_SERVER set to native 8.6.3 all 350 pass).
# Exit status: 0 only when every test ran and passed: any failure, exception,
# crash, or timeout is non-zero.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
server=${REDIS_SERVER:-/usr/bin/redis-server}
module=${IDMP_MODULE:-$repo/target/release/libredis_idmp.so}
ports=${UPSTREAM_PORTS:-21000-21999}
clients=${UPSTREAM_CLIENTS:-2}
budget=${UPSTREAM_TIMEOUT:-900}
units=${UPSTREAM_UNITS:-"type/stream type/stream-cgroups"}
work=${UPSTREAM_DIR:-$repo/target/upstream}

case $module in /*) ;; *) module=$repo/$module ;; esac
if [ "${UPSTREAM_NATIVE:-0}" = 1 ]; then
    module=
else
    [ -f "$module" ] || { echo "test-upstream: no module at $module" >&2; exit 2; }
fi
server=$(command -v "$server") || { echo "test-upstream: no server binary" >&2; exit 2; }
src=$("$repo/servers/get.sh" redis-8.6.3-src)
[ -f "$src/tests/test_helper.tcl" ] || { echo "test-upstream: no Tcl suites in $src" >&2; exit 2; }

ver=$("$server" --version | sed -n 's/.* v=\([0-9]*\.[0-9]*\).*/\1/p')
skipfile=$here/skip-$ver.txt

# The scratch tree: a fresh copy of tests/ each run (the harness writes
# tests/tmp), the wrapper and the host's tools under src/.
rm -rf "$work"
mkdir -p "$work/src"
cp -R "$src/tests" "$work/tests"
rm -rf "$work/tests/tmp"; mkdir "$work/tests/tmp"
cli=$(dirname "$server")/redis-cli; [ -x "$cli" ] || cli=$(command -v redis-cli)
bench=$(dirname "$server")/redis-benchmark; [ -x "$bench" ] || bench=$(command -v redis-benchmark || echo /bin/false)
ln -s "$cli" "$work/src/redis-cli"
ln -s "$bench" "$work/src/redis-benchmark"
if [ -n "$module" ]; then
    sed -e "s|@SERVER@|$server|" -e "s|@MODULE@|$module|" "$here/redis-server.in" > "$work/src/redis-server"
else
    printf '#!/bin/sh\nexec "%s" "$@"\n' "$server" > "$work/src/redis-server"
fi
chmod +x "$work/src/redis-server"

# Host adaptations of the suites' setup code (outside any test, so a skip by
# name cannot reach it): tests/upstream/host-<ver>.sed, applied to the copied
# unit files only, each expression with its reason in that file.
if [ -f "$here/host-$ver.sed" ]; then
    for u in $units; do sed -i -f "$here/host-$ver.sed" "$work/tests/unit/$u.tcl"; done
fi

# Skip list: "<test name> # <reason>" per line; '#' lines are comments.
set --
if [ -f "$skipfile" ]; then
    while IFS= read -r line; do
        case $line in ''|'#'*) continue ;; esac
        name=${line% \# *}
        [ "$name" != "$line" ] || { echo "test-upstream: $skipfile: no reason: $line" >&2; exit 2; }
        set -- "$@" --skiptest "$name"
    done < "$skipfile"
fi
for u in $units; do set -- "$@" --single "unit/$u"; done

lo=${ports%-*}; hi=${ports#*-}
echo "test-upstream: $("$server" --version | cut -d' ' -f1-3) + $([ -n "$module" ] && basename "$module" || echo "no module"); suites: $units; skip list: $([ -f "$skipfile" ] && basename "$skipfile" || echo none)"
log=$work/run.log
start=$(date +%s)
rc=0
(cd "$work" && timeout -k 10 "$budget" tclsh8.6 tests/test_helper.tcl \
    --clients "$clients" --baseport "$lo" --portcount $((hi - lo + 1)) \
    --timeout 120 ${UPSTREAM_ARGS:-} "$@") > "$log.raw" 2>&1 || rc=$?
end=$(date +%s)
# Without the colour codes, so the result lines can be counted.
sed 's/\x1b\[[0-9;]*m//g' "$log.raw" > "$log" && rm -f "$log.raw"

ok=$(grep -c '^\[ok\]' "$log" || true)
err=$(grep -c '^\[err\]' "$log" || true)
exc=$(grep -c '^\[exception\]' "$log" || true)
skip=$(grep -c '^\[skip\]' "$log" || true)
grep -E '^\[(err|exception|skip|TIMEOUT)\]|^Killing|Logged crash report|Valgrind error|crashed by signal|ASSERTION FAILED' "$log" || true
# A server that crashed after its test had passed is reported only this way.
crashes=$(grep -c 'Logged crash report' "$log" || true)
echo "test-upstream: $((ok + err + skip)) tests: $ok ok, $err failed, $exc exceptions, $crashes crashes, $skip skipped by name, $((end - start)) s (log: $log)"
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "test-upstream: TIMEOUT after $budget s" >&2
    exit 1
fi
# Known differences (tests/upstream/known-differences.txt, "<name> # <reason>",
# each a row of the README's "Differences from Redis 8.6.3"): tests that run and
# fail for a documented reason. Strict, like an xfail: every listed test must
# fail, and no other may.
known=$here/known-differences.txt
failed_names=$(sed -n 's/^\[err\]: \(.*\) in tests\/unit\/.*/\1/p' "$log" | sort -u)
known_names=$( [ -f "$known" ] && grep -v '^#' "$known" | grep -v '^$' | sed 's/ # .*//' | sort -u || true)
unexpected=$(comm -23 <(echo "$failed_names" | sed '/^$/d') <(echo "$known_names" | sed '/^$/d'))
now_pass=$(comm -13 <(echo "$failed_names" | sed '/^$/d') <(echo "$known_names" | sed '/^$/d'))
if [ "$exc" != 0 ] || [ "$crashes" != 0 ] || [ -n "$unexpected" ] || [ -n "$now_pass" ] ||
    { [ "$rc" != 0 ] && [ "$err" = 0 ]; }; then
    [ "$rc" != 0 ] && echo "test-upstream: harness exit status $rc" >&2
    [ -n "$unexpected" ] && printf 'test-upstream: failed:\n%s\n' "$unexpected" >&2
    [ -n "$now_pass" ] && printf 'test-upstream: listed in %s but passed (remove it):\n%s\n' "$(basename "$known")" "$now_pass" >&2
    tail -n 40 "$log" >&2
    exit 1
fi
if [ "$err" = 0 ]; then
    grep -q 'All tests passed' "$log" || { echo "test-upstream: harness did not report success" >&2; exit 1; }
fi
echo "test-upstream: passed; $err known differences failed as listed in $(basename "$known")"
