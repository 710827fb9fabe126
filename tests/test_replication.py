"""SPEC section 8 (replication): full sync and command stream keep the replica
identical (DEBUG DIGEST-VALUE per stream, XINFO, entries); a duplicate propagates
its counter bump; after failover a retried (pid, iid) is still a duplicate."""

import time

from resp import OK, Err
from util import counters, pairs

DROP = {b"radix-tree-keys", b"radix-tree-nodes"}
MASTER = ["--repl-diskless-sync-delay", "0"]


def wait_link(replica, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = replica.call("INFO", "replication").decode()
        if "master_link_status:up" in info and "master_sync_in_progress:0" in info:
            return
        time.sleep(0.05)
    raise AssertionError("replica link not up:\n" + info)


_replicas = []


def sync(master, n=1):
    if master.call("WAIT", str(n), "5000") >= n:
        return
    msg = "replica did not acknowledge"
    for srv in _replicas:
        if not srv.alive():
            log = open(srv.logfile, encoding="utf-8", errors="replace").read()
            i = log.find("BUG REPORT START")
            msg += "; replica %d died:\n%s" % (srv.port, log[i:i + 1500] if i >= 0 else log[-1500:])
    raise AssertionError(msg)


def replica_of(server_factory, master):
    srv = server_factory(extra=["--replicaof", "127.0.0.1", str(master.port)])
    _replicas[:] = [srv]
    return srv


def state(c, keys):
    out = {}
    for k in keys:
        info = c.call("XINFO", "STREAM", k, "FULL")
        out[k] = ([(f, v) for f, v in pairs(info) if f not in DROP],
                  c.call("DEBUG", "DIGEST-VALUE", k))
    return out


def writes(m):
    ids = {}
    ids["a"] = m.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
    m.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v")               # duplicate
    ids["auto"] = m.call("XADD", "s", "IDMPAUTO", "q", "*", "x", "1", "y", "2")
    m.call("XADD", "s", "IDMPAUTO", "q", "*", "y", "2", "x", "1")      # duplicate
    for i in range(30):
        m.call("XADD", "s", "MAXLEN", "~", "10", "*", "n", str(i))
    m.call("XADD", "s", "MINID", "~", "0", "IDMP", "p", "b", "*", "f", "v")
    m.call("XADD", "t", "1-1", "f", "v")
    m.call("XADD", "t", "2-*", "f", "v")
    m.call("XDEL", "t", "1-1")
    m.call("XSETID", "t", "5-5", "ENTRIESADDED", "10", "MAXDELETEDID", "3-0")
    assert m.call("XCFGSET", "t", "IDMP-MAXSIZE", "2") == OK
    for i in range(5):
        m.call("XADD", "t", "IDMP", "p", "i%d" % i, "*", "f", "v")
    assert m.call("XIDMPRECORD", "t", "r", "r", "2-0") == OK
    m.call("XTRIM", "t", "MAXLEN", "1")
    m.call("MULTI")
    m.call("XADD", "u", "IDMP", "p", "m", "*", "f", "v")
    m.call("XADD", "u", "IDMP", "p", "m", "*", "f", "v")
    m.call("EXEC")
    m.call("EVAL", "redis.call('XADD', KEYS[1], 'IDMPAUTO', 'p', '*', 'f', 'v'); "
           "return redis.call('XADD', KEYS[1], 'IDMPAUTO', 'p', '*', 'f', 'v')", "1", "u")
    return ids


def test_command_stream_and_full_sync(server_factory):
    master = server_factory(extra=MASTER)
    with master.raw() as m:
        # state before the replica attaches: goes through the full sync (RDB)
        m.call("XADD", "pre", "IDMP", "p", "i", "*", "f", "v")
        m.call("XADD", "pre", "IDMP", "p", "i", "*", "f", "v")
        m.call("XCFGSET", "pre", "IDMP-DURATION", "777")
        m.call("XADD", "pre", "IDMP", "p", "j", "*", "f", "v")
        replica = replica_of(server_factory, master)
        with replica.raw() as r:
            wait_link(r)
            ids = writes(m)
            sync(m)
            keys = ["pre", "s", "t", "u"]
            assert state(r, keys) == state(m, keys)
            assert counters(r, "s") == counters(m, "s") == (2, 3, 3, 2)
            assert counters(r, "u") == (1, 2, 2, 2)
            # failover: the replica becomes a master and still knows every pair
            assert r.call("REPLICAOF", "NO", "ONE") == OK
            assert r.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v") == ids["a"]
            assert r.call("XADD", "s", "IDMPAUTO", "q", "*", "x", "1", "y", "2") == ids["auto"]
            assert counters(r, "s") == (2, 3, 3, 4)
        assert master.alive() and replica.alive()


def test_duplicate_counter_reaches_replica(server_factory):
    master = server_factory(extra=MASTER)
    replica = replica_of(server_factory, master)
    with master.raw() as m, replica.raw() as r:
        wait_link(r)
        m.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        sync(m)
        before = r.call("DEBUG", "DIGEST-VALUE", "s")
        for _ in range(3):
            m.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        sync(m)
        assert counters(r, "s") == (1, 1, 1, 3)
        assert r.call("DEBUG", "DIGEST-VALUE", "s") == m.call("DEBUG", "DIGEST-VALUE", "s")
        assert r.call("DEBUG", "DIGEST-VALUE", "s") != before


def test_replica_of_replica_after_restart(server_factory):
    """A replica that restarts from its own RDB and resyncs stays identical."""
    master = server_factory(extra=MASTER)
    replica = replica_of(server_factory, master)
    with master.raw() as m:
        with replica.raw() as r:
            wait_link(r)
        writes(m)
        sync(m)
        with replica.raw() as r:
            assert r.call("SAVE") == OK
        replica.restart()
        with replica.raw() as r:
            wait_link(r)
            m.call("XADD", "s", "IDMP", "p", "late", "*", "f", "v")
            sync(m)
            keys = ["s", "t", "u"]
            assert state(r, keys) == state(m, keys)


def test_replica_is_read_only(server_factory):
    master = server_factory(extra=MASTER)
    replica = replica_of(server_factory, master)
    with master.raw() as m, replica.raw() as r:
        wait_link(r)
        a = m.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        sync(m)
        for argv in (["XADD", "s", "IDMP", "p", "j", "*", "f", "v"],
                     ["XADD", "s", "*", "f", "v"],
                     ["XCFGSET", "s", "IDMP-DURATION", "5"],
                     ["XIDMPRECORD", "s", "p", "k", a],
                     ["XDEL", "s", a], ["XTRIM", "s", "MAXLEN", "0"]):
            reply = r.call(*argv)
            assert isinstance(reply, Err) and reply.value.startswith(b"READONLY"), (argv, reply)
        assert r.call("XRANGE", "s", "-", "+") == [[a, [b"f", b"v"]]]
        assert counters(r, "s") == (1, 1, 1, 0)


def test_random_idmp_sequence_replicates(server_factory):
    from test_idmp_model import run_model, server_counters
    master = server_factory(extra=MASTER)
    replica = replica_of(server_factory, master)
    with master.raw() as m, replica.raw() as r:
        wait_link(r)
        model = run_model(m, 91, 500, reload=False)
        sync(m)
        assert server_counters(r) == server_counters(m)
        assert server_counters(r)[0] == model.counters()
        assert r.call("XRANGE", "s", "-", "+") == m.call("XRANGE", "s", "-", "+")
        assert r.call("DEBUG", "DIGEST-VALUE", "s") == m.call("DEBUG", "DIGEST-VALUE", "s")


def test_random_stream_and_group_sequence_replicates(server_factory):
    """The differential generator's commands (groups included) on the master:
    the replica ends identical."""
    from diffgen import Gen, bind, normalize
    from test_idmp_model import server_counters
    master = server_factory(extra=MASTER)
    replica = replica_of(server_factory, master)
    names = {"key": "s", "missing": "s-missing", "str": "s-str"}
    with master.raw() as m, replica.raw() as r:
        wait_link(r)
        m.call("SET", "s-str", "x")
        m.call("XADD", "s", "0-1", "init", "x")
        gen = Gen(61, groups=True, big=True)
        gen.observe(["XADD"], b"0-1")
        for _ in range(1500):
            argv = gen.op()
            gen.observe(argv, m.call(*bind(argv, names)))
        sync(m)
        # consumers' seen-time is the replica's own clock (as natively); the rest,
        # PEL delivery times included, is identical
        full = ["XINFO", "STREAM", "s", "FULL"]
        assert normalize(full, r.call(*full)) == normalize(full, m.call(*full))
        assert server_counters(r) == server_counters(m)
        for argv in (["XINFO", "GROUPS", "s"], ["XRANGE", "s", "-", "+"],
                     ["DEBUG", "DIGEST-VALUE", "s"]):
            assert r.call(*argv) == m.call(*argv), argv
        for g in gen.group_names:
            assert r.call("XPENDING", "s", g) == m.call("XPENDING", "s", g)
