"""SPEC section 8 (persistence): SAVE + restart, DEBUG RELOAD, AOF (replay and
rewrite without RDB preamble), DUMP/RESTORE including corrupt payloads; entries,
metadata, IDMP settings, producers, insertion times and counters all survive and
DEBUG DIGEST-VALUE is stable."""

import glob
import os
import random
import time

import pytest

from resp import OK, Err
from server import host_is_redis70
from util import counters, pairs, xinfo

DROP = {b"radix-tree-keys", b"radix-tree-nodes"}
KEYS = ["a", "b", "plain", "ttl", "emptied"]


def populate(c):
    """Streams with every kind of state; returns {(key, pid, iid): id} to retry."""
    tracked = {}
    c.call("XADD", "a", "1-1", "init", "x")
    assert c.call("XCFGSET", "a", "IDMP-DURATION", "500", "IDMP-MAXSIZE", "3") == OK
    for pid in ("p1", "p2"):
        for i in range(5):
            tracked[("a", pid, "i%d" % i)] = c.call(
                "XADD", "a", "IDMP", pid, "i%d" % i, "*", "n", str(i))
    for i in range(2):  # evicted by capacity: not tracked any more
        tracked.pop(("a", "p1", "i%d" % i))
        tracked.pop(("a", "p2", "i%d" % i))
    assert c.call("XADD", "a", "IDMP", "p1", "i4", "*", "n", "x") == tracked[("a", "p1", "i4")]
    c.call("XDEL", "a", tracked[("a", "p2", "i3")])
    assert c.call("XIDMPRECORD", "a", "p3", "rec", "1-1") == OK
    tracked[("a", "p3", "rec")] = b"1-1"

    bin_pid = bytes(range(256))
    for j in range(4):
        fields = ["f", str(j), "bin", bytes([j]) * 100]
        idx = c.call("XADD", "b", "IDMPAUTO", bin_pid, "MAXLEN", "~", "100", "*", *fields)
        assert isinstance(idx, bytes)
        tracked[("b", bin_pid, None, j)] = idx
    tracked[("b", b"\x00", b"\x00\xff")] = c.call("XADD", "b", "IDMP", b"\x00", b"\x00\xff",
                                                  "*", "f", "v")
    c.call("XADD", "b", "IDMP", b"\x00", b"\x00\xff", "*", "f", "v")

    for i in range(300):
        c.call("XADD", "plain", "%d-%d" % (i // 3 + 1, i % 3), "field", "v%d" % i,
               "other", "x" * (i % 17))
    c.call("XTRIM", "plain", "MAXLEN", "250")
    c.call("XSETID", "plain", "5000-0", "ENTRIESADDED", "400", "MAXDELETEDID", "4000-0")

    tracked[("ttl", "p", "i")] = c.call("XADD", "ttl", "IDMP", "p", "i", "*", "f", "v")
    c.call("PEXPIRE", "ttl", "10000000")

    c.call("XADD", "emptied", "IDMP", "p", "i", "*", "f", "v")
    tracked[("emptied", "p", "i")] = c.call("XRANGE", "emptied", "-", "+")[0][0]
    c.call("XTRIM", "emptied", "MAXLEN", "0")
    return tracked


def snapshot(c):
    snap = {}
    for k in KEYS:
        info = c.call("XINFO", "STREAM", k, "FULL")
        assert not isinstance(info, Err), (k, info)
        snap[k] = {
            "info": [(f, v) for f, v in pairs(info) if f not in DROP],
            "digest": c.call("DEBUG", "DIGEST-VALUE", k),
            "type": c.call("TYPE", k),
        }
    snap["ttl"]["has-ttl"] = c.call("PTTL", "ttl") > 9000000
    snap["digest"] = c.call("DEBUG", "DIGEST")
    return snap


def retry_all(c, tracked):
    """Every tracked pair is still a duplicate answering its original ID."""
    for key, val in tracked.items():
        if key[2] is None:   # IDMPAUTO on b
            j = key[3]
            got = c.call("XADD", "b", "IDMPAUTO", key[1], "*",
                         "bin", bytes([j]) * 100, "f", str(j))
        else:
            got = c.call("XADD", key[0], "IDMP", key[1], key[2], "*", "z", "z")
        assert got == val, key


def check_counters(c):
    # 10 XADD IDMP adds and one XIDMPRECORD (which counts, as on 8.6.3)
    assert counters(c, "a") == (3, 7, 11, 1)
    assert xinfo(c, "a")[b"idmp-duration"] == 500
    assert xinfo(c, "a")[b"idmp-maxsize"] == 3
    assert counters(c, "b") == (2, 5, 5, 1)
    assert counters(c, "plain") == (0, 0, 0, 0)


def test_save_and_restart(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        tracked = populate(c)
        check_counters(c)
        before = snapshot(c)
        assert c.call("SAVE") == OK
    srv.restart()
    with srv.raw() as c:
        after = snapshot(c)
        assert after == before
        check_counters(c)
        retry_all(c, tracked)
        retries = sum(1 for k in tracked if k[0] == "a")
        assert counters(c, "a") == (3, 7, 11, 1 + retries)


def test_debug_reload(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        tracked = populate(c)
        before = snapshot(c)
        assert c.call("DEBUG", "RELOAD") == OK
        assert snapshot(c) == before
        assert c.call("DEBUG", "RELOAD") == OK
        assert snapshot(c) == before
        check_counters(c)
        retry_all(c, tracked)


def test_digest_value_is_content_based(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        populate(c)
        d1 = c.call("DEBUG", "DIGEST-VALUE", "a")
        # a duplicate bumps a counter: the state changed
        c.call("XADD", "a", "IDMP", "p1", "i4", "*", "n", "x")
        d2 = c.call("DEBUG", "DIGEST-VALUE", "a")
        assert c.call("DEBUG", "DIGEST-VALUE", "a") == d2
        assert d1 != d2
        # a copy has the same digest
        c.call("COPY", "a", "a2")
        assert c.call("DEBUG", "DIGEST-VALUE", "a2") == d2


def test_insertion_times_survive_restart(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        c.call("XADD", "s", "1-1", "f", "v")
        assert c.call("XCFGSET", "s", "IDMP-DURATION", "3") == OK
        t0 = time.time()
        a = c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        assert c.call("SAVE") == OK
    srv.restart()
    with srv.raw() as c:
        assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == a
        # recorded at t0: forgotten 3 s after t0, not 3 s after the restart
        time.sleep(max(0.0, t0 + 3.4 - time.time()))
        assert counters(c, "s") == (0, 0, 1, 1)
        assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") != a


def _wait_rewrite(c):
    deadline = time.time() + 30
    while time.time() < deadline:
        info = c.call("INFO", "persistence").decode()
        if "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info:
            return info
        time.sleep(0.05)
    raise AssertionError("AOF rewrite did not finish")


AOF = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--appendfsync", "always"]


def _aof_files(srv):
    return sorted(glob.glob(os.path.join(srv.dir, "appendonlydir", "*.aof")))


def _aof_bytes(srv):
    data = b""
    for f in _aof_files(srv):
        with open(f, "rb") as fh:
            data += fh.read()
    return data


def test_aof_replay(server_factory):
    """Every write propagates its exact effect: replaying the AOF rebuilds the state."""
    srv = server_factory(extra=AOF)
    with srv.raw() as c:
        tracked = populate(c)
        before = snapshot(c)
    data = _aof_bytes(srv)
    assert b"$4\r\nXADD\r\n" not in data and b"$4\r\nxadd\r\n" not in data
    srv.restart()
    with srv.raw() as c:
        assert snapshot(c) == before
        check_counters(c)
        retry_all(c, tracked)


@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_aof_rewrite(server_factory, preamble):
    extra = AOF[:]
    extra[3] = preamble
    srv = server_factory(extra=extra)
    with srv.raw() as c:
        tracked = populate(c)
        before = snapshot(c)
        assert isinstance(c.call("BGREWRITEAOF"), type(OK))
        _wait_rewrite(c)
        # writes after the rewrite go to the new incremental file
        c.call("XADD", "plain", "9000-0", "after", "rewrite")
        before_after = snapshot(c)
    if preamble == "no":
        data = _aof_bytes(srv)
        assert b"$4\r\nXADD\r\n" not in data and b"$4\r\nxadd\r\n" not in data
    srv.restart()
    with srv.raw() as c:
        got = snapshot(c)
        assert got == before_after
        assert before["a"] == got["a"]
        check_counters(c)
        retry_all(c, tracked)


# -- DUMP / RESTORE ---------------------------------------------------------------

def crc64(data, crc=0):
    """Redis' CRC-64 (Jones polynomial, reflected), as used by DUMP payloads."""
    poly = 0x95AC9329AC4BC9B5
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def reseal(body):
    """A DUMP payload from body (type byte + value + 2-byte RDB version), with a valid CRC."""
    return body + crc64(body).to_bytes(8, "little")


def test_crc64_matches_redis(nraw):
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    nraw.call("SET", "k", "hello")
    payload = nraw.call("DUMP", "k")
    assert reseal(payload[:-8]) == payload


def test_dump_restore_roundtrip(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        tracked = populate(c)
        before = snapshot(c)
        dumps = {k: c.call("DUMP", k) for k in KEYS}
        c.call("FLUSHALL")
        for k, p in dumps.items():
            assert c.call("RESTORE", k, "0", p) == OK
        c.call("PEXPIRE", "ttl", "10000000")
        after = snapshot(c)
        for k in KEYS:
            assert after[k]["info"] == before[k]["info"], k
            assert after[k]["digest"] == before[k]["digest"], k
        retry_all(c, tracked)


def _module_log_lines(srv):
    """Log lines written by the module (the server prefixes them with <idmp>)."""
    try:
        with open(srv.logfile, "rb") as f:
            return f.read().count(b"<idmp>")
    except OSError:
        return 0


def test_restore_corrupt_payloads_fail_cleanly(server_factory):
    srv = server_factory()
    rnd = random.Random(7)
    with srv.raw() as c:
        populate(c)
        payload = c.call("DUMP", "a")
        body = payload[:-8]
        value, trailer = body[:-2], body[-2:]
        assert c.call("RESTORE", "x", "0", payload) == OK
        # junk and a wrong checksum
        assert isinstance(c.call("RESTORE", "j1", "0", b"junk"), Err)
        # (the last checksum byte flipped: setting it to 0 left the payload
        # valid whenever it already was 0, one run in 256; the IDs, and so
        # the checksum, come from the clock)
        assert isinstance(c.call("RESTORE", "j2", "0", payload[:-1] + bytes([payload[-1] ^ 0xFF])),
                          Err)
        # truncated module data with a valid checksum: the module must notice
        cuts = sorted(set([1, 2, 9, 10, 11, 12, 16, 20, len(value) // 2, len(value) - 2,
                           len(value) - 1] + [rnd.randrange(1, len(value)) for _ in range(40)]))
        # (RESTORE reads from the whole payload, footer included, so a cut that
        # the footer bytes happen to complete may load: then it must be usable)
        errors = 0
        for n in cuts:
            reply = c.call("RESTORE", "t%d" % n, "0", reseal(value[:n] + trailer))
            if isinstance(reply, Err):
                errors += 1
                assert c.call("EXISTS", "t%d" % n) == 0
            else:
                assert reply == OK, (n, reply)
                c.call("XINFO", "STREAM", "t%d" % n, "FULL")
                c.call("XADD", "t%d" % n, "IDMP", "p1", "i4", "*", "f", "v")
            assert c.call("PING").value == b"PONG"
        assert errors >= 0.9 * len(cuts)
        # random byte flips with a valid checksum: an error or some stream, never a crash
        for i in range(150):
            v = bytearray(value)
            for _ in range(rnd.randint(1, 3)):
                pos = rnd.randrange(10, len(v))
                v[pos] = rnd.randrange(256)
            reply = c.call("RESTORE", "f%d" % i, "0", reseal(bytes(v) + trailer))
            assert reply == OK or isinstance(reply, Err), reply
            if reply == OK:
                c.call("XINFO", "STREAM", "f%d" % i, "FULL")
                c.call("XRANGE", "f%d" % i, "-", "+")
                c.call("XADD", "f%d" % i, "IDMP", "p1", "i4", "*", "f", "v")
                c.call("DEBUG", "DIGEST-VALUE", "f%d" % i)
            assert c.call("PING").value == b"PONG"
        # a version the module does not know: keep the module id, bump the encver
        # (value = type byte 7, 0x81 + 64-bit big-endian module id whose low
        # 10 bits are the encoding version, then the module's data)
        assert value[0] == 7 and value[1] == 0x81, value[:10]
        mid = int.from_bytes(value[2:10], "big")
        for ver in (1023, (mid & 1023) + 1):
            newmid = (mid & ~1023) | ver
            v = value[:2] + newmid.to_bytes(8, "big") + value[10:]
            logged = _module_log_lines(srv)
            reply = c.call("RESTORE", "v%d" % ver, "0", reseal(v + trailer))
            assert isinstance(reply, Err), (ver, reply)
            # "fails cleanly with an error and a log line"
            assert _module_log_lines(srv) > logged, srv.log_tail(10)
        assert c.call("PING").value == b"PONG"
    assert srv.alive(), srv.log_tail()


def populate_groups(c):
    for i in range(1, 11):
        c.call("XADD", "g", "%d-1" % i, "f", str(i))
    c.call("XADD", "g", "IDMP", "p", "i", "*", "f", "v")
    assert c.call("XGROUP", "CREATE", "g", "g1", "0") == OK
    assert c.call("XGROUP", "CREATE", "g", "g2", "3-1", "ENTRIESREAD", "3") == OK
    c.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "4", "STREAMS", "g", ">")
    c.call("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "g", ">")
    c.call("XREADGROUP", "GROUP", "g2", "carol", "NOACK", "COUNT", "2", "STREAMS", "g", ">")
    c.call("XACK", "g", "g1", "2-1")
    c.call("XCLAIM", "g", "g1", "bob", "0", "1-1")
    c.call("XGROUP", "CREATECONSUMER", "g", "g2", "dave")
    c.call("XDEL", "g", "3-1")


def group_snapshot(c):
    full = c.call("XINFO", "STREAM", "g", "FULL")
    assert not isinstance(full, Err), full
    return {
        "full": [(f, v) for f, v in pairs(full) if f not in DROP],
        "groups": c.call("XINFO", "GROUPS", "g"),
        "pending": c.call("XPENDING", "g", "g1"),
        "digest": c.call("DEBUG", "DIGEST-VALUE", "g"),
    }


@pytest.mark.parametrize("how", ["restart", "reload", "aof-rewrite"])
def test_consumer_groups_survive(server_factory, how):
    extra = AOF if how == "aof-rewrite" else None
    srv = server_factory(extra=extra)
    with srv.raw() as c:
        populate_groups(c)
        before = group_snapshot(c)
        if how == "reload":
            assert c.call("DEBUG", "RELOAD") == OK
        elif how == "aof-rewrite":
            c.call("BGREWRITEAOF")
            _wait_rewrite(c)
        else:
            assert c.call("SAVE") == OK
    if how != "reload":
        srv.restart()
    with srv.raw() as c:
        assert group_snapshot(c) == before
        assert c.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "1",
                      "STREAMS", "g", ">") == [[b"g", [[b"7-1", [b"f", b"7"]]]]]


@pytest.mark.parametrize("how", ["reload", "restart", "dump-restore"])
def test_legacy_xsetid_states_persist(server_factory, how):
    """Redis 7.0 lets XSETID move last-generated-id below max-deleted-entry-id
    (and below recorded-first-entry-id). Redis 7.2+ refuses it, and so do module
    streams (tests/differential, xsetid cases), but a native 7.0 stream converted
    in place (or a payload of that time) still brings such a state: it must save
    and load, or the server cannot restart."""
    if not host_is_redis70():
        pytest.skip("the state is built by the host's own Redis 7.0 XSETID")
    srv = server_factory(module_args={"idmp.capture-new-streams": "no"})
    with srv.raw() as c:
        c.call("XADD", "s", "1-1", "f", "v")
        c.call("XADD", "s", "5-1", "f", "v")
        c.call("XDEL", "s", "5-1")
        assert c.call("XSETID", "s", "2-0") == OK
        c.call("XADD", "e", "9-9", "f", "v")
        c.call("XDEL", "e", "9-9")
        assert c.call("XSETID", "e", "3-0", "ENTRIESADDED", "0") == OK
        native = {k: [(f, v) for f, v in pairs(c.call("XINFO", "STREAM", k)) if f not in DROP]
                  for k in ("s", "e")}
        assert c.call("CONFIG", "SET", "idmp.capture-new-streams", "yes") == OK
        # converted in place by commands that need a module stream
        assert c.call("XCFGSET", "e", "IDMP-DURATION", "100") == OK
        c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        for k in ("s", "e"):
            assert c.call("OBJECT", "ENCODING", k) != b"stream", k
        before = {k: [(f, v) for f, v in pairs(c.call("XINFO", "STREAM", k))
                      if f not in DROP] for k in ("s", "e")}
        idmp = (b"idmp-duration", b"idmp-maxsize", b"pids-tracked", b"iids-tracked",
                b"iids-added", b"iids-duplicates")
        assert [(f, v) for f, v in before["e"] if f not in idmp] == \
            [(f, v) for f, v in native["e"] if f not in idmp]
        if how == "reload":
            assert c.call("DEBUG", "RELOAD") == OK
        elif how == "dump-restore":
            for k in ("s", "e"):
                payload = c.call("DUMP", k)
                c.call("DEL", k)
                assert c.call("RESTORE", k, "0", payload) == OK
        else:
            assert c.call("SAVE") == OK
    if how == "restart":
        srv.restart()
    with srv.raw() as c:
        after = {k: [(f, v) for f, v in pairs(c.call("XINFO", "STREAM", k)) if f not in DROP]
                 for k in ("s", "e")}
        assert after == before
