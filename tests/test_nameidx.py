"""Issue 13: the filter leaves TYPE, XLEN, `XADD key * f v` (new streams
native) and the XRANGE/XREVRANGE, XACK and non-blocking XREAD/XREADGROUP
calls the module parses to the host when no database holds a module stream
under the key's name (src/server/nameidx.rs, src/server/skip.rs).

A false negative would be a bug: the host's TYPE answers `idmp-strm` for a
module stream, its XLEN and XADD answer WRONGTYPE. So every way a module
stream gets a name is followed by TYPE/XLEN/XADD on that name, which must
answer what the module answers for a module stream: creation, conversion,
RENAME/RENAMENX, COPY (also to another db), RESTORE, DEBUG RELOAD, restart,
replica full sync and replicated renames, MOVE/SWAPDB, MULTI (the module
stream created by an earlier command of the transaction, or by another client
between queueing and EXEC; a RENAME queued before its stream exists), scripts,
a paused server, renames that fail, a RENAME under another name. Every way one loses its
name (DEL, UNLINK, expiry, eviction, overwrite, FLUSHALL ASYNC) must bring the
index back to exactly the module streams held (INFO idmp: `module_streams` ==
`name_index_values`), and the name back to the host.
"""

import time

import pytest

from resp import OK, Err, Simple
from test_replication import sync, wait_link

NO_CAPTURE = {"idmp.capture-new-streams": "no"}
STREAM = Simple(b"stream")


def info(c):
    text = c.call("INFO", "idmp").decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("idmp_") and ":" in line:
            k, v = line[len("idmp_"):].split(":", 1)
            out[k] = int(v) if v.lstrip("-").isdigit() else v
    return out


def left(c):
    return info(c)["commands_left_to_host"]


def exact(c, want=None, timeout=5.0):
    """The index holds exactly the module streams (`want` of them, once lazy
    frees ran)."""
    deadline = time.time() + timeout
    while True:
        i = info(c)
        if (i["module_streams"] == i["name_index_values"] and i["name_index_unnamed"] == 0
                and i["name_index_unsure"] == 0 and want in (None, i["module_streams"])):
            return i
        if time.time() > deadline:
            raise AssertionError("index not exact: %r" % i)
        time.sleep(0.02)


def settle_multi(c, timeout=15.0):
    """Waits until the cron found no client in a transaction."""
    deadline = time.time() + timeout
    while info(c)["left_to_host_suspended"]:
        if time.time() > deadline:
            raise AssertionError("leaving to the host stays suspended")
        time.sleep(0.05)


def module_stream_answers(c, key, n):
    """What the module answers for a module stream of n entries (the host's
    own commands would answer idmp-strm / WRONGTYPE)."""
    assert c.call("TYPE", key) == STREAM, key
    assert c.call("XLEN", key) == n, key
    assert isinstance(c.call("XADD", key, "*", "f", "v"), bytes), key
    assert c.call("XLEN", key) == n + 1, key
    assert len(c.call("XRANGE", key, "-", "+")) == n + 1, key
    assert len(c.call("XREVRANGE", key, "+", "-", "COUNT", "1")) == 1, key


def is_left(c, *cmd):
    """Runs cmd; whether the filter left it to the host."""
    before = left(c)
    reply = c.call(*cmd)
    return left(c) == before + 1, reply


def left_as_the_host(c, o, setup, cmds):
    """After `setup` on both, each of `cmds` is left to the host on `c` (the
    module's server) and answers as on `o` (the host without the module)."""
    for cmd in setup:
        c.call(*cmd)
        o.call(*cmd)
    for cmd in cmds:
        was_left, got = is_left(c, *cmd)
        assert was_left, cmd
        assert got == o.call(*cmd), cmd


def make_module(c, key, n=1):
    for i in range(n):
        assert isinstance(c.call("XADD", key, "IDMP", "p", "i%d" % i, "*", "f", "v"), bytes)


@pytest.fixture
def srv(server_factory):
    s = server_factory(module_args=NO_CAPTURE)
    settle_multi(s.raw())
    return s


