"""SPEC section 5: capacity per pid (FIFO), expiry after DURATION, exact counters."""

import time

from resp import OK, Simple
from util import counters, xinfo


def add(raw, pid, iid, key="s"):
    reply = raw.call("XADD", key, "IDMP", pid, iid, "*", "f", "v")
    assert isinstance(reply, bytes), reply
    return reply


def new_stream(raw, duration=None, maxsize=None, key="s"):
    raw.call("XADD", key, "*", "init", "x")
    args = []
    if duration is not None:
        args += ["IDMP-DURATION", str(duration)]
    if maxsize is not None:
        args += ["IDMP-MAXSIZE", str(maxsize)]
    if args:
        assert raw.call("XCFGSET", key, *args) == OK


def test_capacity_fifo_eviction(raw):
    new_stream(raw, maxsize=3)
    ids = {i: add(raw, "p", "i%d" % i) for i in range(1, 6)}
    assert counters(raw, "s") == (1, 3, 5, 0)
    # i3..i5 are held; a duplicate returns the original ID
    assert add(raw, "p", "i5") == ids[5]
    assert add(raw, "p", "i4") == ids[4]
    assert add(raw, "p", "i3") == ids[3]
    assert counters(raw, "s") == (1, 3, 5, 3)
    # i1 was evicted: fresh again, and it evicts the oldest, i3
    n1 = add(raw, "p", "i1")
    assert n1 not in ids.values()
    assert counters(raw, "s") == (1, 3, 6, 3)
    n3 = add(raw, "p", "i3")
    assert n3 != ids[3]
    # now held: i5, i1, i3 (i4 was evicted by i3)
    assert add(raw, "p", "i5") == ids[5]
    assert add(raw, "p", "i1") == n1
    assert add(raw, "p", "i3") == n3
    assert counters(raw, "s") == (1, 3, 7, 6)
    assert raw.call("XLEN", "s") == 1 + 7


def test_duplicate_does_not_refresh_eviction_order(raw):
    new_stream(raw, maxsize=2)
    a1 = add(raw, "p", "i1")
    a2 = add(raw, "p", "i2")
    assert add(raw, "p", "i1") == a1      # a duplicate: i1 stays the oldest
    a3 = add(raw, "p", "i3")              # evicts i1, not i2
    assert add(raw, "p", "i2") == a2
    assert add(raw, "p", "i3") == a3
    n1 = add(raw, "p", "i1")
    assert n1 != a1
    assert counters(raw, "s") == (1, 2, 4, 3)


def test_capacity_is_per_pid(raw):
    new_stream(raw, maxsize=3)
    held = {}
    for pid in ("p1", "p2", "p3"):
        for i in range(5):
            held[(pid, i)] = add(raw, pid, "i%d" % i)
    assert counters(raw, "s") == (3, 9, 15, 0)
    for pid in ("p1", "p2", "p3"):
        for i in (2, 3, 4):
            assert add(raw, pid, "i%d" % i) == held[(pid, i)]
    assert counters(raw, "s") == (3, 9, 15, 9)
    # filling p1 further does not evict anything of p2
    for i in range(5, 10):
        add(raw, "p1", "i%d" % i)
    for i in (2, 3, 4):
        assert add(raw, "p2", "i%d" % i) == held[("p2", i)]
    assert counters(raw, "s") == (3, 9, 20, 12)


def test_maxsize_one(raw):
    new_stream(raw, maxsize=1)
    a = add(raw, "p", "a")
    assert add(raw, "p", "a") == a
    b = add(raw, "p", "b")
    assert add(raw, "p", "b") == b
    a2 = add(raw, "p", "a")
    assert a2 not in (a, b)
    assert counters(raw, "s") == (1, 1, 3, 2)


def test_idmpauto_counts_in_capacity(raw):
    new_stream(raw, maxsize=2)
    x = raw.call("XADD", "s", "IDMPAUTO", "p", "*", "n", "1")
    add(raw, "p", "m1")
    add(raw, "p", "m2")        # evicts the IDMPAUTO iid
    y = raw.call("XADD", "s", "IDMPAUTO", "p", "*", "n", "1")
    assert y != x
    assert counters(raw, "s") == (1, 2, 4, 0)


def test_expiry_after_duration(raw):
    new_stream(raw, duration=1)
    a = add(raw, "p1", "i")
    b = raw.call("XADD", "s", "IDMPAUTO", "p2", "*", "f", "v")
    assert add(raw, "p1", "i") == a
    assert counters(raw, "s") == (2, 2, 2, 1)
    time.sleep(1.3)
    # exact as seen by XINFO, whether or not a background pass ran
    assert counters(raw, "s") == (0, 0, 2, 1)
    a2 = add(raw, "p1", "i")
    assert a2 != a
    b2 = raw.call("XADD", "s", "IDMPAUTO", "p2", "*", "f", "v")
    assert b2 != b
    assert counters(raw, "s") == (2, 2, 4, 1)


def test_expired_iid_never_reported_as_duplicate(raw):
    new_stream(raw, duration=1)
    a = add(raw, "p", "i")
    time.sleep(1.3)
    # the very first command after the expiry is the duplicate lookup
    a2 = add(raw, "p", "i")
    assert a2 != a
    assert add(raw, "p", "i") == a2
    assert counters(raw, "s") == (1, 1, 2, 1)


def test_partial_expiry(raw):
    new_stream(raw, duration=2)
    a = add(raw, "p1", "old")
    add(raw, "p2", "old")
    time.sleep(1.2)
    b = add(raw, "p1", "new")
    time.sleep(1.2)
    # old ones are 2.4 s old (expired), new one 1.2 s (kept)
    assert counters(raw, "s") == (1, 1, 3, 0)
    assert add(raw, "p1", "new") == b
    assert add(raw, "p1", "old") != a
    assert counters(raw, "s") == (1, 2, 4, 1)


