"""Redis Cluster (issue 7): module streams sharded across a local cluster of
three masters and three replicas, every node with the module loaded.

- Every module command carries key specs the cluster routes by: a key served
  elsewhere answers -MOVED, multi-key XREAD/XREADGROUP across slots answer the
  native CROSSSLOT error, same-slot ({tag}) multi-key reads work.
- A slot holding module streams is migrated by hand (SETSLOT + MIGRATE) and a
  slot range by ``redis-cli --cluster reshard`` while a producer retries:
  duplicates answer the original IDs through -ASK and -MOVED; MIGRATE
  (DUMP/RESTORE) carries entries, groups and IDMP state.
- A master is failed over (CLUSTER FAILOVER on its replica) while the producer
  runs; afterwards every retried (pid, iid) is still a duplicate.
- At the end every (pid, iid) has exactly one entry, the IDMP counters match
  what the producers did, and every stream's DEBUG DIGEST-VALUE is equal on
  master and replica.

Run alone with ``make test-cluster`` (the figures are printed with ``-s``).
"""

import collections
import random
import threading
import time

import pytest
import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

from cluster import SLOTS, LocalCluster, key_in_slot, redis_cli
from conftest import _require_module
from resp import OK, Err
from server import HOST
from util import pairs

CROSSSLOT = Err(b"CROSSSLOT Keys in request don't hash to the same slot")
DROP = {b"radix-tree-keys", b"radix-tree-nodes"}
# Long enough that no iid expires during the test, however slow the machine.
MODULE_ARGS = {"idmp.stream-idmp-duration": 3600}


@pytest.fixture(scope="module")
def cluster():
    _require_module()
    c = LocalCluster(masters=3, replicas=1, module_args=MODULE_ARGS)
    try:
        c.start()
        yield c
        for p, s in c.servers.items():
            assert s.alive(), "node %d died; log:\n%s" % (p, s.log_tail())
    finally:
        c.stop()