def test_native_keys_are_left_to_the_host_and_answer_as_before(server_factory, srv):
    native = server_factory(module=False)
    cmds = [("XADD", "n", "*", "f", "v", "g", "w"), ("TYPE", "n"), ("XLEN", "n"),
            ("TYPE", "missing"), ("XLEN", "missing"), ("SET", "s", "x"), ("TYPE", "s"),
            ("XLEN", "s"), ("XADD", "s", "*", "f", "v"), ("LPUSH", "l", "a"),
            ("TYPE", "l"), ("XLEN", "l")]
    skippable = {"TYPE", "XLEN", "XADD"}
    with srv.raw() as c, native.raw() as o:
        for cmd in cmds:
            was_left, got = is_left(c, *cmd)
            want = o.call(*cmd)
            if cmd[0] == "XADD" and isinstance(want, bytes):
                assert isinstance(got, bytes)
            else:
                assert got == want, (cmd, got, want)
            assert was_left == (cmd[0] in skippable), cmd
        # Shapes the module must parse stay routed (errors in 8.6.3's words).
        for cmd in [("XADD", "n", "*", "f"), ("XADD", "n", "MAXLEN", "5", "*", "f", "v"),
                    ("XADD", "n", "1-1", "f", "v"), ("XADD", "n", "NOMKSTREAM", "*", "f", "v")]:
            assert not is_left(c, *cmd)[0], cmd
        assert info(c)["name_index_values"] == 0


def test_xrange_the_module_parses_is_left_to_the_host(server_factory, srv):
    """XRANGE/XREVRANGE on a name without a module stream: left to the host
    when the module's parser accepts the call (it would forward it unchanged,
    or answer an empty array / WRONGTYPE as the host does), routed otherwise
    (Redis 8.6.3's error texts)."""
    native = server_factory(module=False)
    setup = [("XADD", "n", "1-1", "f", "v"), ("XADD", "n", "2-1", "g", "w"), ("SET", "s", "x")]
    cmds = [("XRANGE", "n", "-", "+"), ("XREVRANGE", "n", "+", "-"),
            ("XRANGE", "n", "(1-1", "+", "COUNT", "5"), ("XREVRANGE", "n", "+", "(2-1"),
            ("XRANGE", "missing", "-", "+"), ("XREVRANGE", "missing", "+", "-", "COUNT", "1"),
            ("XRANGE", "s", "-", "+"), ("XRANGE", "n", "-", "+", "COUNT", "0"),
            # The filter's quick forms (RangeRequest::surely_parses) and
            # their neighbours, which only the parse accepts.
            ("XRANGE", "n", "1", "2-1", "COUNT", "1"), ("XREVRANGE", "n", "2", "1-1", "count", "9"),
            ("XRANGE", "n", "0", "18446744073709551615"), ("XRANGE", "n", "-", "+", "COUNT", "-1"),
            ("XRANGE", "n", "01", "+"), ("XRANGE", "n", "-", "+", "COUNT", "1", "COUNT", "2")]
    with srv.raw() as c, native.raw() as o:
        left_as_the_host(c, o, setup, cmds)
        for cmd in [("XRANGE", "n", "x", "+"), ("XRANGE", "n", "-", "+", "COUNT"),
                    ("XRANGE", "n", "1-", "+"), ("XRANGE", "n", "-", "+", "COUNT", "1", "COUNT"),
                    ("XRANGE", "n", "-", "18446744073709551616"),
                    ("XRANGE", "n", "-", "+", "COUNT", "x"), ("XRANGE", "n", "-", "(0-0"),
                    ("XRANGE", "n", "-", "+", "LIMIT", "1")]:
            was_left, got = is_left(c, *cmd)
            assert not was_left and isinstance(got, Err), (cmd, got)
        make_module(c, "m", 2)
        assert not is_left(c, "XRANGE", "m", "-", "+")[0]
        module_stream_answers(c, "m", 2)


