#!/bin/sh
# Regenerates ../oracle_fixture.rs from a native Redis 8.6.3 (servers/get.sh redis-8.6.3) on port $1:
# runs seq.txt on a flushed server in RESP2 and RESP3 and records raw replies.
set -e
cd "$(dirname "$0")"
port=${1:-7300}
redis-cli -p "$port" flushall >/dev/null
python3 raw.py "$port" < seq.txt > out2.txt
redis-cli -p "$port" flushall >/dev/null
python3 raw.py "$port" --resp3 < seq.txt > out3.txt
python3 gen.py > ../oracle_fixture.rs
rm -f out2.txt out3.txt