class CountingCluster(RedisCluster):
    """RedisCluster that counts the redirections it followed (MOVED, ASK,
    TRYAGAIN), through the hook redis-py calls for each of them."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.redirects = collections.Counter()

    def _record_error_metric(self, error, connection, *a, **kw):
        self.redirects[type(error).__name__] += 1
        return super()._record_error_metric(error, connection, *a, **kw)


def cluster_client(cluster):
    port = next(iter(cluster.servers))
    return CountingCluster(host=HOST, port=port, socket_timeout=30)


def other_master(cluster, port):
    return next(m.port for m in cluster.masters() if m.port != port)


# ---------------------------------------------------------------------------
# key specs, CROSSSLOT


def test_every_module_command_is_routed_by_its_keys(cluster):
    k = key_in_slot(1000, "ks")
    owner = cluster.owner(k)
    elsewhere = other_master(cluster, owner)
    moved = Err(b"MOVED %d %s:%d" % (key_slot(k.encode()), HOST.encode(), owner))
    # A stream with a group and a pending entry, so that every command below
    # has something to work on at the owner.
    assert cluster.call(owner, "XADD", k, "IDMP", "p", "i", "1-1", "f", "v") \
        == Err(b"ERR syntax error, IDMP/IDMPAUTO can be used only with auto-generated IDs")
    first = cluster.call(owner, "XADD", k, "IDMP", "p", "i", "*", "f", "v")
    assert cluster.call(owner, "XGROUP", "CREATE", k, "g", "0") == OK
    assert cluster.call(owner, "XREADGROUP", "GROUP", "g", "c", "STREAMS", k, ">") \
        == [[k.encode(), [[first, [b"f", b"v"]]]]]
    commands = [
        ("XADD", k, "IDMP", "p", "i", "*", "f", "v"),
        ("XADD", k, "IDMPAUTO", "p", "*", "f", "v"),
        ("XRANGE", k, "-", "+"),
        ("XREVRANGE", k, "+", "-"),
        ("XLEN", k),
        ("XDEL", k, "9-9"),
        ("XTRIM", k, "MAXLEN", "100"),
        ("XSETID", k, "99999999999999-0"),
        ("XINFO", "STREAM", k),
        ("XINFO", "STREAM", k, "FULL"),
        ("XINFO", "GROUPS", k),
        ("XINFO", "CONSUMERS", k, "g"),
        ("TYPE", k),
        ("XCFGSET", k, "IDMP-DURATION", "3600"),
        ("XIDMPRECORD", k, "p", "j", first),
        ("XREAD", "STREAMS", k, "0"),
        ("XREAD", "COUNT", "1", "BLOCK", "10", "STREAMS", k, "$"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", k, "0"),
        ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", k, ">"),
        ("XGROUP", "CREATECONSUMER", k, "g", "c2"),
        ("XGROUP", "DELCONSUMER", k, "g", "c2"),
        ("XGROUP", "SETID", k, "g", "0"),
        ("XGROUP", "CREATE", k, "g2", "$"),
        ("XGROUP", "DESTROY", k, "g2"),
        ("XACK", k, "g", "9-9"),
        ("XDELEX", k, "IDS", "1", "9-9"),
        ("XACKDEL", k, "g", "KEEPREF", "IDS", "1", "9-9"),
        ("XPENDING", k, "g"),
        ("XPENDING", k, "g", "-", "+", "10"),
        ("XCLAIM", k, "g", "c", "0", first),
        ("XAUTOCLAIM", k, "g", "c", "0", "0"),
    ]
    for cmd in commands:
        assert cluster.call(elsewhere, *cmd) == moved, cmd
        # The owner serves it (any reply but a redirection).
        r = cluster.call(owner, *cmd)
        assert not (isinstance(r, Err) and r.value.split(b" ")[0] in (b"MOVED", b"ASK")), \
            (cmd, r)
    # The commands Redis 7 lacks report their keys like the native ones.
    for cmd in [("XCFGSET", k, "IDMP-MAXSIZE", "5"), ("XIDMPRECORD", k, "p", "i", first)]:
        assert cluster.call(owner, "COMMAND", "GETKEYS", *cmd) == [k.encode()], cmd
    # A cluster client finds the node of each module command by itself.
    rc = cluster_client(cluster)
    try:
        k2 = key_in_slot(15000, "ks2")
        a = rc.execute_command("XADD", k2, "IDMP", "p", "x", "*", "f", "v")
        assert rc.execute_command("XCFGSET", k2, "IDMP-MAXSIZE", "50") == b"OK"
        assert rc.execute_command("XIDMPRECORD", k2, "q", "y", a) == b"OK"
        assert rc.execute_command("XADD", k2, "IDMP", "q", "y", "*", "f", "w") == a
        assert rc.execute_command("TYPE", k2) == b"stream"
        assert rc.redirects == collections.Counter(), rc.redirects
    finally:
        rc.close()


def test_multi_key_reads_obey_the_same_slot_rule(cluster):
    # Two keys in different slots of the same master: CROSSSLOT, exactly as
    # the server answers for any multi-key command (MGET is the oracle).
    m = cluster.masters()[0]
    s1, s2 = sorted(m.slots)[10], sorted(m.slots)[20]
    a, b = key_in_slot(s1, "xa"), key_in_slot(s2, "xb")
    p = m.port
    ia = cluster.call(p, "XADD", a, "IDMP", "p", "1", "*", "f", "a")
    ib = cluster.call(p, "XADD", b, "IDMP", "p", "1", "*", "f", "b")
    for key in (a, b):
        assert cluster.call(p, "XGROUP", "CREATE", key, "g", "0") == OK
    assert cluster.call(p, "MGET", a, b) == CROSSSLOT
    for cmd in [
        ("XREAD", "STREAMS", a, b, "0", "0"),
        ("XREAD", "COUNT", "5", "BLOCK", "100", "STREAMS", a, b, "$", "$"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", a, b, ">", ">"),
        ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "100", "STREAMS", a, b, ">", ">"),
    ]:
        assert cluster.call(p, *cmd) == CROSSSLOT, cmd
    # The same pair sent to a master that owns neither slot: still CROSSSLOT.
    assert cluster.call(other_master(cluster, p), "XREAD", "STREAMS", a, b, "0", "0") \
        == CROSSSLOT
    # Refused before running: no consumer was created, nothing delivered.
    for key, eid, v in ((a, ia, b"a"), (b, ib, b"b")):
        assert cluster.call(p, "XPENDING", key, "g") == [0, None, None, None]
        assert cluster.call(p, "XINFO", "CONSUMERS", key, "g") == []
        assert cluster.call(p, "XREAD", "STREAMS", key, "0") \
            == [[key.encode(), [[eid, [b"f", v]]]]]

    # Same slot ({tag}): multi-key reads work, through a cluster client too.
    s = sorted(cluster.masters()[1].slots)[5]
    x, y = key_in_slot(s, "x"), key_in_slot(s, "y")
    rc = cluster_client(cluster)
    try:
        ix = rc.execute_command("XADD", x, "IDMP", "p", "1", "*", "f", "x")
        iy = rc.execute_command("XADD", y, "IDMP", "p", "1", "*", "f", "y")
        got = rc.execute_command("XREAD", "STREAMS", x, y, "0", "0")
        assert got == [[x.encode(), [(ix, {b"f": b"x"})]], [y.encode(), [(iy, {b"f": b"y"})]]]
        for key in (x, y):
            assert rc.execute_command("XGROUP", "CREATE", key, "g", "0") == b"OK"
        got = rc.execute_command("XREADGROUP", "GROUP", "g", "c", "COUNT", "10",
                                 "STREAMS", x, y, ">", ">")
        assert got == [[x.encode(), [(ix, {b"f": b"x"})]], [y.encode(), [(iy, {b"f": b"y"})]]]
        assert rc.xpending(y, "g")["pending"] == 1

        # A blocked same-slot read is served by a write to its second key.
        owner = cluster.owner(x)
        result = {}

        def blocked():
            c = redis.Redis(host=HOST, port=owner, socket_timeout=30)
            try:
                result["r"] = c.execute_command(
                    "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "10000",
                    "STREAMS", x, y, ">", ">")
            finally:
                c.close()

        t = threading.Thread(target=blocked)
        t.start()
        deadline = time.time() + 10
        while time.time() < deadline:
            info = cluster.call(owner, "INFO", "clients").decode()
            if "blocked_clients:1" in info:
                break
            time.sleep(0.01)
        iy2 = rc.execute_command("XADD", y, "IDMP", "p", "2", "*", "f", "y2")
        t.join(15)
        assert not t.is_alive()
        assert result["r"] == [[y.encode(), [(iy2, {b"f": b"y2"})]]]
    finally:
        rc.close()


# ---------------------------------------------------------------------------
# resharding and failover


class Producer:
    """Writes ``XADD key IDMP pid iid * p pid i iid`` (and IDMPAUTO) through a
    cluster client; remembers the ID of every (key, pid, iid) and checks that
    every retry answers it."""

    def __init__(self, rc):
        self.rc = rc
        self.ids = {}                           # (key, pid, iid) -> ID
        self.sends = 0
        self.dups = collections.Counter()       # key -> duplicates answered
        self.uncertain = collections.Counter()  # key -> sends lost to an error
        self.errors = []
        self.mismatches = []
        self.lock = threading.Lock()

    def xadd(self, key, pid, iid, auto=False):
        """One add, retried on a transient error (the retry is exactly what
        IDMP makes safe); returns the answered ID."""
        if auto:
            cmd = ("XADD", key, "IDMPAUTO", pid, "*", "p", pid, "i", iid)
        else:
            cmd = ("XADD", key, "IDMP", pid, iid, "*", "p", pid, "i", iid)
        for attempt in range(50):
            with self.lock:
                self.sends += 1
            try:
                r = self.rc.execute_command(*cmd)
                break
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                    redis.exceptions.ClusterDownError, redis.exceptions.TryAgainError,
                    redis.exceptions.ClusterError, redis.exceptions.SlotNotCoveredError) as e:
                # The add may or may not have happened: the next send of the
                # same pair must answer one ID either way.
                with self.lock:
                    self.errors.append(repr(e))
                    self.uncertain[key] += 1
                time.sleep(0.05)
        else:
            raise AssertionError("XADD %r kept failing: %r" % (cmd, self.errors[-3:]))
        with self.lock:
            orig = self.ids.get((key, pid, iid))
            if orig is None:
                self.ids[(key, pid, iid)] = r
            else:
                self.dups[key] += 1
                if r != orig:
                    self.mismatches.append((key, pid, iid, orig, r))
        return r

    def retry_random(self, keys, rnd):
        key = rnd.choice(keys)
        mine = [(p, i) for (k, p, i) in self.ids if k == key]
        p, i = rnd.choice(mine)
        self.xadd(key, p, i, auto=p.startswith("auto"))

    def keys(self):
        return sorted({k for (k, _, _) in self.ids})


class Background:
    """Runs a producer loop in a thread until stopped: mostly retries of
    known pairs, some fresh adds, on the given keys."""

    def __init__(self, producer, keys, seed):
        self.producer = producer
        self.keys = keys
        self.rnd = random.Random(seed)
        self.stop_flag = threading.Event()
        self.exc = None
        self.fresh = 0
        self.thread = threading.Thread(target=self.run)

    def run(self):
        try:
            while not self.stop_flag.is_set():
                if self.rnd.random() < 0.2 and self.fresh < 20 * len(self.keys):
                    key = self.rnd.choice(self.keys)
                    self.producer.xadd(key, "bg", "n%d" % self.fresh)
                    self.fresh += 1
                else:
                    self.producer.retry_random(self.keys, self.rnd)
        except BaseException as e:  # reported by stop()
            self.exc = e

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(60)
        assert not self.thread.is_alive()
        if self.exc is not None:
            raise self.exc


def full_state(cluster, key, redirects=None):
    """XINFO STREAM FULL (radix-tree fields dropped) and the digest, read at
    the node that serves ``key``."""
    port = cluster.owner(key)
    info = cluster.call_following(port, "XINFO", "STREAM", key, "FULL",
                                  redirects=redirects)
    assert not isinstance(info, Err), info
    return [(f, v) for f, v in pairs(info) if f not in DROP]


def digest(cluster, port, key):
    d = cluster.call(port, "DEBUG", "DIGEST-VALUE", key)
    assert isinstance(d, list) and len(d) == 1, d
    return d[0]


def test_reshard_and_failover_keep_idempotency(cluster):
    t0 = time.time()
    rc = cluster_client(cluster)
    prod = Producer(rc)
    m0, m1, m2 = cluster.masters()
    first0 = min(m0.slots)
    reshard_n = 200
    reshard_slots = set(range(first0, first0 + reshard_n))
    assert reshard_slots <= m0.slots
    manual_slot = first0 + 300

    spread = [key_in_slot(i * SLOTS // 48 + 7, "spread%d" % i) for i in range(48)]
    in_range = [key_in_slot(first0 + 8 * i, "rs%d" % i) for i in range(reshard_n // 8)]
    quiet = [key_in_slot(first0 + 3 + 40 * i, "quiet%d" % i) for i in range(5)]
    manual = [key_in_slot(manual_slot, "m%d" % i) for i in range(6)]
    all_keys = spread + in_range + quiet + manual
    assert {cluster.owner(k) for k in spread} == {m0.port, m1.port, m2.port}

    # 1. Initial writes: 2 producers x 3 iids and 2 IDMPAUTO adds per stream,
    # each pair retried once right away.
    for key in all_keys:
        for pid in ("p0", "p1"):
            for i in range(3):
                prod.xadd(key, pid, "i%d" % i)
        for i in range(2):
            prod.xadd(key, "auto", "a%d" % i, auto=True)
        prod.xadd(key, "p0", "i0")
        prod.xadd(key, "auto", "a0", auto=True)
    for key in quiet:
        assert rc.execute_command("XGROUP", "CREATE", key, "g", "0") == b"OK"
        rc.execute_command("XREADGROUP", "GROUP", "g", "c1", "COUNT", "3", "STREAMS", key, ">")
        rc.execute_command("XREADGROUP", "GROUP", "g", "c2", "COUNT", "2", "STREAMS", key, ">")
        first_id = rc.execute_command("XRANGE", key, "-", "+", "COUNT", "1")[0][0]
        assert rc.execute_command("XACK", key, "g", first_id) == 1
    quiet_before = {k: full_state(cluster, k) for k in quiet}
    quiet_digest = {k: digest(cluster, m0.port, k) for k in quiet}

    # 2. One slot migrated by hand, m0 -> m1, half of its keys at a time.
    src, dst = m0, m1
    assert cluster.call(dst.port, "CLUSTER", "SETSLOT", manual_slot, "IMPORTING", src.id) == OK
    assert cluster.call(src.port, "CLUSTER", "SETSLOT", manual_slot, "MIGRATING", dst.id) == OK
    assert sorted(cluster.call(src.port, "CLUSTER", "GETKEYSINSLOT", manual_slot, "100")) \
        == sorted(k.encode() for k in manual)
    gone, stay = manual[:3], manual[3:]
    before = {k: digest(cluster, src.port, k) for k in manual}
    assert cluster.call(src.port, "MIGRATE", HOST, dst.port, "", "0", "5000",
                        "KEYS", *gone) == OK
    ask = Err(b"ASK %d %s:%d" % (manual_slot, HOST.encode(), dst.port))
    for k in gone:
        assert cluster.call(src.port, "EXISTS", k) == ask  # gone from the source
        assert digest(cluster, dst.port, k) == before[k]  # DUMP/RESTORE carried it all
    ask_dups = 0
    for k in manual:
        for (key, pid, iid), orig in sorted(prod.ids.items()):
            if key != k:
                continue
            redirects = []
            if pid == "auto":
                cmd = ("XADD", k, "IDMPAUTO", pid, "*", "p", pid, "i", iid)
            else:
                cmd = ("XADD", k, "IDMP", pid, iid, "*", "p", pid, "i", iid)
            assert cluster.call_following(src.port, *cmd, redirects=redirects) == orig
            prod.dups[k] += 1
            prod.sends += 1
            # A migrated key is answered by the target through -ASK; a key
            # not migrated yet by the source, without a redirection.
            assert redirects == ([b"ASK"] if k in gone else []), (k, redirects)
            ask_dups += k in gone
    # A fresh pair on a migrated key goes to the target through -ASK.
    redirects = []
    fresh = cluster.call_following(src.port, "XADD", gone[0], "IDMP", "p0", "ask",
                                   "*", "p", "p0", "i", "ask", redirects=redirects)
    assert redirects == [b"ASK"] and not isinstance(fresh, Err), fresh
    prod.ids[(gone[0], "p0", "ask")] = fresh
    prod.sends += 1
    before = {k: digest(cluster, src.port, k) for k in stay}
    assert cluster.call(src.port, "MIGRATE", HOST, dst.port, "", "0", "5000",
                        "KEYS", *stay) == OK
    for k in stay:
        assert digest(cluster, dst.port, k) == before[k]
    for port in (dst.port, src.port, m2.port):
        assert cluster.call(port, "CLUSTER", "SETSLOT", manual_slot, "NODE", dst.id) == OK
    moved_dups = 0
    for (key, pid, iid), orig in sorted(prod.ids.items()):
        if key in manual and pid != "auto":
            redirects = []
            assert cluster.call_following(src.port, "XADD", key, "IDMP", pid, iid, "*",
                                          "p", pid, "i", iid, redirects=redirects) == orig
            assert redirects == [b"MOVED"]
            prod.dups[key] += 1
            prod.sends += 1
            moved_dups += 1
    cluster.wait_healthy()

    # 3. redis-cli --cluster reshard moves 200 slots m0 -> m2 (MIGRATE of
    # batches of 2 keys) while a producer retries through the cluster client.
    before_redirects = sum(rc.redirects.values())
    with Background(prod, in_range + spread[:8], seed=1):
        code, out = redis_cli("--cluster", "reshard", "%s:%d" % (HOST, m0.port),
                              "--cluster-from", m0.id, "--cluster-to", m2.id,
                              "--cluster-slots", reshard_n, "--cluster-yes",
                              "--cluster-pipeline", "2")
        assert code == 0, out + cluster.logs()
    assert all(cluster.owner(k) == m2.port for k in in_range + quiet)
    # One more retry of every pair of the moved streams: the client's slot
    # map is stale, so these answer through -MOVED.
    for (key, pid, iid) in sorted(prod.ids):
        if key in in_range:
            prod.xadd(key, pid, iid, auto=pid == "auto")
    assert rc.redirects["MovedError"] > 0, rc.redirects
    reshard_redirects = sum(rc.redirects.values()) - before_redirects
    cluster.wait_healthy()
    code, out = redis_cli("--cluster", "check", "%s:%d" % (HOST, m0.port))
    assert code == 0 and "[OK] All 16384 slots covered" in out, out
    # Streams nobody wrote during the move: entries, metadata, groups,
    # consumers, PEL and IDMP state arrive unchanged.
    for k in quiet:
        assert full_state(cluster, k) == quiet_before[k], k
        assert digest(cluster, m2.port, k) == quiet_digest[k], k

    # 4. Failover of m2 (it holds the resharded slots) by its replica, while
    # the producer writes to all streams.
    replica = cluster.replicas_of(m2)[0]
    cluster.wait_replicas_in_sync()
    with Background(prod, all_keys, seed=2):
        time.sleep(0.2)
        assert cluster.call(replica.port, "CLUSTER", "FAILOVER") == OK
        deadline = time.time() + 30
        while time.time() < deadline:
            role = cluster.call(replica.port, "ROLE")
            if role[0] == b"master" and cluster.call(m2.port, "ROLE")[0] == b"slave":
                break
            time.sleep(0.05)
        else:
            raise AssertionError("failover did not happen\n" + cluster.logs())
        time.sleep(0.2)
    cluster.wait_healthy()
    assert cluster.owner(in_range[0]) == replica.port

    # 5. Every pair retried once more, through the new topology.
    for (key, pid, iid), orig in sorted(prod.ids.items()):
        prod.xadd(key, pid, iid, auto=pid == "auto")
    assert prod.mismatches == [], prod.mismatches[:5]

    # 6. Exactly one entry per (pid, iid), with the ID first answered; the
    # counters match what the producers did.
    cluster.wait_replicas_in_sync()
    view = cluster.nodes()
    for key in all_keys:
        entries = rc.execute_command("XRANGE", key, "-", "+")
        seen = collections.Counter()
        for eid, fields in entries:
            f = fields  # redis-py answers a dict of the fields
            pair = (key, f[b"p"].decode(), f[b"i"].decode())
            seen[pair] += 1
            assert prod.ids.get(pair) == eid, (pair, eid)
        expected = {p for p in prod.ids if p[0] == key}
        assert set(seen) == expected, key
        assert all(n == 1 for n in seen.values()), (key, seen)
        master = cluster.owner(key)
        info = dict(pairs(cluster.call(master, "XINFO", "STREAM", key)))
        assert info[b"iids-added"] == len(expected), key
        dups = info[b"iids-duplicates"]
        assert prod.dups[key] <= dups <= prod.dups[key] + prod.uncertain[key], \
            (key, dups, prod.dups[key], prod.uncertain[key])
        # Equal digest on the master and its replica.
        replicas = [n.port for n in view.values() if n.master_id == view[master].id]
        assert len(replicas) == 1, view
        d = digest(cluster, master, key)
        assert d != b"0" * 40, key
        assert digest(cluster, replicas[0], key) == d, key
        # Served by the replica too (READONLY connection).
        assert cluster.call(replicas[0], "READONLY") == OK
        assert cluster.call(replicas[0], "TYPE", key).value == b"stream"
        assert cluster.call(replicas[0], "XLEN", key) == len(entries)

    total_dups = sum(prod.dups.values())
    print("\ncluster test: %.1fs, %d streams, %d pairs, %d sends, %d duplicates "
          "answered with the original ID (%d through -ASK, %d through -MOVED by hand), "
          "%d redirections followed by the client during reshard, %s overall, "
          "%d transient errors retried"
          % (time.time() - t0, len(all_keys), len(prod.ids), prod.sends, total_dups,
             ask_dups, moved_dups, reshard_redirects, dict(rc.redirects),
             len(prod.errors)))
    rc.close()


def test_migrate_carries_consumer_groups(cluster):
    src, dst = cluster.masters()[:2]
    slot = max(src.slots)
    k = key_in_slot(slot, "grp")
    p = src.port
    ids = [cluster.call(p, "XADD", k, "IDMP", "p", "i%d" % i, "*", "n", str(i)) for i in range(6)]
    assert cluster.call(p, "XGROUP", "CREATE", k, "g", "0") == OK
    assert cluster.call(p, "XGROUP", "CREATE", k, "h", "$") == OK
    cluster.call(p, "XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", k, ">")
    cluster.call(p, "XREADGROUP", "GROUP", "g", "c2", "COUNT", "2", "STREAMS", k, ">")
    assert cluster.call(p, "XACK", k, "g", ids[0]) == 1
    assert cluster.call(p, "XGROUP", "CREATECONSUMER", k, "g", "idle") == 1
    before = full_state(cluster, k)
    assert cluster.migrate_slot(slot, src, dst) == [k.encode()]
    assert cluster.owner(k) == dst.port
    # Entries, metadata, IDMP state, groups, consumers and PEL arrive as they were.
    assert full_state(cluster, k) == before
    # The group goes on where it stopped, and a retried pair is a duplicate.
    d = dst.port
    assert cluster.call(d, "XREADGROUP", "GROUP", "g", "c1", "STREAMS", k, ">") \
        == [[k.encode(), [[ids[4], [b"n", b"4"]], [ids[5], [b"n", b"5"]]]]]
    assert cluster.call(d, "XPENDING", k, "g")[0] == 5
    assert cluster.call(d, "XADD", k, "IDMP", "p", "i3", "*", "n", "3") == ids[3]
    cluster.wait_replicas_in_sync()
    replica = cluster.replicas_of(cluster.nodes()[d])[0].port
    assert digest(cluster, replica, k) == digest(cluster, d, k)
    assert cluster.call(replica, "READONLY") == OK
    assert cluster.call(replica, "XPENDING", k, "g")[0] == 5