def test_reads_and_acks_the_module_parses_are_left_to_the_host(server_factory, srv):
    """XREAD/XREADGROUP without BLOCK, CLAIM or `+`, and XACK, on names
    without a module stream: left to the host, answering as the host without
    the module; other shapes, and any module-stream key, stay routed."""
    native = server_factory(module=False)
    setup = [("XADD", "n", "1-1", "f", "v"), ("XADD", "n", "2-1", "g", "w"), ("SET", "s", "x"),
             ("XGROUP", "CREATE", "n", "g", "0")]
    cmds = [("XREAD", "STREAMS", "n", "0"), ("XREAD", "COUNT", "1", "STREAMS", "n", "missing", "0", "0"),
            ("XREAD", "STREAMS", "n", "$"), ("XREAD", "STREAMS", "missing", "0"),
            ("XREAD", "STREAMS", "s", "0"),
            ("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "n", ">"),
            ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "n", "0"),
            ("XREADGROUP", "GROUP", "nog", "c", "STREAMS", "n", ">"),
            ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "missing", ">"),
            # the filter's quick forms (XreadRequest::quick_split) and a
            # neighbour only the parse accepts
            ("XREADGROUP", "GROUP", "g", "c2", "count", "1", "NOACK", "STREAMS", "n", ">"),
            ("XREAD", "COUNT", "1", "COUNT", "2", "STREAMS", "n", "0"),
            ("XACK", "n", "g", "1-1"), ("XACK", "n", "g", "1-1", "9-9"), ("XACK", "missing", "g", "1-1"),
            ("XACK", "s", "g", "1-1"), ("XACK", "n", "nog", "1-1"),
            # (XACK checks its IDs once the group is found, as the host does)
            ("XACK", "n", "g", "bad-id"), ("XACK", "missing", "g", "bad-id")]
    with srv.raw() as c, native.raw() as o:
        left_as_the_host(c, o, setup, cmds)
        # stay routed: BLOCK (the module blocks readers), `+` (7.4 syntax the
        # module serves), arguments the module's parser refuses
        for cmd in [("XREAD", "BLOCK", "10", "STREAMS", "n", "0"), ("XREAD", "STREAMS", "n", "+"),
                    ("XREAD", "STREAMS", "n"), ("XREAD", "COUNT", "x", "STREAMS", "n", "0"),
                    ("XREAD", "COUNT", "1", "STREAMS", "n", "missing", "0", "+")]:
            assert not is_left(c, *cmd)[0], cmd
        make_module(c, "m", 2)
        for cmd in [("XREAD", "STREAMS", "n", "m", "0", "0"), ("XACK", "m", "g", "1-1")]:
            assert not is_left(c, *cmd)[0], cmd
        module_stream_answers(c, "m", 2)


def test_capture_keeps_xadd_routed(server_factory):
    s = server_factory()
    with s.raw() as c:
        settle_multi(c)
        was_left, _ = is_left(c, "XADD", "k", "*", "f", "v")
        assert not was_left
        assert info(c)["module_streams"] == 1
        assert not is_left(c, "XLEN", "k")[0]
        assert is_left(c, "XLEN", "other") == (True, 0)
        exact(c)


def test_module_stream_is_routed_until_deleted(srv):
    with srv.raw() as c:
        make_module(c, "m")
        assert not is_left(c, "TYPE", "m")[0]
        module_stream_answers(c, "m", 1)
        exact(c)
        assert c.call("DEL", "m") == 1
        assert is_left(c, "TYPE", "m") == (True, Simple(b"none"))
        assert exact(c, 0)["name_index_values"] == 0
        # UNLINK, and an overwrite by another type
        make_module(c, "u")
        make_module(c, "o")
        assert c.call("UNLINK", "u") == 1
        assert c.call("SET", "o", "x") == OK
        assert exact(c, 0)["name_index_values"] == 0
        assert is_left(c, "TYPE", "o") == (True, Simple(b"string"))


def test_conversion_binds_the_name(srv):
    with srv.raw() as c:
        c.call("XADD", "n", "*", "f", "v")
        assert c.call("XCFGSET", "n", "IDMP-DURATION", "50") == OK
        module_stream_answers(c, "n", 1)
        exact(c)


def test_rename_moves_the_name(srv):
    with srv.raw() as c:
        make_module(c, "m", 2)
        c.call("XADD", "n", "*", "f", "v")  # native, replaced by the rename
        assert c.call("RENAME", "m", "n") == OK
        module_stream_answers(c, "n", 2)
        assert is_left(c, "TYPE", "m") == (True, Simple(b"none"))
        assert c.call("RENAMENX", "n", "fresh") == 1
        module_stream_answers(c, "fresh", 3)
        assert is_left(c, "XLEN", "n") == (True, 0)
        # A native stream renamed over a module stream's name.
        make_module(c, "q")
        c.call("XADD", "nat", "*", "f", "v")
        assert c.call("RENAME", "nat", "q") == OK
        assert is_left(c, "XLEN", "q") == (True, 1)
        # Inside a transaction and a script.
        assert c.call("MULTI") == OK
        c.call("RENAME", "fresh", "t1")
        c.call("XADD", "t1", "*", "f", "v")
        c.call("XLEN", "t1")
        assert c.call("EXEC")[2] == 5
        assert c.call("EVAL", "redis.call('RENAME', KEYS[1], KEYS[2]);"
                      "redis.call('XADD', KEYS[2], '*', 'f', 'v');"
                      "return redis.call('XLEN', KEYS[2])", "2", "t1", "t2") == 6
        module_stream_answers(c, "t2", 6)
        assert exact(c, 1)["name_index_values"] == 1


