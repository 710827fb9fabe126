"""Issue 15, the way out by restart: an RDB written by Redis 7.0 with the
module is started by native Redis 8.6.3 with the same ``loadmodule`` line;
the module loads in migration mode and turns every module stream into a
native one when loading ends. After a SAVE, 8.6.3 starts without the module
and nothing is missing; a producer retrying the same (pid, iid) across the
move is answered with the original ID every time."""

import os
import shutil
import tempfile
import time

import pytest
import redis

from pworkload import cut_at_opcode, module_opcode_offsets, reseal, split_dump
from server import ServerDied

from migrate_util import (Retrier, client, db_state, info_idmp, native86_binary, populate,
                          require_863_reads_host_rdb, retries)

KEYS = ["s1", "s2", "s3", "empty"]


@pytest.fixture(autouse=True)
def _host_rdb_readable_by_863():
    """Every test here moves an RDB file or a DUMP payload of the host to 8.6.3."""
    require_863_reads_host_rdb()


def test_restart_with_the_module_then_without(server_factory):
    b86 = native86_binary()
    cfg = {"idmp.stream-idmp-duration": "300", "idmp.stream-idmp-maxsize": "50"}
    m = server_factory(module_args=cfg)  # Redis 7.0.15 with the module
    c = client(m)
    sent = populate(c)
    assert c.execute_command("TYPE", "s1") == b"stream"
    # a native stream that predates capture stays what it is
    c.execute_command("CONFIG", "SET", "idmp.capture-new-streams", "no")
    c.execute_command("XADD", "native", "1-1", "f", "v")
    c.execute_command("XGROUP", "CREATE", "native", "g", "0")
    c.execute_command("CONFIG", "SET", "idmp.capture-new-streams", "yes")
    assert c.execute_command("OBJECT", "ENCODING", "native") == b"stream"
    native_before = c.execute_command("XINFO", "STREAM", "native", "FULL")
    before = db_state(c, KEYS)
    assert not retries(c, sent), "retries on 7.0 itself"
    before_retry = db_state(c, KEYS)
    assert {k: v["info"] for k, v in before.items()} == \
        {k: v["info"] for k, v in before_retry.items()}
    # a producer retries the same pairs before, during and after the move
    producer = Retrier(m.port, sent)
    producer.start()
    assert c.execute_command("SAVE") == b"OK"
    c.close()
    m.stop()

    # 1. the same configuration on native 8.6.3 (on the same port)
    n = server_factory(binary=b86, workdir=m.dir, start=False, module_args=cfg)
    n.port = m.port
    n.start()
    c = client(n)
    info = info_idmp(c)
    assert info["idmp_migration_mode"] == 1
    assert info["idmp_migrated_streams"] == 4, n.log_tail()
    assert info["idmp_migration_failures"] == 0, n.log_tail()
    assert info["idmp_module_streams"] == 0
    # the module routes nothing: the host's own XADD, no idmp.* twin
    assert c.execute_command("COMMAND", "INFO", "idmp.xrange") == [None]
    xadd_flags = c.execute_command("COMMAND", "INFO", "XADD")[0][2]
    assert b"module" not in xadd_flags, xadd_flags
    assert b"idmp" in [m[1] for m in c.execute_command("MODULE", "LIST")]
    for k in KEYS:
        assert c.execute_command("OBJECT", "ENCODING", k) == b"stream"
    assert c.execute_command("GET", "plain-string") == b"v"
    assert c.execute_command("XINFO", "STREAM", "native", "FULL")[:12] == native_before[:12]
    assert c.execute_command("HGETALL", "plain-hash") == [b"f", b"v"]
    after = db_state(c, KEYS)
    for k in KEYS:
        for part in before[k]:
            assert after[k][part] == before[k][part], (k, part, before[k][part], after[k][part])
    assert not retries(c, sent), "retries after the move"
    assert db_state(c, KEYS) == before, "a retry changed something"
    digests = {k: c.execute_command("DEBUG", "DIGEST-VALUE", k) for k in KEYS}
    assert c.execute_command("SAVE") == b"OK"
    c.close()
    n.stop()

    # 2. without the module
    w = server_factory(binary=b86, module=False, workdir=m.dir, start=False)
    w.port = m.port
    w.start()
    c = client(w)
    time.sleep(0.2)
    assert producer.finish() == []
    assert producer.answers > len(sent)
    assert db_state(c, KEYS) == before
    assert {k: c.execute_command("DEBUG", "DIGEST-VALUE", k) for k in KEYS} == digests
    assert not retries(c, sent), "retries on 8.6.3 without the module"
    c.execute_command("XADD", "s1", "IDMP", "p-new", "i-new", "*", "f", "v")
    assert c.execute_command("XADD", "s1", "IDMP", "p-new", "i-new", "*", "f", "v") \
        == c.execute_command("XREVRANGE", "s1", "+", "-", "COUNT", "1")[0][0]


