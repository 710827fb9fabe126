#!/bin/sh
# Where the time goes: `perf record -g` on the server under redis-benchmark
# (XADD key * f v, 50 clients, pipeline 16) for C (no module), A (module,
# native stream), B (module, module stream); writes the top of each report
# (self time, then with children) to $PERF_OUT/perf-<tag>-<arm>.txt.
#   bench/perf.sh <tag> [module.so]   (env: PERF_PORT, PERF_N, PERF_OUT)
set -euf
TAG=${1:?tag}
MODULE=${2:-$(pwd)/target/release/libredis_idmp.so}
PORT=${PERF_PORT:-7695}
N=${PERF_N:-2000000}
OUT=${PERF_OUT:-$(pwd)/target/bench}
WORK=${CMD:-XADD}
mkdir -p "$OUT"
for arm in C A B; do
    case $arm in
        C) load="" ;;
        A) load="--loadmodule $MODULE capture-new-streams no" ;;
        B) load="--loadmodule $MODULE" ;;
    esac
    # shellcheck disable=SC2086
    redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no $load >/dev/null 2>&1 &
    pid=$!
    until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.1; done
    redis-cli -p "$PORT" xadd s '*' f v >/dev/null
    enc=$(redis-cli -p "$PORT" object encoding s)
    perf record -g -o "$OUT/perf-$TAG-$arm.data" -p $pid >/dev/null 2>&1 &
    ppid=$!
    sleep 0.5
    rps=$(redis-benchmark -p "$PORT" -c 50 -P 16 -n "$N" --csv $WORK s '*' f v | tail -1)
    kill -INT $ppid; wait $ppid || true
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    wait $pid || true
    {
        echo "# $arm ($enc), $WORK s * f v, 50 clients P16, $N requests: $rps"
        perf report -i "$OUT/perf-$TAG-$arm.data" --no-children --stdio --percent-limit 1.5 -g none 2>/dev/null | grep -v '^$' | head -45
        echo "## with children"
        perf report -i "$OUT/perf-$TAG-$arm.data" --children --stdio --percent-limit 4 -g none 2>/dev/null | grep -v '^$' | grep '%' | head -40
    } > "$OUT/perf-$TAG-$arm.txt"
    rm -f "$OUT/perf-$TAG-$arm.data"
    head -1 "$OUT/perf-$TAG-$arm.txt"
done