def test_copy_binds_the_destination(srv):
    with srv.raw() as c:
        make_module(c, "m", 2)
        assert c.call("COPY", "m", "c") == 1
        assert c.call("COPY", "m", "d", "DB", "1") == 1
        c.call("XADD", "r", "*", "f", "v")
        assert c.call("COPY", "m", "r", "REPLACE") == 1
        assert c.call("DEL", "m") == 1
        module_stream_answers(c, "c", 2)
        module_stream_answers(c, "r", 2)
        assert c.call("SELECT", "1") == OK
        module_stream_answers(c, "d", 2)
        assert exact(c, 3)["name_index_values"] == 3


def test_restore_binds_the_name(srv):
    with srv.raw() as c:
        make_module(c, "m", 2)
        payload = c.call("DUMP", "m")
        assert c.call("RESTORE", "r", "0", payload) == OK
        c.call("XADD", "n", "*", "f", "v")
        assert c.call("RESTORE", "n", "0", payload, "REPLACE") == OK
        module_stream_answers(c, "r", 2)
        module_stream_answers(c, "n", 2)
        # Restored already expired: freed at once.
        assert c.call("RESTORE", "e", "1", payload, "ABSTTL") == OK
        assert is_left(c, "TYPE", "e") == (True, Simple(b"none"))
        assert exact(c, 3)["name_index_values"] == 3


def test_debug_reload_and_restart_bind_the_loaded_names(srv):
    with srv.raw() as c:
        for k in ("a", "b", "c"):
            make_module(c, k, 2)
        c.call("XADD", "n", "*", "f", "v")
        assert c.call("SELECT", "2") == OK
        make_module(c, "z")
        assert c.call("DEBUG", "RELOAD") == OK
        assert exact(c, 4)["name_index_values"] == 4
        module_stream_answers(c, "z", 1)
        assert c.call("SELECT", "0") == OK
        module_stream_answers(c, "a", 2)
        assert is_left(c, "XLEN", "n") == (True, 1)
        assert c.call("SAVE") == OK
    srv.restart()
    with srv.raw() as c:
        assert exact(c, 4)["name_index_values"] == 4
        module_stream_answers(c, "b", 2)
        assert is_left(c, "TYPE", "n") == (True, STREAM)
        # The first values came from the loader: renames are followed too.
        assert c.call("RENAME", "c", "n") == OK
        module_stream_answers(c, "n", 2)
        assert exact(c, 4)["name_index_values"] == 4


@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_aof_replay_binds_the_names(server_factory, preamble):
    s = server_factory(module_args=NO_CAPTURE,
                       extra=["--appendonly", "yes", "--aof-use-rdb-preamble", preamble])
    with s.raw() as c:
        make_module(c, "m", 2)
        make_module(c, "gone")
        assert c.call("RENAME", "m", "n") == OK
        assert c.call("COPY", "n", "c", "DB", "1") == 1
        assert c.call("DEL", "gone") == 1
        c.call("XADD", "nat", "*", "f", "v")
        if preamble == "yes":
            assert c.call("BGREWRITEAOF") is not None
            deadline = time.time() + 10
            while "aof_rewrite_in_progress:1" in c.call("INFO", "persistence").decode() \
                    or "aof_rewrite_scheduled:1" in c.call("INFO", "persistence").decode():
                assert time.time() < deadline
                time.sleep(0.05)
            assert c.call("RENAME", "n", "n2") == OK  # after the rewrite: replayed
    s.restart()
    with s.raw() as c:
        settle_multi(c)
        name = "n2" if preamble == "yes" else "n"
        assert exact(c, 2)["name_index_values"] == 2
        module_stream_answers(c, name, 2)
        assert is_left(c, "TYPE", "m") == (True, Simple(b"none"))
        assert is_left(c, "XLEN", "gone") == (True, 0)
        assert is_left(c, "XLEN", "nat") == (True, 1)
        assert c.call("SELECT", "1") == OK
        module_stream_answers(c, "c", 2)


