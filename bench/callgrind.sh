#!/bin/sh
# Instructions per command, deterministic (valgrind callgrind), for the server
# without the module (C), with the module and a native stream (A), and with the
# module and a module stream (B). Each case: start redis-server under callgrind
# with instrumentation off, prepare the key, switch instrumentation on, send N
# commands (redis-benchmark, 1 client, pipeline 16), switch it off, stop; the
# instruction count divided by N is the row.
#   bench/callgrind.sh [module.so]   (env: CG_N requests, CG_PORT, CG_OUT,
#   CG_WORKLOADS, CG_ARMS, CG_VGOPTS e.g. --cache-sim=yes; arm F is
#   bench/floor.sh's module CG_FLOOR)
set -euf
MODULE=${1:-$(pwd)/target/release/libredis_idmp.so}
N=${CG_N:-20000}
PORT=${CG_PORT:-7690}
OUT=${CG_OUT:-$(pwd)/target/bench/callgrind}
SERVER=${CG_SERVER:-/usr/bin/redis-server}
mkdir -p "$OUT"
cli() { redis-cli -p "$PORT" "$@" >/dev/null; }

run_case() { # arm workload prep... -- command...
    arm=$1; name=$2; shift 2
    case $arm in
        C) load="" ;;
        A) load="--loadmodule $MODULE capture-new-streams no" ;;
        B) load="--loadmodule $MODULE" ;;
        F) load="--loadmodule $CG_FLOOR" ;; # bench/floor.sh
    esac
    f="$OUT/$arm-$name.out"
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --instr-atstart=no ${CG_VGOPTS:-} --callgrind-out-file="$f" \
        "$SERVER" --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no $load \
        >"$OUT/$arm-$name.log" 2>&1 &
    pid=$!
    i=0; until redis-cli -p "$PORT" ping >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ] || { kill $pid; return 1; }; sleep 0.1; done
    while [ "$1" != "--" ]; do
        case $1 in # populate:N adds N entries to s in one script
            populate:*) cli eval "for i=1,${1#populate:} do redis.call('XADD','s','*','f','v') end" 0 ;;
            # multi holds a client in an open transaction until the server
            # stops.
            multi) python3 -c "import socket; s=socket.create_connection(('127.0.0.1',$PORT)); s.sendall(b'MULTI\r\n'); s.recv(10); s.recv(1)" >/dev/null 2>&1 &
                until redis-cli -p "$PORT" client list | grep -q 'flags=x'; do sleep 0.1; done ;;
            # block:CMD runs CMD (a blocking read) in the background until
            # the server stops, once the server counts it blocked.
            block:*) # shellcheck disable=SC2086
                redis-cli -p "$PORT" ${1#block:} >/dev/null 2>&1 &
                until redis-cli -p "$PORT" info clients | grep -q '^blocked_clients:1'; do sleep 0.1; done ;;
            *) cli $1 ;;
        esac
        shift
    done; shift
    enc=$(redis-cli -p "$PORT" object encoding s 2>&1 | tr -d '\n')
    callgrind_control -i on $pid >/dev/null 2>&1
    redis-benchmark -p "$PORT" -c 1 -P 16 -n "$N" -r 1000000000 "$@" >/dev/null
    callgrind_control -i off $pid >/dev/null 2>&1
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    wait $pid || true
    ir=$(sed -n 's/^totals: //p' "$f" | head -1 | cut -d" " -f1)
    echo "$arm $name $(( ir / N )) (key s: ${enc:-none})"
}

W=${CG_WORKLOADS:-"xadd type xlen idmp get"}
for w in $W; do
  for arm in ${CG_ARMS:-C A B}; do
    case $w in
      xadd) run_case $arm $w "del s" "xadd s * f v" -- XADD s '*' f v ;;
      # The same while another client is in a transaction: the filter, which
      # cannot tell a queued command from one that runs now, then routes.
      xaddmulti) run_case $arm $w "del s" "xadd s * f v" "multi" -- XADD s '*' f v ;;
      xlenmulti) run_case $arm $w "del s" "xadd s * f v" "multi" -- XLEN s ;;
      type) run_case $arm $w "del s" "xadd s * f v" -- TYPE s ;;
      xlen) run_case $arm $w "del s" "xadd s * f v" -- XLEN s ;;
      xrange) run_case $arm $w "del s" "xadd s * f v" -- XRANGE s - + COUNT 10 ;;
      xread) run_case $arm $w "del s" "xadd s * f v" -- XREAD COUNT 10 STREAMS s 0 ;;
      get) run_case $arm $w "set k v" -- GET k ;;
      set) run_case $arm $w "set k v" -- SET k 'v__rand_int__' ;;
      # SET with EX (an `expire` key event) and DEL of a string, on a server
      # holding a module stream: what a key-event subscription costs others.
      setex) run_case $arm $w "del s" "xadd s * f v" -- SET 'k:__rand_int__' v EX 1000 ;;
      # The same with a reader blocked on s (XREADGROUP BLOCK 0): what the
      # wake-up of blocked readers costs every other write.
      setblocked) run_case $arm $w "del s" "xadd s * f v" "xgroup create s g $" \
                 "block:XREADGROUP GROUP g c BLOCK 0 STREAMS s >" -- SET 'k:__rand_int__' v EX 1000 ;;
      delstr) run_case $arm $w "del s" "xadd s * f v" -- DEL 'k:__rand_int__' ;;
      eval) run_case $arm $w "del s" "xadd s * f v" -- EVAL "return redis.call('XADD', KEYS[1], '*', 'f', 'v')" 1 s ;;
      dup) case $arm in B|F) ;; *) continue ;; esac
            run_case $arm $w "del s" "xadd s IDMP p1 dup * f v" -- XADD s IDMP p1 dup '*' f v ;;
      create) run_case $arm $w "del s" -- XADD 'c:__rand_int__' '*' f v ;;
      xadd16) run_case $arm $w "del s" "xadd s * f v" -- XADD s '*' f 'vvvv__rand_int__' ;;
      auto) case $arm in B|F) ;; *) continue ;; esac
            run_case $arm $w "del s" "xadd s * f v" -- XADD s IDMPAUTO p1 '*' f 'vvvv__rand_int__' ;;
      # XREADGROUP re-reading 10 pending entries: each one delivered is
      # propagated as an XCLAIM (streamPropagateXCLAIM / idmp.xclaim).
      group) run_case $arm $w "del s" \
                 "xadd s * f v" "xadd s * f v" "xadd s * f v" "xadd s * f v" "xadd s * f v" \
                 "xadd s * f v" "xadd s * f v" "xadd s * f v" "xadd s * f v" "xadd s * f v" \
                 "xgroup create s g 0" "xreadgroup group g c streams s >" -- \
                 XREADGROUP GROUP g c COUNT 10 STREAMS s 0 ;;
      # XREADGROUP delivering 10 new entries, as bench.py's group cycle
      # (without its XACK).
      groupnew) run_case $arm $w "del s" "populate:$((N * 10 + 10))" "xgroup create s g 0" -- \
                 XREADGROUP GROUP g c COUNT 10 STREAMS s '>' ;;
      idmp) [ $arm = C ] && continue; [ $arm = A ] && continue
            run_case $arm $w "del s" "xadd s * f v" -- XADD s IDMP p1 'iid-__rand_int__' '*' f v ;;
    esac
  done
done
