"""Helpers of the way-out tests (issue 15): native Redis 8.6.3, a workload
with everything a module stream holds, state snapshots that compare a module
stream on 7.x with the native stream it became on 8.6.3."""

import os
import subprocess
import threading
import time

import pytest
import redis

from server import REPO, rdb_magic, server_version

UNMOVABLE = {b"radix-tree-keys", b"radix-tree-nodes", b"iids-added", b"iids-duplicates"}


def native86_binary():
    """The native Redis 8.6.3 binary: ``ORACLE86_SERVER``, else what
    ``servers/get.sh redis-8.6.3`` prints (it builds the server once per machine
    and caches it); the same convention as the ``idmp`` branch's
    ``oracle86_binary``. Skips (fails under IDMP_REQUIRE_MODULE=1) when neither
    works."""
    path = os.environ.get("ORACLE86_SERVER")
    if not path:
        try:
            out = subprocess.run([os.path.join(REPO, "servers", "get.sh"), "redis-8.6.3"],
                                 capture_output=True, check=True, timeout=900).stdout
            path = (out.decode().strip().splitlines()[-1:] or [""])[0]
        except (subprocess.SubprocessError, OSError):
            path = ""
    if not os.path.isfile(path):
        msg = "native Redis 8.6.3 not available (ORACLE86_SERVER, servers/get.sh redis-8.6.3)"
        if os.environ.get("IDMP_REQUIRE_MODULE") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    assert server_version(path) == ("redis", (8, 6, 3)), (path, server_version(path))
    return path


def require_863_reads_host_rdb():
    """Skips where native Redis 8.6.3 cannot read what the host writes as RDB:
    Valkey 9 writes RDB version 80 under the magic ``VALKEY`` in files (and
    the RDB preamble of an AOF) and DUMP payloads, which no Redis reads, for
    any key ("Wrong signature trying to load DB from file"; RESTORE: "DUMP
    payload version or checksum are wrong"). From there a dataset moves to
    Redis 8.6 through an AOF without the RDB preamble, or a replica (Valkey 9
    sends a Redis replica an RDB it reads: test_replica_on_863_then_promotion
    passes there)."""
    if rdb_magic() != b"REDIS":
        pytest.skip("the host writes Valkey 9's RDB format (magic VALKEY, version 80) in "
                    "files and DUMP payloads, which Redis 8.6.3 does not read: from Valkey 9 "
                    "the way out is an AOF without the RDB preamble, or a replica")


def pairs(flat):
    return dict(zip(flat[0::2], flat[1::2]))


def retries(c, sent):
    """Retries every (key, pid, iid, fields, id); returns the ones not answered
    with their original ID."""
    bad = []
    for key, pid, iid, fields, want in sent:
        got = c.execute_command("XADD", key, "IDMP", pid, iid, "*", *fields)
        if got != want:
            bad.append((key, pid, iid, want, got))
    return bad


def populate(c, keys=("s1", "s2", "s3"), n=60):
    """A workload on a module server: entries by XADD IDMP (auto IDs: the
    clock's milliseconds, so native 8.6.3 does not age the iids out at once),
    plain XADDs, XDEL of a recorded entry (its mapping stays), an XTRIM past a
    recorded entry, XCFGSET, two groups with consumers and pending entries,
    one delivered twice, a TTL, an empty stream made by XGROUP CREATE
    MKSTREAM. Returns the (key, pid, iid, fields, id) acknowledged."""
    sent = []
    for k in keys:
        c.execute_command("XADD", k, "*", "plain", "0")
        c.execute_command("XCFGSET", k, "IDMP-DURATION", "3600", "IDMP-MAXSIZE", "40")
        for i in range(n):
            pid = "p%d" % (i % 3)
            iid = "%s-i%d" % (k, i)
            fields = ("n", str(i), "blob", "x" * (i % 7))
            id_ = c.execute_command("XADD", k, "IDMP", pid, iid, "*", *fields)
            sent.append((k, pid, iid, fields, id_))
        c.execute_command("XADD", k, "*", "plain", "1")
        c.execute_command("XGROUP", "CREATE", k, "g1", "0")
        c.execute_command("XGROUP", "CREATE", k, "g2", "$", "ENTRIESREAD", "0")
        c.execute_command("XGROUP", "CREATECONSUMER", k, "g2", "idle-consumer")
        c.execute_command("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", k, ">")
        c.execute_command("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", k, ">")
        c.execute_command("XREADGROUP", "GROUP", "g1", "bob", "STREAMS", k, "0")  # count 2
        c.execute_command("XACK", k, "g1", sent[-n][4])
    # deleted entries whose mappings stay (one of them pending in g1)
    k0 = [s for s in sent if s[0] == keys[0]]
    c.execute_command("XDEL", keys[0], k0[2][4], k0[30][4])
    # trimmed entries whose mappings stay
    c.execute_command("XTRIM", keys[1], "MINID", "=",
                      [s for s in sent if s[0] == keys[1]][10][4])
    c.execute_command("PEXPIRE", keys[2], "86400000")
    c.execute_command("XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM")
    c.execute_command("SET", "plain-string", "v")
    c.execute_command("HSET", "plain-hash", "f", "v")
    # mappings evicted by capacity are not tracked any more: keep only the live ones
    return [s for s in sent if s[2] not in evicted(c, sent)]


