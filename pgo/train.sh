#!/bin/sh
# The training run of the profile-guided build (pgo/build.sh): starts the
# host redis-server on 127.0.0.1:$PORT with the instrumented module MODULE,
# runs the commands users run most (those make bench measures, with many
# more requests) and a pass over the rest of the stream commands, SAVE and
# DEBUG RELOAD, then shuts the server down so that the profile is written.
#   pgo/train.sh MODULE PORT LOADGEN
set -eu
MODULE=$1; PORT=$2; LOADGEN=$3
SERVER=${REDIS_SERVER:-redis-server}
dir=$(mktemp -d)
"$SERVER" --port "$PORT" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --loadmodule "$MODULE" >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
i=0
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$dir/server.log"; exit 1; }; sleep 0.1
done
cli() { redis-cli -p "$PORT" "$@" >/dev/null; }
rb() { # requests, then the command
    n=$1; shift
    redis-benchmark -p "$PORT" -c 8 -P 16 -n "$n" -r 1000000000 "$@" >/dev/null
}
lg() { "$LOADGEN" --port "$PORT" "$@" >/dev/null; }

# The hot paths, as make bench drives them.
cli xadd s '*' f v
rb 200000 XADD s '*' f v
rb 50000 XADD s '*' f1 vvvvvvvv__rand_int__ f2 vvvvvvvv__rand_int__ f3 vvvvvvvv__rand_int__
rb 200000 XADD s IDMP p1 'iid-__rand_int__' '*' f v
rb 100000 XADD s IDMP p1 dup '*' f v
rb 200000 XADD s IDMPAUTO p1 '*' f 'vvvv__rand_int__'
rb 50000 XADD s MAXLEN '~' 100000 '*' f v
rb 200000 XLEN s
rb 200000 TYPE s
rb 100000 EXISTS s
rb 100000 SET k '__rand_int__'
rb 100000 GET k
rb 20000 XRANGE s - + COUNT 10
rb 20000 XREVRANGE s + - COUNT 10
rb 5000 XRANGE s - + COUNT 100
rb 20000 XREAD COUNT 10 STREAMS s 0
rb 50000 EVAL "return redis.call('XADD', KEYS[1], '*', 'f', 'v')" 1 s
lg --key p --mode idmp --requests 200000 --conns 4 --producers 1000
lg --key m --mode multi --requests 100000 --conns 4
lg --key d --mode del --requests 100000 --conns 4
cli xgroup create s g 0
lg --key s --mode group --requests 30000 --conns 4
# A native stream on the same server (capture off while it is created).
cli config set idmp.capture-new-streams no
cli xadd n '*' f v
cli config set idmp.capture-new-streams yes
rb 100000 XADD n '*' f v
rb 100000 XLEN n
rb 50000 TYPE n
# The other commands, once or a few times each.
cli xcfgset s IDMP-DURATION 300 IDMP-MAXSIZE 50
cli xinfo stream s
cli xinfo stream s full count 10
cli xinfo groups s
cli xinfo consumers s g
cli xgroup createconsumer s g c2
cli xreadgroup group g c2 count 10 streams s '>'
cli xpending s g
cli xpending s g - + 10
cli xclaim s g c3 0 0-1
cli xautoclaim s g c3 0 0 count 10
cli xack s g 0-1
cli xdel s 0-1
cli xtrim s maxlen '~' 1000
cli xtrim s minid 0-1
cli xsetid s '18446744073709551615-0'
cli xidmprecord s p9 i9 1-1 2>/dev/null || true
cli save
cli debug reload
cli xlen s
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
wait $pid || true
trap 'rm -rf "$dir"' EXIT