def test_replica_full_sync_and_replicated_renames(server_factory):
    master = server_factory(module_args=NO_CAPTURE)
    with master.raw() as m:
        make_module(m, "m", 2)
        m.call("XADD", "n", "*", "f", "v")
    replica = server_factory(module_args=NO_CAPTURE,
                             extra=["--replicaof", "127.0.0.1", str(master.port)])
    with master.raw() as m, replica.raw() as r:
        wait_link(r)
        settle_multi(r)
        assert exact(r, 1)["name_index_values"] == 1
        assert r.call("TYPE", "m") == STREAM and r.call("XLEN", "m") == 2
        assert is_left(r, "XLEN", "n") == (True, 1)
        assert m.call("RENAME", "m", "n") == OK
        make_module(m, "k")
        assert m.call("MULTI") == OK  # replicated as a transaction
        m.call("RENAME", "k", "k2")
        m.call("XADD", "k2", "*", "f", "v")
        assert len(m.call("EXEC")) == 2
        sync(m)
        settle_multi(r)
        assert not is_left(r, "TYPE", "n")[0]
        assert r.call("TYPE", "n") == STREAM and r.call("XLEN", "n") == 2
        assert r.call("XLEN", "k2") == 2
        assert is_left(r, "TYPE", "m") == (True, Simple(b"none"))
        assert m.call("DEL", "n", "k2") == 2
        sync(m)
        assert exact(r, 0)["name_index_values"] == 0
        assert is_left(r, "TYPE", "n") == (True, Simple(b"none"))


def test_flushall_async_then_recreate(srv):
    with srv.raw() as c:
        for i in range(50):
            make_module(c, "k%d" % i)
        big = ["f%d" % i for i in range(2000)]
        for _ in range(5):
            c.call("XADD", "big", "IDMP", "p", str(_), "*", *[x for f in big for x in (f, "v")])
        assert c.call("FLUSHALL", "ASYNC") == OK
        make_module(c, "k1")
        module_stream_answers(c, "k1", 1)
        make_module(c, "big")
        assert c.call("UNLINK", "big") == 1
        c.call("XADD", "big", "*", "f", "v")  # native now
        assert exact(c, 1)["name_index_values"] == 1
        assert is_left(c, "XLEN", "big") == (True, 1)
        module_stream_answers(c, "k1", 2)


def test_multi_queued_after_the_module_stream_is_created(server_factory):
    # capture on: the queued XADD creates a module stream at EXEC.
    s = server_factory()
    with s.raw() as c:
        assert c.call("MULTI") == OK
        for cmd in (("XADD", "k", "*", "f", "v"), ("XLEN", "k"), ("TYPE", "k"),
                    ("XADD", "k", "*", "f", "v"), ("XLEN", "k")):
            assert c.call(*cmd) == Simple(b"QUEUED")
        got = c.call("EXEC")
        assert got[1:3] == [1, STREAM] and isinstance(got[3], bytes) and got[4] == 2, got
        assert info(c)["module_streams"] == 1


def test_multi_with_capture_off(srv):
    with srv.raw() as c:
        assert c.call("MULTI") == OK
        c.call("XADD", "k", "IDMP", "p", "i", "*", "f", "v")
        c.call("XLEN", "k")
        c.call("TYPE", "k")
        c.call("XADD", "k", "*", "f", "v")
        got = c.call("EXEC")
        assert got[1:3] == [1, STREAM] and isinstance(got[3], bytes), got
        module_stream_answers(c, "k", 2)