def test_expiry_uses_server_clock_not_entry_ids(raw):
    """IDs far ahead of the clock must not stop expiry (the Redis 8.6 bug)."""
    ms = int(time.time() * 1000) + 10 ** 9
    raw.call("XADD", "s", "%d-0" % ms, "f", "v")
    assert raw.call("XCFGSET", "s", "IDMP-DURATION", "1") == OK
    a = add(raw, "p", "i")
    assert a == b"%d-1" % ms
    time.sleep(1.3)
    assert counters(raw, "s") == (0, 0, 1, 0)
    assert add(raw, "p", "i") != a


def test_expiry_with_config_default_of_new_stream(server_factory):
    srv = server_factory(module_args={"idmp.stream-idmp-duration": "1"})
    with srv.raw() as c:
        a = add(c, "p", "i")
        assert xinfo(c, "s")[b"idmp-duration"] == 1
        time.sleep(1.3)
        assert counters(c, "s") == (0, 0, 1, 0)
        assert add(c, "p", "i") != a


def test_iids_tracked_never_above_capacity(raw):
    new_stream(raw, maxsize=4)
    for i in range(50):
        add(raw, "p%d" % (i % 3), "i%d" % i)
        pids, iids, added, dups = counters(raw, "s")
        assert iids <= pids * 4
        assert added == i + 1
    assert counters(raw, "s") == (3, 12, 50, 0)


def test_expired_memory_is_reclaimed(raw):
    new_stream(raw, duration=1)
    base = raw.call("MEMORY", "USAGE", "s", "SAMPLES", "0")
    for chunk in range(20):
        raw.pipeline([["XADD", "s", "IDMP", "p%d" % (i % 50), "iid-%d-%d" % (chunk, i) * 3,
                       "*", "f", "v"] for i in range(250)])
    assert counters(raw, "s")[1] == 5000
    raw.call("XTRIM", "s", "MAXLEN", "0")
    peak = raw.call("MEMORY", "USAGE", "s", "SAMPLES", "0")
    assert peak > base + 100000, (base, peak)
    time.sleep(1.3)
    # a write touches the stream; give any background pass a moment too
    raw.call("XADD", "s", "IDMP", "fresh", "x", "*", "f", "v")
    deadline = time.time() + 3
    while True:
        now = raw.call("MEMORY", "USAGE", "s", "SAMPLES", "0")
        if now < base + (peak - base) // 4 or time.time() > deadline:
            break
        time.sleep(0.1)
    assert now < base + (peak - base) // 4, (base, peak, now)
    assert counters(raw, "s") == (1, 1, 5001, 0)


def test_key_moves_do_not_confuse_expiry(raw):
    """RENAME/MOVE/SWAPDB/FLUSHDB/COPY/DEL between recording and expiry: every
    stream answers exactly and the server survives its background work."""
    for k in ("a", "b", "c", "d", "e"):
        new_stream(raw, duration=1, key=k)
        for i in range(20):
            add(raw, "p", "i%d" % i, key=k)
    assert raw.call("RENAME", "a", "a2") == OK
    assert raw.call("MOVE", "b", "1") == 1
    assert raw.call("COPY", "c", "c2") == 1
    assert raw.call("COPY", "c", "c3", "DB", "2") == 1
    assert raw.call("SWAPDB", "0", "3") == OK
    raw.call("SELECT", "3")
    assert raw.call("DEL", "d") == 1
    assert raw.call("FLUSHDB") == OK          # drops a2, c, c2, e in db 3
    raw.call("SELECT", "0")
    time.sleep(1.5)
    raw.call("SELECT", "1")
    assert counters(raw, "b") == (0, 0, 20, 0)
    raw.call("SELECT", "2")
    assert counters(raw, "c3") == (0, 0, 20, 0)
    raw.call("SELECT", "0")
    assert raw.call("DBSIZE") == 0
    # new streams under the old names start clean
    new_stream(raw, duration=1, key="a2")
    add(raw, "p", "i0", key="a2")
    assert counters(raw, "a2") == (1, 1, 1, 0)
    assert raw.call("PING") == Simple(b"PONG")


def test_duplicate_does_not_refresh_age(raw):
    new_stream(raw, duration=2)
    a = add(raw, "p", "i")
    time.sleep(1.2)
    assert add(raw, "p", "i") == a        # a duplicate at 1.2 s
    time.sleep(1.1)
    # 2.3 s after recording: expired, whatever the duplicate did
    assert counters(raw, "s") == (0, 0, 1, 1)
    assert add(raw, "p", "i") != a


def test_large_capacity_and_many_pids(raw):
    new_stream(raw, maxsize=10000)
    ids = []
    for chunk in range(12):
        ids += raw.pipeline([["XADD", "s", "IDMP", "p", "i%d" % (chunk * 1000 + i), "*",
                              "f", "v"] for i in range(1000)])
    assert counters(raw, "s") == (1, 10000, 12000, 0)
    assert add(raw, "p", "i2000") == ids[2000]     # oldest one still held
    assert add(raw, "p", "i1999") != ids[1999]     # evicted: fresh again
    for chunk in range(5):
        raw.pipeline([["XADD", "s", "IDMP", "q%d" % (chunk * 1000 + i), "x", "*", "f", "v"]
                      for i in range(1000)])
    assert counters(raw, "s") == (5001, 15000, 17001, 1)
