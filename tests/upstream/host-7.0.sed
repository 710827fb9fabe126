# sed expressions applied to the scratch copies of the 8.6.3 stream suites on a
# Redis 7.0 host (tests/upstream/run.sh). Only setup code outside test blocks,
# which --skiptest cannot reach, belongs here.
#
# stream.tcl, "XADD IDMP tracking works with diskless replication (swapdb
# mode)": the master's `config set repl-rdb-channel` runs in start_server's body
# and 7.0 has no such configuration (an error there aborts the whole suite).
# 7.0 replicates as `repl-rdb-channel no` does, so that variant runs unchanged;
# the `yes` variant is skipped by name in skip-7.0.txt.
s/^\( *\)\$master config set repl-rdb-channel \$rdbchannel$/\1catch {$master config set repl-rdb-channel $rdbchannel}/