def test_module_stream_created_between_queueing_and_exec(srv):
    with srv.raw() as c1, srv.raw() as c2:
        settle_multi(c1)
        assert c1.call("MULTI") == OK
        for cmd in (("XLEN", "k"), ("TYPE", "k"), ("XADD", "k", "*", "f", "v"), ("XLEN", "k")):
            assert c1.call(*cmd) == Simple(b"QUEUED")
        make_module(c2, "k")
        time.sleep(0.3)
        i = info(c2)
        assert i["left_to_host_suspended"] == 1
        if i["host_filter_client_id"]:
            # Redis 7.2+, Valkey: while c1 queues, only c1 is routed
            # (test_txn.py)
            assert (i["left_to_host_suspended_all"], i["left_to_host_suspended_clients"]) == (0, 1)
            assert is_left(c2, "TYPE", "elsewhere") == (True, Simple(b"none"))
        else:
            # Redis 7.0: while c1 queues, nothing is left to the host, for
            # anyone
            assert i["left_to_host_suspended_all"] == 1
            assert not is_left(c2, "TYPE", "elsewhere")[0]
        got = c1.call("EXEC")
        assert got[:2] == [1, STREAM] and isinstance(got[2], bytes) and got[3] == 2, got
        settle_multi(c1)
        assert is_left(c1, "TYPE", "elsewhere") == (True, Simple(b"none"))
        # DISCARD and a dropped connection end the wait as well
        assert c1.call("MULTI") == OK
        assert c1.call("DISCARD") == OK
        settle_multi(c1)
        c3 = srv.raw()
        assert c3.call("MULTI") == OK
        c3.close()
        settle_multi(c1)


def test_scripts_decide_per_call(srv):
    with srv.raw() as c:
        script = ("redis.call('XADD', KEYS[1], 'IDMP', 'p', 'i', '*', 'f', 'v');"
                  "local t = redis.call('TYPE', KEYS[1]);"
                  "redis.call('XADD', KEYS[1], '*', 'f', 'v');"
                  "return {t.ok, redis.call('XLEN', KEYS[1])}")
        assert c.call("EVAL", script, "1", "k") == [b"stream", 2]
        module_stream_answers(c, "k", 2)


def test_move_and_swapdb_keep_the_name(srv):
    with srv.raw() as c:
        make_module(c, "m")
        assert c.call("MOVE", "m", "1") == 1
        assert c.call("SELECT", "1") == OK
        module_stream_answers(c, "m", 1)
        assert c.call("SWAPDB", "0", "1") == OK
        assert c.call("SELECT", "0") == OK
        module_stream_answers(c, "m", 2)
        # A native stream under the same name in another db: routed (the
        # index is by name), answered natively.
        assert c.call("SELECT", "3") == OK
        assert not is_left(c, "XADD", "m", "*", "f", "v")[0]
        assert c.call("XLEN", "m") == 1 and c.call("TYPE", "m") == STREAM
        assert exact(c, 1)["name_index_values"] == 1


def test_expiry_unbinds(srv):
    with srv.raw() as c:
        make_module(c, "lazy")
        make_module(c, "active")
        assert c.call("PEXPIRE", "lazy", "50") == 1
        assert c.call("PEXPIRE", "active", "50") == 1
        time.sleep(0.2)
        assert c.call("TYPE", "lazy") == Simple(b"none")  # expired on access
        deadline = time.time() + 10
        while info(c)["module_streams"] and time.time() < deadline:
            time.sleep(0.1)  # the active expiry cycle
        assert exact(c, 0)["name_index_values"] == 0
        assert is_left(c, "TYPE", "active") == (True, Simple(b"none"))


def test_eviction_unbinds(server_factory):
    s = server_factory(module_args=NO_CAPTURE,
                       extra=["--maxmemory-policy", "allkeys-random"])
    with s.raw() as c:
        settle_multi(c)
        used = int(c.call("INFO", "memory").decode().split("used_memory:")[1].split()[0])
        assert c.call("CONFIG", "SET", "maxmemory", str(used + 2_000_000)) == OK
        for i in range(400):
            c.call("XADD", "e%d" % i, "IDMP", "p", "i", "*", "f", "x" * 10_000)
        stats = c.call("INFO", "stats").decode()
        assert int(stats.split("evicted_keys:")[1].split()[0]) > 0
        assert c.call("CONFIG", "SET", "maxmemory", "0") == OK
        exact(c)


def test_paused_server_routes(srv):
    with srv.raw() as c, srv.raw() as other:
        c.call("XADD", "n", "*", "f", "v")
        assert other.call("CLIENT", "PAUSE", "300", "WRITE") == OK
        assert is_left(c, "TYPE", "n") == (False, STREAM)
        time.sleep(0.4)
        assert is_left(c, "TYPE", "n") == (True, STREAM)