def evicted(c, sent):
    """The iids already forgotten by capacity (IDMP-MAXSIZE 40 per producer)."""
    out = set()
    per = {}
    for k, pid, iid, _, _ in sent:
        per.setdefault((k, pid), []).append(iid)
    for lst in per.values():
        out.update(lst[:-40])
    return out


def stream_state(c, key):
    """What must be equal before and after the move: XINFO STREAM (without
    what UNMOVABLE lists), every entry, every group with its consumers (names,
    pending counts; not seen/active times) and pending entries (IDs, owners,
    delivery times and counts), XPENDING of each group."""
    info = pairs(c.execute_command("XINFO", "STREAM", key))
    info = {k: v for k, v in info.items() if k not in UNMOVABLE}
    # XINFO STREAM's groups count only (the full form is compared below)
    full = pairs(c.execute_command("XINFO", "STREAM", key, "FULL", "COUNT", "0"))
    groups = []
    for g in full[b"groups"]:
        g = pairs(g)
        consumers = [(pairs(x)[b"name"], pairs(x)[b"pel-count"],
                      [tuple(p[:2]) for p in pairs(x)[b"pending"]])
                     for x in g[b"consumers"]]
        pending = [tuple(p) for p in g[b"pending"]]
        name = g[b"name"]
        xp = c.execute_command("XPENDING", key, name)
        xpx = [(p[0], p[1], p[3]) for p in
               c.execute_command("XPENDING", key, name, "-", "+", "1000")]
        # not "lag": derived by each host from the state below, and 8.6.3
        # derives it otherwise than 7.0 once entries were trimmed
        groups.append((name, g[b"last-delivered-id"], g[b"entries-read"],
                       g[b"pel-count"], pending, consumers, xp, xpx))
    return {
        "info": info,
        "entries": c.execute_command("XRANGE", key, "-", "+"),
        "groups": groups,
        "type": c.execute_command("TYPE", key),
        "pttl_set": c.execute_command("PTTL", key) > 0,
    }


def db_state(c, keys):
    return {k: stream_state(c, k) for k in keys}


def info_idmp(c):
    """INFO idmp as a dict of str -> int (or str)."""
    out = {}
    for line in c.execute_command("INFO", "idmp").decode().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = int(v) if v.lstrip("-").isdigit() else v
    return out


def client(srv):
    """A redis-py client that hands back replies as the server sent them."""
    c = srv.client()
    c.response_callbacks.clear()
    return c


class Retrier(threading.Thread):
    """A producer that keeps retrying acknowledged (pid, iid) pairs against
    ``self.port`` (changeable: a failover points it elsewhere) until stopped,
    across restarts (connection errors and LOADING are waited out). Every
    answer must be the original ID: ``bad`` collects the others."""

    def __init__(self, port, sent):
        super().__init__(daemon=True)
        self.port = port
        self.sent = list(sent)
        self.bad = []
        self.answers = 0
        self.ports_answered = set()
        self._halt = threading.Event()

    def run(self):
        c, port = None, None
        i = 0
        while not self._halt.is_set():
            if c is None or port != self.port:
                port = self.port
                c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
            key, pid, iid, fields, want = self.sent[i % len(self.sent)]
            try:
                got = c.execute_command("XADD", key, "IDMP", pid, iid, "*", *fields)
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                c = None
                time.sleep(0.01)
                continue
            except redis.ResponseError as e:
                got = e
            self.answers += 1
            self.ports_answered.add(port)
            if got != want:
                self.bad.append((key, pid, iid, want, got))
            i += 1

    def finish(self):
        self._halt.set()
        self.join(10)
        return self.bad
