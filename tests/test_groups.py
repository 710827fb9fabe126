"""Consumer groups on module streams (issue 4): the group commands and
XREAD/XREADGROUP give the native replies (time values masked), blocked
readers are served and errored as in Redis 7.2+, conversion of a native
stream carries its groups and PELs, groups survive DEBUG RELOAD and an AOF
rewrite without RDB preamble, and a replica's digest matches after a
consumer-group workload.
"""

import time

from resp import Err, RMap
from server import host_is_redis70
from util import full_as_70, pairs

SETUP = [
    ["XADD", "s", "1-1", "a", "1"],
    ["XADD", "s", "2-1", "b", "2"],
    ["XADD", "s", "3-1", "c", "3"],
    ["XADD", "s", "4-1", "d", "4"],
]

SEQUENCE = [
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XGROUP", "CREATE", "s", "h", "$", "ENTRIESREAD", "4"],
    ["XGROUP", "CREATE", "nokey", "g", "0"],
    ["XGROUP", "SETID", "s", "nog", "0"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "alice"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "alice"],
    ["XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "3-1", "FORCE", "JUSTID"],
    ["XCLAIM", "s", "g", "bob", "0", "2-1", "RETRYCOUNT", "5"],
    ["XCLAIM", "s", "g", "bob", "0", "9-9", "FORCE"],
    ["XCLAIM", "s", "g", "bob", "x", "1-1"],
    ["XCLAIM", "s", "g", "bob", "0", "1-1", "BOGUS"],
    ["XCLAIM", "s", "nog", "bob", "0", "1-1"],
    ["XPENDING", "s", "g"],
    ["XPENDING", "s", "g", "-", "+", "10"],
    ["XPENDING", "s", "g", "-", "+", "10", "bob"],
    ["XPENDING", "s", "g", "IDLE", "100000000", "-", "+", "10"],
    ["XPENDING", "s", "g", "(1-1", "+", "x"],
    ["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "1", "JUSTID"],
    ["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "0"],
    ["XDEL", "s", "3-1"],
    ["XAUTOCLAIM", "s", "g", "carol", "0", "0"],
    ["XACK", "s", "g", "1-1", "9-9"],
    ["XACK", "s", "nog", "1-1"],
    ["XINFO", "GROUPS", "s"],
    ["XINFO", "CONSUMERS", "s", "g"],
    ["XINFO", "STREAM", "s", "FULL"],
    ["XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "3"],
    ["XINFO", "GROUPS", "s"],
    ["XGROUP", "DELCONSUMER", "s", "g", "carol"],
    ["XGROUP", "DESTROY", "s", "h"],
    ["XGROUP", "DESTROY", "s", "h"],
    ["XINFO", "GROUPS", "s"],
]

IDMP = {b"idmp-duration", b"idmp-maxsize", b"pids-tracked", b"iids-tracked",
        b"iids-added", b"iids-duplicates"}
TIME_KEYS = {b"idle", b"seen-time", b"inactive", b"active-time"}
NODES = {b"radix-tree-keys", b"radix-tree-nodes"}


def masked(v, cmd=None):
    """Replaces time-dependent values by '<t>' and drops the IDMP fields."""
    if cmd and cmd[0] == "XPENDING" and len(cmd) > 3 and isinstance(v, list):
        return [[r[0], r[1], "<t>", r[3]] for r in v]
    if isinstance(v, RMap):
        v = [x for kv in v for x in kv]
    if isinstance(v, list):
        out, i = [], 0
        while i < len(v):
            k = v[i]
            if isinstance(k, bytes) and (k in IDMP or k in NODES) and i + 1 < len(v):
                i += 2
                continue
            if isinstance(k, bytes) and k in TIME_KEYS and i + 1 < len(v):
                out += [k, "<t>"]
                i += 2
                continue
            if isinstance(k, bytes) and k == b"pending" and i + 1 < len(v) \
                    and isinstance(v[i + 1], list):
                rows = []
                for r in v[i + 1]:
                    r = list(r)
                    if len(r) == 4:
                        r[2] = "<t>"
                    elif len(r) == 3:
                        r[1] = "<t>"
                    rows.append(r)
                out += [k, rows]
                i += 2
                continue
            out.append(masked(k))
            i += 1
        return out
    return v


def test_group_commands_match_native(raw, oraw):
    """Module streams against the native Redis 8.6.3 oracle."""
    for c in SETUP:
        raw.call(*c)
        oraw.call(*c)
    assert raw.call("OBJECT", "ENCODING", "s") != b"stream"  # a module stream
    for c in SEQUENCE:
        got, want = raw.call(*c), oraw.call(*c)
        assert masked(got, c) == masked(want, c), c


def test_conversion_keeps_groups_and_pels(server_factory):
    srv = server_factory(module_args={"idmp.capture-new-streams": "no"})
    with srv.raw() as c:
        for cmd in SETUP:
            c.call(*cmd)
        c.call("XGROUP", "CREATE", "s", "g", "0")
        c.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">")
        c.call("XCLAIM", "s", "g", "bob", "0", "2-1", "RETRYCOUNT", "7")
        c.call("XGROUP", "CREATECONSUMER", "s", "g", "idle")
        c.call("XGROUP", "CREATE", "s", "h", "$")
        assert c.call("OBJECT", "ENCODING", "s") == b"stream"
        before = masked(c.call("XINFO", "STREAM", "s", "FULL"))
        pend = c.call("XPENDING", "s", "g", "-", "+", "10")
        assert c.call("XCFGSET", "s", "IDMP-DURATION", "50").value == b"OK"
        assert c.call("OBJECT", "ENCODING", "s") != b"stream"
        after = c.call("XINFO", "STREAM", "s", "FULL")
        if host_is_redis70():
            # 7.0 consumers have no active-time: the conversion gives each its
            # seen-time, as Redis 8.6 does loading a consumer saved before 7.2
            for g in dict(pairs(after))[b"groups"]:
                for cons in dict(pairs(g))[b"consumers"]:
                    cd = dict(pairs(cons))
                    assert cd[b"active-time"] == cd[b"seen-time"], cd
            after = full_as_70(after)
        assert masked(after) == before
        after = c.call("XPENDING", "s", "g", "-", "+", "10")
        assert [(r[0], r[1], r[3]) for r in after] == [(r[0], r[1], r[3]) for r in pend]


def test_groups_survive_reload_and_aof_rewrite(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        for cmd in SETUP:
            c.call(*cmd)
        for cmd in SEQUENCE[:12]:
            c.call(*cmd)
        full = c.call("XINFO", "STREAM", "s", "FULL")
        assert not isinstance(full, Err)
        assert c.call("DEBUG", "RELOAD").value == b"OK"
        assert c.call("XINFO", "STREAM", "s", "FULL") == full
        c.call("CONFIG", "SET", "aof-use-rdb-preamble", "no")
        c.call("CONFIG", "SET", "appendonly", "yes")
        import time
        for _ in range(100):
            info = c.call("INFO", "persistence")
            if b"aof_rewrite_in_progress:0" in info and b"aof_rewrite_scheduled:0" in info:
                break
            time.sleep(0.05)
        c.call("BGREWRITEAOF")
        for _ in range(100):
            info = c.call("INFO", "persistence")
            if b"aof_rewrite_in_progress:0" in info and b"aof_rewrite_scheduled:0" in info:
                break
            time.sleep(0.05)
        assert c.call("DEBUG", "LOADAOF").value == b"OK"
        # Consumers' seen-time is the load time after an AOF replay (as native).
        assert masked(c.call("XINFO", "STREAM", "s", "FULL")) == masked(full)


READS = [
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XGROUP", "CREATE", "t", "g", "0", "MKSTREAM"],
    ["XADD", "t", "1-5", "x", "1"],
    ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
    ["XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", "t", ">", ">"],
    ["XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "t", "s", ">", ">"],
    ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "s", "0", "0"],
    ["XREADGROUP", "GROUP", "nog", "bob", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "$"],
    ["XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", "0"],
    ["XREADGROUP", "GROUP", "g", "bob", "BLOCK", "10", "STREAMS", "s", ">"],
    ["XREAD", "STREAMS", "s", "t", "nokey", "0", "0", "0"],
    ["XREAD", "COUNT", "1", "STREAMS", "s", "s", "0", "1-1"],
    ["XREAD", "BLOCK", "10", "STREAMS", "s", "$"],
    ["XREAD", "STREAMS", "s", ">"],
    ["XREAD", "STREAMS", "s"],
    ["XREAD", "COUNT", "-1", "STREAMS", "s", "0"],
    ["XPENDING", "s", "g"],
    ["XINFO", "GROUPS", "s"],
    ["XINFO", "GROUPS", "t"],
    ["XINFO", "CONSUMERS", "s", "g"],
    ["XINFO", "STREAM", "s", "FULL"],
]


def test_reads_match_native(raw, oraw):
    """Module streams against the native Redis 8.6.3 oracle, as above."""
    for c in SETUP:
        raw.call(*c)
        oraw.call(*c)
    for c in READS:
        got, want = raw.call(*c), oraw.call(*c)
        assert masked(got, c) == masked(want, c), c


def test_blocked_readers(srv, raw):
    raw.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    with srv.raw() as reader:
        # Woken by an XADD; the delivery lands in the PEL.
        reader.send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "s", ">")
        time.sleep(0.2)
        new = raw.call("XADD", "s", "*", "a", "b")
        assert reader.read() == [[b"s", [[new, [b"a", b"b"]]]]]
        assert raw.call("XPENDING", "s", "g")[0] == 1
        # XREAD with $ resolved at call time, several keys.
        reader.send("XREAD", "BLOCK", "5000", "STREAMS", "nokey", "s", "$", "$")
        time.sleep(0.2)
        new = raw.call("XADD", "s", "*", "c", "d")
        assert reader.read() == [[b"s", [[new, [b"c", b"d"]]]]]
        # Group destroyed while blocked: NOGROUP.
        assert raw.call("XGROUP", "SETID", "s", "g", "$").value == b"OK"
        reader.send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "s", ">")
        time.sleep(0.2)
        assert raw.call("XGROUP", "DESTROY", "s", "g") == 1
        err = reader.read()
        assert isinstance(err, Err) and err.value.startswith(b"NOGROUP"), err
        # Timeout: a null reply.
        t0 = time.time()
        assert reader.call("XREAD", "BLOCK", "150", "STREAMS", "s", "$") is None
        assert time.time() - t0 >= 0.14
    # No blocking inside MULTI.
    raw.call("MULTI")
    raw.call("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    assert raw.call("EXEC") == [None]


def test_replica_digest_after_group_workload(server_factory):
    master = server_factory(extra=["--repl-diskless-sync-delay", "0"])
    with master.raw() as m:
        for c in SETUP:
            m.call(*c)
        replica = server_factory(extra=["--replicaof", "127.0.0.1", str(master.port)])
        with replica.raw() as r:
            for _ in range(300):
                info = r.call("INFO", "replication")
                if b"master_link_status:up" in info and b"master_sync_in_progress:0" in info:
                    break
                time.sleep(0.05)
            for c in READS + SEQUENCE:
                m.call(*c)
            m.call("XREADGROUP", "GROUP", "g", "zed", "CLAIM", "0", "STREAMS", "s", ">")
            m.call("XACKDEL", "s", "g", "DELREF", "IDS", "1", "2-1")
            m.call("XTRIM", "s", "MAXLEN", "1", "DELREF")
            assert m.call("WAIT", "1", "5000") >= 1
            for key in ("s", "t"):
                assert r.call("DEBUG", "DIGEST-VALUE", key) == \
                    m.call("DEBUG", "DIGEST-VALUE", key), key
                assert masked(r.call("XINFO", "STREAM", key, "FULL")) == \
                    masked(m.call("XINFO", "STREAM", key, "FULL")), key


def _blocked_group_reader(srv, raw):
    raw.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    reader = srv.raw()
    reader.send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "s", ">")
    time.sleep(0.2)
    return reader


def test_blocked_group_reader_gets_nogroup_when_the_key_goes(srv, raw):
    nogroup = b"NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"
    # A key overwritten with another type answers WRONGTYPE, as on 8.6.3
    # (tests/test_upstream_blocking.py compares it with 8.6.3).
    wrongtype = b"WRONGTYPE Operation against a key holding the wrong kind of value"
    for action, want in ((["DEL", "s"], nogroup), (["SET", "s", "x"], wrongtype),
                         (["RENAME", "s", "elsewhere"], nogroup), (["FLUSHDB"], nogroup),
                         (["FLUSHALL"], nogroup), (["PEXPIRE", "s", "1"], nogroup)):
        raw.call("DEL", "s", "elsewhere")
        reader = _blocked_group_reader(srv, raw)
        raw.call(*action)
        got = reader.read()
        reader.close()
        assert isinstance(got, Err) and got.value == want, (action, got)


def test_blocked_group_reader_reserved_when_rename_brings_the_group(srv, raw):
    reader = _blocked_group_reader(srv, raw)
    raw.call("XGROUP", "CREATE", "other", "g", "0", "MKSTREAM")
    new = raw.call("XADD", "other", "*", "f", "v")
    raw.call("RENAME", "other", "s")
    assert reader.read() == [[b"s", [[new, [b"f", b"v"]]]]]
    reader.close()


def test_blocked_xread_ignores_del_and_other_types(srv, raw):
    raw.call("XADD", "s", "1-1", "f", "v")
    with srv.raw() as reader:
        reader.send("XREAD", "BLOCK", "5000", "STREAMS", "s", "$")
        time.sleep(0.2)
        raw.call("DEL", "s")
        raw.call("SET", "s", "x")
        raw.call("DEL", "s")
        time.sleep(0.1)
        new = raw.call("XADD", "s", "2-1", "a", "b")
        assert reader.read() == [[b"s", [[new, [b"a", b"b"]]]]]


def test_xread_plus_reads_the_last_entry(raw):
    """Redis 7.4's `+` ID: the last entry whatever COUNT says (7.0 rejects it)."""
    raw.call("XADD", "s", "1-1", "a", "1")
    raw.call("XADD", "s", "2-1", "b", "2")
    assert raw.call("XREAD", "COUNT", "5", "STREAMS", "s", "+") == \
        [[b"s", [[b"2-1", [b"b", b"2"]]]]]
    assert raw.call("XREAD", "STREAMS", "nokey", "+") is None
    err = raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "+")
    assert isinstance(err, Err)


# Every way a group command propagates an XCLAIM: deliveries of new entries,
# a history re-read, XCLAIM with RETRYCOUNT, XAUTOCLAIM, and claims of deleted
# entries (which propagate the PEL entry's own consumer, not the caller).
PROPAGATING = [
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
    ["XCLAIM", "s", "g", "bob", "0", "2-1", "RETRYCOUNT", "7"],
    ["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "1"],
    ["XREADGROUP", "GROUP", "g", "dave", "COUNT", "2", "STREAMS", "s", ">"],
    ["XDEL", "s", "3-1"],
    ["XCLAIM", "s", "g", "erin", "0", "3-1"],
    ["XDEL", "s", "5-1"],
    ["XAUTOCLAIM", "s", "g", "frank", "0", "0"],
    ["XREADGROUP", "GROUP", "g", "consumer-with-a-longer-name-" + "x" * 40,
     "STREAMS", "s", ">"],
]
HISTORY_READ = 2  # PROPAGATING's history re-read


def _group_propagation(srv):
    """The XCLAIM commands in srv's AOF that each command of PROPAGATING
    added, named as the native one, TIME values checked to be the server's
    clock during the run and masked. (An entry claimed after its stream
    entry was deleted propagates its PEL entry's earlier delivery time.)"""
    from pworkload import aof_files, parse_aof

    def xclaims():
        data = b"".join(open(f, "rb").read() for f in aof_files(srv) if f.endswith(".aof"))
        return [[b"xclaim"] + a[1:] for a in parse_aof(data)
                if a[0].lower() in (b"xclaim", b"idmp.xclaim")]

    out = []
    start = int(time.time() * 1000)
    with srv.raw() as c:
        for i in range(1, 8):
            c.call("XADD", "s", "%d-1" % i, "f", "v%d" % i)
        for cmd in PROPAGATING:
            seen = len(xclaims())
            assert not isinstance(c.call(*cmd), Err), cmd
            end = int(time.time() * 1000)
            added = xclaims()[seen:]
            for a in added:
                t = a.index(b"TIME") + 1
                assert start - 5 <= int(a[t]) <= end + 5, (a, start, end)
                a[t] = b"<t>"
            out.append(added)
    return out


def test_group_propagation_matches_native(server_factory):
    """What group reads and claims propagate (replicas and the AOF) is native
    8.6.3's, argument for argument, and the module builds its XCLAIMs from
    values (server/api.rs replicate_xclaim), with one difference of its own:
    a history re-read propagates its new delivery counts (8.6.3 propagates
    nothing, so its replicas keep the old counts). LASTID is the group's
    last ID from before the read, as 8.6.3 sends it (Redis 7.0: after each
    entry)."""
    from server import oracle86_binary
    aof = ["--appendonly", "yes", "--appendfsync", "always",
           "--aof-use-rdb-preamble", "no", "--auto-aof-rewrite-percentage", "0"]
    got = _group_propagation(server_factory(extra=aof))
    want = _group_propagation(server_factory(module=False, binary=oracle86_binary(),
                                             extra=aof))
    assert sum(map(len, want)) >= 10, want
    assert want[HISTORY_READ] == []

    def xclaim(consumer, id, count, last):
        return [b"xclaim", b"s", b"g", consumer, b"0", id, b"TIME", b"<t>",
                b"RETRYCOUNT", count, b"FORCE", b"JUSTID", b"LASTID", last]

    assert got[HISTORY_READ] == [xclaim(b"alice", b"%d-1" % i, b"2", b"3-1")
                                 for i in (1, 2, 3)]
    delivered = [a for i, cmd in enumerate(got) if i != HISTORY_READ for a in cmd]
    native = [a for cmd in want for a in cmd]
    assert delivered == native