def test_a_failed_conversion_leaves_the_key_and_says_so(server_factory):
    """The temporary key a conversion builds under is taken: that stream stays
    a module stream, the log and INFO say so, the others move; once the way
    is free, the next load (DEBUG RELOAD here, a restart alike) converts it."""
    b86 = native86_binary()
    m = server_factory()
    c = client(m)
    sent = populate(c)
    c.execute_command("SET", "{s1}:idmp-migrate-tmp", "in the way")
    before = db_state(c, KEYS)
    assert c.execute_command("SAVE") == b"OK"
    c.close()
    m.stop()
    n = server_factory(binary=b86, workdir=m.dir, start=False)
    n.start()
    c = client(n)
    info = info_idmp(c)
    assert (info["idmp_migrated_streams"], info["idmp_migration_failures"]) == (3, 1)
    assert info["idmp_module_streams"] == 1
    assert c.execute_command("TYPE", "s1") == b"idmp-strm"
    assert c.execute_command("GET", "{s1}:idmp-migrate-tmp") == b"in the way"
    with open(n.logfile, encoding="utf-8", errors="replace") as f:
        assert "module stream 's1' NOT converted, left as it was: " \
            "the temporary key '{s1}:idmp-migrate-tmp' exists" in f.read()
    c.execute_command("DEL", "{s1}:idmp-migrate-tmp")
    assert c.execute_command("DEBUG", "RELOAD") == b"OK"
    assert info_idmp(c)["idmp_module_streams"] == 0
    assert db_state(c, KEYS) == before
    assert not retries(c, sent)


