#!/bin/sh
# The floor of a routed command (bench/floor/floor.c): what any module that
# serves XLEN, XADD IDMP and IDMPAUTO through a command filter pays over the
# host's own command, next to what redis-idmp pays. Three servers of the
# same binary side by side: C without a module, F with floor.so, B with
# redis-idmp (a module stream). redis-benchmark, 50 clients, pipeline 16,
# rounds alternating C F B; medians and F/C, B/C per workload. C runs the
# host's own XLEN, or plain XADD for the IDMP rows (the issue's yardstick).
# Then callgrind's instructions per command (bench/callgrind.sh, arm F).
#   bench/floor.sh [module.so]
#   env: FLOOR_N requests per run, FLOOR_ROUNDS, FLOOR_PORT, FLOOR_WORKLOADS
#   (xlen idmp dup auto), FLOOR_CALLGRIND=0 to skip callgrind
set -euf
MODULE=${1:-$(pwd)/target/release/libredis_idmp.so}
SERVER=${CG_SERVER:-/usr/bin/redis-server}
N=${FLOOR_N:-1000000}
ROUNDS=${FLOOR_ROUNDS:-5}
PORT=${FLOOR_PORT:-7694}
W=${FLOOR_WORKLOADS:-xlen idmp dup auto}
OUT=$(pwd)/target/bench
mkdir -p "$OUT"
FLOOR="$OUT/floor.so"
H=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path '*redis-module-*/src/include/redismodule.h' | sort | tail -1)
[ -n "$H" ] || { echo "redismodule.h not found (cargo fetch first)"; exit 1; }
cc -O2 -Wall -fPIC -shared -I"$(dirname "$H")" -o "$FLOOR" bench/floor/floor.c

pids=""
start() { # port args...
    p=$1; shift
    "$SERVER" --port "$p" --bind 127.0.0.1 --save "" --appendonly no "$@" >"$OUT/floor-$p.log" 2>&1 &
    pids="$pids $!"
    i=0; until redis-cli -p "$p" ping >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
}
stop() { for p in $pids; do kill "$p" 2>/dev/null || true; done; pids=""; }
trap stop EXIT
C=$PORT F=$((PORT+1)) B=$((PORT+2))
start $C
start $F --loadmodule "$FLOOR"
start $B --loadmodule "$MODULE"

rps() { # port command...
    p=$1; shift
    redis-benchmark -p "$p" -c 50 -P 16 -n "$N" -r 1000000000 "$@" |
        sed -n 's/^ *throughput summary: \([0-9.]*\).*/\1/p'
}
for w in $W; do
    for p in $C $F $B; do redis-cli -p "$p" del s >/dev/null; done
    case $w in
        xlen) cmd_c="XLEN s"; cmd="XLEN s" ;;
        idmp) cmd_c="XADD s * f v"; cmd="XADD s IDMP p1 iid-__rand_int__ * f v" ;;
        dup) cmd_c="XADD s * f v"; cmd="XADD s IDMP p1 dup * f v" ;;
        auto) cmd_c="XADD s * f vvvv__rand_int__"; cmd="XADD s IDMPAUTO p1 * f vvvv__rand_int__" ;;
        *) echo "unknown workload $w"; exit 1 ;;
    esac
    redis-cli -p $C xadd s '*' f v >/dev/null
    redis-cli -p $F xadd s '*' f v >/dev/null
    redis-cli -p $B xadd s '*' f v >/dev/null
    [ $w = dup ] && redis-cli -p $B xadd s IDMP p1 dup '*' f v >/dev/null
    [ "$(redis-cli -p $B object encoding s)" = raw ] || { echo "B: s is not a module stream"; exit 1; }
    f="$OUT/floor-$w.rounds"
    : >"$f"
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        # shellcheck disable=SC2086
        echo "C $(rps $C $cmd_c) F $(rps $F $cmd) B $(rps $B $cmd)" >>"$f"
        r=$((r+1))
    done
    python3 - "$f" "$w" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
med = {k: statistics.median(float(r[r.index(k) + 1]) for r in rows) for k in "CFB"}
rng = {k: (min(float(r[r.index(k) + 1]) for r in rows) / med["C"],
           max(float(r[r.index(k) + 1]) for r in rows) / med["C"]) for k in "FB"}
print("%-5s P16 ops/s medians C %9.0f  F %9.0f  B %9.0f   F/C %.3f (%.2f-%.2f)  B/C %.3f (%.2f-%.2f)"
      % (sys.argv[2], med["C"], med["F"], med["B"], med["F"] / med["C"], *rng["F"],
         med["B"] / med["C"], *rng["B"]))
PY
done
stop
if [ "${FLOOR_CALLGRIND:-1}" != 0 ]; then
    CG_FLOOR="$FLOOR" CG_WORKLOADS="xlen xadd16 xadd idmp dup auto" CG_ARMS="C F B" \
        CG_PORT=$((PORT+3)) sh bench/callgrind.sh "$MODULE"
fi