def test_renamed_multi_turns_leaving_off(server_factory):
    s = server_factory(module_args=NO_CAPTURE, extra=["--rename-command", "MULTI", "MYMULTI"])
    with s.raw() as c:
        time.sleep(0.3)
        assert info(c)["left_to_host_suspended"] == 1
        assert is_left(c, "TYPE", "x") == (False, Simple(b"none"))
        assert c.call("MYMULTI") == OK
        assert c.call("XADD", "k", "IDMP", "p", "i", "*", "f", "v") == Simple(b"QUEUED")
        assert c.call("XLEN", "k") == Simple(b"QUEUED")
        assert c.call("EXEC")[1] == 1


def test_rename_queued_before_its_stream_exists(srv):
    """A RENAME queued in a transaction whose earlier command creates the
    module stream: the filter saw the RENAME before the stream existed."""
    with srv.raw() as c:
        assert c.call("MULTI") == OK
        c.call("XADD", "src", "IDMP", "p", "i", "*", "f", "v")
        c.call("RENAME", "src", "dst")
        c.call("XLEN", "dst")
        assert c.call("EXEC")[2] == 1
        settle_multi(c)
        assert exact(c, 1)["name_index_values"] == 1
        module_stream_answers(c, "dst", 1)
        assert is_left(c, "TYPE", "src") == (True, Simple(b"none"))


def test_failed_renames_leave_the_index_exact(srv):
    """RENAMENX onto an existing key and RENAME of a missing key change
    nothing: the moves the filter noted must not misplace a later value."""
    with srv.raw() as c:
        make_module(c, "a")
        c.call("XADD", "b", "*", "f", "v")
        assert c.call("RENAMENX", "a", "b") == 0
        assert isinstance(c.call("RENAME", "missing", "x"), Err)
        assert exact(c, 1)["name_index_values"] == 1
        # The stream at `a` is deleted: its noted move (a -> b) is spent.
        assert c.call("DEL", "a") == 1
        assert exact(c, 0)["name_index_values"] == 0
        assert is_left(c, "XLEN", "b") == (True, 1)
        assert is_left(c, "TYPE", "a") == (True, Simple(b"none"))
        # A new stream at `a`, moved for real.
        make_module(c, "a", 2)
        assert c.call("RENAME", "a", "c") == OK
        assert exact(c, 1)["name_index_values"] == 1
        module_stream_answers(c, "c", 2)
        assert is_left(c, "XLEN", "b") == (True, 1)
        assert c.call("MOVE", "c", "2") == 1
        assert exact(c, 1)["name_index_values"] == 1
        assert c.call("SELECT", "2") == OK
        module_stream_answers(c, "c", 3)


def test_renamed_rename_turns_leaving_off(server_factory):
    """A RENAME under another name would go unseen by the filter, which
    tells the name index where a renamed value goes: every stream command
    is routed (and answered right)."""
    s = server_factory(module_args=NO_CAPTURE, extra=["--rename-command", "RENAME", "MYRENAME"])
    with s.raw() as c:
        settle_multi(c)
        assert info(c)["name_index_unsure"] == 1
        c.call("XADD", "nat", "*", "f", "v")
        assert is_left(c, "XLEN", "nat") == (False, 1)
        make_module(c, "m", 2)
        assert c.call("MYRENAME", "m", "n") == OK
        module_stream_answers(c, "n", 2)
        assert c.call("TYPE", "m") == Simple(b"none")
        assert is_left(c, "TYPE", "nat") == (False, STREAM)


def test_queued_renames_of_one_source_to_two_names(srv):
    """Two queued RENAMEs of one source: the filter cannot tell which runs
    first, so the moved value is unnamed (every stream command routed)
    rather than bound to a name it may not have."""
    with srv.raw() as c:
        make_module(c, "a")
        assert c.call("MULTI") == OK
        c.call("RENAME", "a", "b")
        c.call("RENAME", "a", "c")
        reply = c.call("EXEC")
        assert reply[0] == OK and isinstance(reply[1], Err)
        settle_multi(c)  # leaving to the host is back on
        module_stream_answers(c, "b", 1)
        assert c.call("TYPE", "c") == Simple(b"none")
        assert c.call("DEL", "b") == 1
        settle_multi(c)
        assert exact(c, 0)["name_index_values"] == 0