def test_corrupt_module_payloads_on_863(server_factory):
    """SPEC 8 on the way out: a truncated or damaged idmp-strm payload
    (RESTORE, an RDB file) is refused with an error on 8.6.3 in migration
    mode; the server does not crash."""
    b86 = native86_binary()
    m = server_factory()
    c = client(m)
    populate(c, n=40)
    value, ver = split_dump(c.execute_command("DUMP", "s1"))
    assert c.execute_command("SAVE") == b"OK"
    c.close()
    m.stop()
    with open(os.path.join(m.dir, "dump.rdb"), "rb") as f:
        rdb = f.read()

    n = server_factory(binary=b86)
    c = client(n)
    starts, _ = module_opcode_offsets(value)
    refused = 0
    for k in range(1, len(starts), max(1, len(starts) // 40)):
        try:
            c.execute_command("RESTORE", "cut%d" % k, "0", reseal(cut_at_opcode(value, k), ver))
        except redis.ResponseError as e:
            assert "Bad data format" in str(e), e
            refused += 1
    assert refused > 0
    for pos in range(12, len(value), max(1, len(value) // 60)):
        v = bytearray(value)
        v[pos] ^= 0xFF
        try:
            c.execute_command("RESTORE", "flip%d" % pos, "0", reseal(bytes(v), ver))
        except redis.ResponseError:
            pass
    assert c.execute_command("PING") is not None
    with open(n.logfile, encoding="utf-8", errors="replace") as f:
        log = f.read()
    assert "idmp: cannot load an idmp-strm value" in log
    assert "crashed" not in log and "BUG REPORT" not in log
    n.stop()

    # an RDB file cut inside the module value: the load fails cleanly. The cut
    # is inside the payload of the value's longest string: after the module
    # refuses the value, Redis 8.6.3 runs its own RDB checker in-process, and
    # that checker loops forever when the file ends exactly where it reads a
    # module opcode (rdbLoadCheckModuleValue has no case for a read error),
    # a hang in Redis's code that a cut at a content-dependent offset hit now
    # and then.
    bad = tempfile.mkdtemp(prefix="idmp-migrate-bad-")
    try:
        starts, eof = module_opcode_offsets(value)
        spans = [(b - a, a, b) for a, b in zip(starts, starts[1:] + [eof]) if value[a] == 5]
        _, a, b = max(spans)
        assert b - a > 4, (a, b)
        # (value[0] is the type byte, which the RDB file writes before the key)
        i = rdb.index(b"s1") + 2 + (a + b) // 2 - 1
        with open(os.path.join(bad, "dump.rdb"), "wb") as f:
            f.write(rdb[:i])
        x = server_factory(binary=b86, workdir=bad, start=False)
        with pytest.raises(ServerDied) as died:
            x.start()
        assert "exited with 1" in str(died.value), str(died.value)[-2000:]
        assert "idmp: cannot load an idmp-strm value: truncated or unreadable payload" \
            in str(died.value)
        assert "BUG REPORT" not in str(died.value) and "crashed" not in str(died.value)
    finally:
        shutil.rmtree(bad, ignore_errors=True)


def test_idmpauto_retries_across_the_move(server_factory):
    """IDMPAUTO iids recorded by the module on 7.0 are 8.6.3's own: after the
    move, native 8.6.3 (without the module) answers an IDMPAUTO retry with
    the original ID."""
    b86 = native86_binary()
    m = server_factory()
    c = client(m)
    sent = []
    for i in range(40):
        fields = ("n", str(i), "payload", "x" * i)
        sent.append((fields, c.execute_command("XADD", "auto", "IDMPAUTO", "pa", "*", *fields)))
    assert c.execute_command("SAVE") == b"OK"
    c.close()
    m.stop()
    n = server_factory(binary=b86, workdir=m.dir, start=False)
    n.start()
    c = client(n)
    assert info_idmp(c)["idmp_migrated_streams"] == 1
    for fields, want in sent:
        assert c.execute_command("XADD", "auto", "IDMPAUTO", "pa", "*", *fields) == want
    assert c.execute_command("SAVE") == b"OK"
    c.close()
    n.stop()
    w = server_factory(binary=b86, module=False, workdir=m.dir, start=False)
    w.start()
    c = client(w)
    for fields, want in sent:
        assert c.execute_command("XADD", "auto", "IDMPAUTO", "pa", "*", *fields) == want
    assert c.execute_command("XLEN", "auto") == 40


def test_restore_of_a_module_payload_on_863(server_factory):
    """MIGRATE/RESTORE from a 7.x node into 8.6.3 in migration mode: the
    module stream that arrives is converted right after the command."""
    b86 = native86_binary()
    m = server_factory()
    c = client(m)
    sent = populate(c)
    before = db_state(c, ["s1", "s3"])
    dumps = {k: (c.execute_command("DUMP", k), max(0, c.execute_command("PTTL", k)))
             for k in ("s1", "s3")}
    n = server_factory(binary=b86)
    nc = client(n)
    for k, (payload, ttl) in dumps.items():
        assert nc.execute_command("RESTORE", k, ttl, payload) == b"OK"
    assert info_idmp(nc)["idmp_migrated_streams"] == 2
    assert info_idmp(nc)["idmp_module_streams"] == 0
    after = db_state(nc, ["s1", "s3"])
    assert after == before
    assert not retries(nc, [s for s in sent if s[0] in ("s1", "s3")])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_workloads_move_by_restart(server_factory, seed):
    """The issue-3 random workload (explicit and auto IDs, XDEL, XTRIM,
    XSETID, groups, XREADGROUP/XACK/XCLAIM/XAUTOCLAIM, XCFGSET) converts with
    no failure and every stream reads the same on 8.6.3. Its entries carry
    small explicit IDs (1-1, ...), which native 8.6.3 takes as the iids' age
    (README, "What does not move"): pids-tracked and iids-tracked are left
    out here (the other tests, with auto IDs, compare them and retry)."""
    from pworkload import Workload
    b86 = native86_binary()
    m = server_factory()
    w = Workload(seed, groups=True)
    with m.raw() as rc:
        w.setup(rc)
        w.run(rc, 400)
    c = client(m)
    keys = w.all_keys
    before = db_state(c, keys)
    assert c.execute_command("SAVE") == b"OK"
    c.close()
    m.stop()
    n = server_factory(binary=b86, workdir=m.dir, start=False)
    n.start()
    c = client(n)
    info = info_idmp(c)
    assert (info["idmp_migrated_streams"], info["idmp_migration_failures"]) == \
        (len(keys), 0), n.log_tail()
    after = db_state(c, keys)
    for st in list(before.values()) + list(after.values()):
        for f in (b"pids-tracked", b"iids-tracked"):
            st["info"].pop(f)
    assert after == before


def test_binary_key_names_and_other_databases(server_factory):
    """Every database is converted; key names are bytes (NUL, a hash tag,
    non-UTF-8); a TTL in another database is kept."""
    b86 = native86_binary()
    m = server_factory()
    c = client(m)
    key = b"b\x00{t}\xff"
    c.execute_command("SELECT", "3")
    id3 = c.execute_command("XADD", key, "IDMP", b"p\x00", b"\xfe", "*", "f", b"\x00")
    c.execute_command("PEXPIRE", key, "50000000")
    c.execute_command("SELECT", "0")
    id0 = c.execute_command("XADD", key, "IDMP", "p", "i", "*", "f", "v")
    assert c.execute_command("SAVE") == b"OK"
    c.close()
    m.stop()
    n = server_factory(binary=b86, workdir=m.dir, start=False)
    n.start()
    c = client(n)
    assert info_idmp(c)["idmp_migrated_streams"] == 2
    assert c.execute_command("XADD", key, "IDMP", "p", "i", "*", "f", "v") == id0
    c.execute_command("SELECT", "3")
    assert c.execute_command("OBJECT", "ENCODING", key) == b"stream"
    assert c.execute_command("XADD", key, "IDMP", b"p\x00", b"\xfe", "*", "x", "y") == id3
    assert 0 < c.execute_command("PTTL", key) <= 50000000
    assert c.execute_command("XRANGE", key, "-", "+") == [[id3, [b"f", b"\x00"]]]
    assert c.execute_command("KEYS", "*") == [key]
