"""Blocking readers as Redis's own 8.6.3 suites check them (issue 12; the
failures `make test-upstream` found on Redis 7.0 with the module), each
scenario run on the module server and on native Redis 8.6.3 (the authority),
whose answers must be equal.

The 8.6.3 binary: ``ORACLE86_SERVER``, else the ``servers/get.sh redis-8.6.3``
build (``server.oracle86_binary``; a missing one fails, naming get.sh).
"""


import pytest

from resp import Err
from server import RedisServer, oracle86_binary
from util import wait_blocked

@pytest.fixture(scope="module")
def n86():
    s = RedisServer(module=False, binary=oracle86_binary())
    s.start()
    yield s
    s.cleanup()



def both(srv, n86, scenario):
    """Runs `scenario(server, client)` on a fresh module server and on 8.6.3;
    returns both results after checking they are equal."""
    out = []
    for s in (srv, n86):
        c = s.raw()
        try:
            c.call("FLUSHALL")
            out.append(scenario(s, c))
        finally:
            c.close()
    assert out[0] == out[1], "module %r != native 8.6.3 %r" % tuple(out)
    return out[0]


def test_xread_keeps_waiting_while_its_key_holds_another_type(srv, n86):
    # stream.tcl "XREAD: XADD + DEL + LPUSH should not awake client"
    def scenario(s, c):
        with s.raw() as rd:
            rd.send("XREAD", "BLOCK", "5000", "STREAMS", "s1", "$")
            wait_blocked(c)
            c.call("MULTI")
            c.call("XADD", "s1", "*", "old", "abcd1234")
            c.call("DEL", "s1")
            c.call("LPUSH", "s1", "foo", "bar")
            c.call("EXEC")
            c.call("DEL", "s1")
            c.call("XADD", "s1", "1-1", "new", "abcd1234")
            return rd.read()

    assert both(srv, n86, scenario) == [[b"s1", [[b"1-1", [b"new", b"abcd1234"]]]]]


@pytest.mark.parametrize("how", ["set", "multi"])
def test_xreadgroup_answers_wrongtype_when_its_key_changes_type(srv, n86, how):
    # stream-cgroups.tcl "Blocking XREADGROUP: key type changed with SET" and
    # "... with transaction"
    def scenario(s, c):
        c.call("XGROUP", "CREATE", "mystream", "mygroup", "$", "MKSTREAM")
        with s.raw() as rd:
            rd.send("XREADGROUP", "GROUP", "mygroup", "Alice", "BLOCK", "0",
                    "STREAMS", "mystream", ">")
            wait_blocked(c)
            if how == "set":
                c.call("SET", "mystream", "val1")
            else:
                c.call("MULTI")
                c.call("DEL", "mystream")
                c.call("SADD", "mystream", "e1")
                c.call("EXEC")
            r = rd.read()
            return r.text if isinstance(r, Err) else r

    assert both(srv, n86, scenario).startswith("WRONGTYPE")


def test_xreadgroup_answers_wrongtype_after_swapdb_brings_another_type(srv, n86):
    # stream-cgroups.tcl "Blocking XREADGROUP: swapped DB, key is not a stream"
    def scenario(s, c):
        c.call("SELECT", "4")
        c.call("FLUSHDB")
        c.call("LPUSH", "mystream", "e1")
        c.call("SELECT", "9")
        c.call("XGROUP", "CREATE", "mystream", "mygroup", "$", "MKSTREAM")
        with s.raw() as rd:
            rd.call("SELECT", "9")
            rd.send("XREADGROUP", "GROUP", "mygroup", "Alice", "BLOCK", "0",
                    "STREAMS", "mystream", ">")
            wait_blocked(c)
            c.call("SWAPDB", "4", "9")
            r = rd.read()
            return r.text if isinstance(r, Err) else r

    assert both(srv, n86, scenario).startswith("WRONGTYPE")


def test_blocked_xreadgroup_claim_wakes_when_an_entry_becomes_claimable(srv, n86):
    # stream-cgroups.tcl "XREADGROUP CLAIM with two blocked clients": the
    # second reader is served by the entry the first one took, once it has
    # been idle CLAIM ms, with no write to wake it.
    def scenario(s, c):
        c.call("XADD", "mystream", "1-0", "f", "v1")
        c.call("XDEL", "mystream", "1-0")
        c.call("XGROUP", "CREATE", "mystream", "group1", "0", "MKSTREAM")
        with s.raw() as rd1, s.raw() as rd2:
            rd1.send("XREADGROUP", "GROUP", "group1", "consumer1", "BLOCK", "0",
                     "CLAIM", "100", "STREAMS", "mystream", ">")
            rd2.send("XREADGROUP", "GROUP", "group1", "consumer2", "BLOCK", "0",
                     "CLAIM", "100", "STREAMS", "mystream", ">")
            wait_blocked(c, 2)
            c.call("XADD", "mystream", "2-0", "f", "v2")
            r1 = rd1.read()
            rd2.sock.settimeout(5)
            r2 = rd2.read()
            # [[key, [[id, fields, idle, count]]]]: idle times vary.
            e2 = r2[0][1][0]
            assert e2[2] >= 100, r2
            return r1, [r2[0][0], [[e2[0], e2[1], e2[3]]]]

    r1, r2 = both(srv, n86, scenario)
    assert r1 == [[b"mystream", [[b"2-0", [b"f", b"v2"], 0, 0]]]]
    assert r2 == [b"mystream", [[b"2-0", [b"f", b"v2"], 1]]]


def test_xreadgroup_creates_its_consumer_even_when_nothing_is_served(srv, n86):
    # stream-cgroups.tcl "Consumer seen-time and active-time" (Redis 7.2+:
    # 7.0 created the consumer only when serving)
    def scenario(s, c):
        c.call("XGROUP", "CREATE", "mystream", "mygroup", "$", "MKSTREAM")
        first = c.call("XREADGROUP", "GROUP", "mygroup", "Alice", "COUNT", "1",
                       "STREAMS", "mystream", ">")
        with s.raw() as rd:
            rd.send("XREADGROUP", "GROUP", "mygroup", "Bob", "BLOCK", "50",
                    "STREAMS", "mystream", ">")
            blocked = rd.read()
        consumers = c.call("XINFO", "CONSUMERS", "mystream", "mygroup")
        # [name, n, pending, 0, idle, ms, inactive, -1]: idle varies
        shape = [[x for j, x in enumerate(cons) if j != 5] for cons in consumers]
        return first, blocked, shape, c.call("XINFO", "GROUPS", "mystream")[0][3]

    first, blocked, shape, n = both(srv, n86, scenario)
    assert first is None and blocked is None and n == 2
    assert [cons[1] for cons in shape] == [b"Alice", b"Bob"]
