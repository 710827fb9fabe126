#!/bin/sh
# The floor of a routed XLEN (bench/floor/floor.c): what any module that
# routes XLEN through a command filter pays over the host's own XLEN, next
# to what redis-idmp pays. Three servers of the same binary side by side:
# C without a module, F with floor.so, B with redis-idmp (XLEN of a module
# stream); redis-benchmark XLEN, 50 clients, pipeline 16, rounds alternating
# C F B; prints the medians and F/C, B/C. Then callgrind's instructions per
# XLEN for the three (bench/callgrind.sh, arm F).
#   bench/floor.sh [module.so]   (env: FLOOR_N requests, FLOOR_ROUNDS, FLOOR_PORT)
set -euf
MODULE=${1:-$(pwd)/target/release/libredis_idmp.so}
SERVER=${CG_SERVER:-/usr/bin/redis-server}
N=${FLOOR_N:-2000000}
ROUNDS=${FLOOR_ROUNDS:-5}
PORT=${FLOOR_PORT:-7694}
OUT=$(pwd)/target/bench
mkdir -p "$OUT"
FLOOR="$OUT/floor.so"
H=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path '*redis-module-*/src/include/redismodule.h' | sort | tail -1)
cc -O2 -fPIC -shared -I"$(dirname "$H")" -o "$FLOOR" bench/floor/floor.c

pids=""
start() { # port args...
    p=$1; shift
    # shellcheck disable=SC2086
    "$SERVER" --port "$p" --bind 127.0.0.1 --save "" --appendonly no "$@" >"$OUT/floor-$p.log" 2>&1 &
    pids="$pids $!"
    i=0; until redis-cli -p "$p" ping >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
}
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done' EXIT
start "$PORT"
start $((PORT+1)) --loadmodule "$FLOOR"
start $((PORT+2)) --loadmodule "$MODULE"
redis-cli -p "$PORT" xadd s '*' f v >/dev/null
redis-cli -p $((PORT+1)) xadd s '*' f v >/dev/null
redis-cli -p $((PORT+2)) xadd s '*' f v >/dev/null
[ "$(redis-cli -p $((PORT+2)) object encoding s)" = raw ] || { echo "B: s is not a module stream"; exit 1; }
rps() { redis-benchmark -p "$1" -c 50 -P 16 -n "$N" XLEN s | sed -n 's/^ *throughput summary: \([0-9.]*\).*/\1/p'; }
: >"$OUT/floor-rounds"
r=0
while [ $r -lt "$ROUNDS" ]; do
    echo "C $(rps "$PORT") F $(rps $((PORT+1))) B $(rps $((PORT+2)))" | tee -a "$OUT/floor-rounds"
    r=$((r+1))
done
python3 - "$OUT/floor-rounds" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
med = {k: statistics.median(float(r[r.index(k) + 1]) for r in rows) for k in "CFB"}
print("XLEN P16 ops/s medians: C %.0f  F %.0f  B %.0f" % (med["C"], med["F"], med["B"]))
print("F/C %.3f (the floor of any routed XLEN)  B/C %.3f (redis-idmp)  B/F %.3f"
      % (med["F"] / med["C"], med["B"] / med["C"], med["B"] / med["F"]))
PY
for p in $pids; do kill "$p" 2>/dev/null || true; done
pids=""
CG_FLOOR="$FLOOR" CG_WORKLOADS="xlen" CG_ARMS="C F B" CG_PORT=$((PORT+3)) sh bench/callgrind.sh "$MODULE"
