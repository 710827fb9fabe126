"""SPEC section 9, last bullet: the Redis 8.2 stream features on module streams
(KEEPREF/DELREF/ACKED on XADD and XTRIM, XDELEX, XACKDEL). Only behaviour that
the 8.2 documentation states plainly is checked; error texts are not."""

import pytest

from resp import OK, Err


@pytest.fixture
def s(raw):
    for i in range(1, 6):
        raw.call("XADD", "s", "%d-1" % i, "f", str(i))
    return raw


def pending_ids(c, group):
    return [e[0] for e in c.call("XPENDING", "s", group, "-", "+", "100")]


def test_xdelex_without_groups(s):
    assert s.call("XDELEX", "s", "IDS", "2", "1-1", "9-9") == [1, -1]
    assert s.call("XLEN", "s") == 4
    assert s.call("XDELEX", "s", "IDS", "1", "1-1") == [-1]
    assert s.call("XDELEX", "s", "KEEPREF", "IDS", "1", "2-1") == [1]
    assert s.call("XDELEX", "s", "DELREF", "IDS", "1", "3-1") == [1]
    assert s.call("XDELEX", "s", "ACKED", "IDS", "1", "4-1") == [1]
    assert s.call("XRANGE", "s", "-", "+") == [[b"5-1", [b"f", b"5"]]]


def test_xdelex_keepref_delref_acked(s):
    assert s.call("XGROUP", "CREATE", "s", "g", "0") == OK
    s.call("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "s", ">")
    assert pending_ids(s, "g") == [b"1-1", b"2-1", b"3-1"]
    # ACKED: pending in g, so not deleted
    assert s.call("XDELEX", "s", "ACKED", "IDS", "1", "1-1") == [2]
    assert s.call("XLEN", "s") == 5
    # ACKED: never delivered to g (after its last-delivered-id): not deleted either
    assert s.call("XDELEX", "s", "ACKED", "IDS", "1", "5-1") == [2]
    # KEEPREF: deleted, the PEL keeps its reference
    assert s.call("XDELEX", "s", "KEEPREF", "IDS", "1", "1-1") == [1]
    assert pending_ids(s, "g") == [b"1-1", b"2-1", b"3-1"]
    # DELREF: deleted and removed from every PEL
    assert s.call("XDELEX", "s", "DELREF", "IDS", "1", "2-1") == [1]
    assert pending_ids(s, "g") == [b"1-1", b"3-1"]
    # acknowledged by the only group: ACKED deletes it
    assert s.call("XACK", "s", "g", "3-1") == 1
    assert s.call("XDELEX", "s", "ACKED", "IDS", "1", "3-1") == [1]
    assert s.call("XLEN", "s") == 2


def test_xackdel(s):
    s.call("XGROUP", "CREATE", "s", "g", "0")
    s.call("XGROUP", "CREATE", "s", "g2", "0")
    s.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    # acked in g and deleted (KEEPREF: g2's view is not consulted)
    assert s.call("XACKDEL", "s", "g", "IDS", "1", "1-1") == [1]
    assert s.call("XLEN", "s") == 4
    assert pending_ids(s, "g") == [b"2-1", b"3-1", b"4-1", b"5-1"]
    # ACKED: g2 has not read it, so acked in g but kept
    assert s.call("XACKDEL", "s", "g", "ACKED", "IDS", "1", "2-1") == [2]
    assert pending_ids(s, "g") == [b"3-1", b"4-1", b"5-1"]
    assert s.call("XLEN", "s") == 4
    # g2 reads and acks everything: now ACKED deletes
    s.call("XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", ">")
    s.call("XACK", "s", "g2", "2-1", "3-1", "4-1", "5-1")
    assert s.call("XACKDEL", "s", "g", "ACKED", "IDS", "2", "3-1", "4-1") == [1, 1]
    assert s.call("XRANGE", "s", "-", "+") == [[b"2-1", [b"f", b"2"]], [b"5-1", [b"f", b"5"]]]
    assert s.call("XACKDEL", "s", "nosuchgroup", "IDS", "1", "5-1") != [1]


def test_xtrim_and_xadd_with_ref_options(s):
    s.call("XGROUP", "CREATE", "s", "g", "0")
    s.call("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">")
    assert s.call("XTRIM", "s", "MAXLEN", "4", "KEEPREF") == 1
    assert pending_ids(s, "g") == [b"1-1", b"2-1"]
    assert s.call("XTRIM", "s", "MAXLEN", "3", "DELREF") == 1
    assert pending_ids(s, "g") == [b"1-1"]
    new = s.call("XADD", "s", "KEEPREF", "MAXLEN", "3", "*", "f", "v")
    assert isinstance(new, bytes)
    new2 = s.call("XADD", "s", "DELREF", "IDMP", "p", "i", "MAXLEN", "3", "*", "f", "v")
    assert isinstance(new2, bytes)
    assert s.call("XADD", "s", "ACKED", "IDMP", "p", "i", "*", "f", "v") == new2
    assert s.call("XLEN", "s") == 3


def test_ref_options_are_errors_natively(nraw):
    """Guard: these options do not exist in 7.0, so the module adds them."""
    if nraw.call("COMMAND", "INFO", "XDELEX") != [None]:
        pytest.skip("the host serves XDELEX and KEEPREF natively (Redis 8.2+); "
                    "test_host.py checks that its native streams stay with it")
    nraw.call("XADD", "s", "1-1", "f", "v")
    assert isinstance(nraw.call("XADD", "s", "KEEPREF", "*", "f", "v"), Err)
    assert isinstance(nraw.call("XDELEX", "s", "IDS", "1", "1-1"), Err)


def test_ref_options_without_groups(s):
    for opt in ("KEEPREF", "DELREF", "ACKED", "keepref"):
        assert isinstance(s.call("XADD", "s", opt, "*", "f", "v"), bytes), opt
    assert s.call("XLEN", "s") == 9
    assert s.call("XTRIM", "s", "MAXLEN", "7", "KEEPREF") == 2
    assert s.call("XTRIM", "s", "DELREF", "MAXLEN", "5") == 2
    assert s.call("XTRIM", "s", "MAXLEN", "3", "ACKED") == 2
    assert s.call("XLEN", "s") == 3
