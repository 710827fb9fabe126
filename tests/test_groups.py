"""Consumer groups on module streams (issue 4): the single-key group commands
give the native replies (time values masked), conversion of a native stream
carries its groups and PELs, and groups survive DEBUG RELOAD and an AOF
rewrite without RDB preamble.

XREAD/XREADGROUP are not routed to the module yet (multi-key and blocking
glue), so PEL entries are made with XCLAIM ... FORCE here.
"""

from resp import Err, RMap

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
TIME_KEYS = {b"idle", b"seen-time"}
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


def test_group_commands_match_native(raw, nraw):
    for c in SETUP:
        raw.call(*c)
        nraw.call(*c)
    assert raw.call("OBJECT", "ENCODING", "s") != b"stream"  # a module stream
    for c in SEQUENCE:
        got, want = raw.call(*c), nraw.call(*c)
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
        assert masked(c.call("XINFO", "STREAM", "s", "FULL")) == before
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
