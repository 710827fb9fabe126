"""SPEC section 6: XINFO STREAM field order and values, RESP2 and RESP3."""

import pytest

from resp import RMap
from util import IDMP_FIELDS, XINFO_FIELDS, XINFO_FULL_FIELDS, pairs, xinfo

NATIVE_DROP = set(IDMP_FIELDS) | {b"radix-tree-keys", b"radix-tree-nodes"}


def populate(c, key="s", groups=True):
    """The same plain (non-IDMP) operations for a native and a module stream."""
    c.call("XADD", key, "1-1", "a", "1")
    c.call("XADD", key, "1-2", "b", "2", "c", "3")
    c.call("XADD", key, "2-0", "d", "4")
    c.call("XDEL", key, "1-2")
    if not groups:
        return
    c.call("XGROUP", "CREATE", key, "g1", "0")
    c.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "1", "STREAMS", key, ">")


def strip_native(reply):
    return [(k, v) for k, v in pairs(reply) if k not in NATIVE_DROP]


def test_field_order_resp2(raw):
    raw.call("XADD", "s", "1-1", "f", "v")
    reply = raw.call("XINFO", "STREAM", "s")
    assert isinstance(reply, list)
    assert [k for k, _ in pairs(reply)] == XINFO_FIELDS


def test_field_order_resp3(raw3):
    raw3.call("XADD", "s", "1-1", "f", "v")
    reply = raw3.call("XINFO", "STREAM", "s")
    assert isinstance(reply, RMap), reply
    assert reply.keys() == XINFO_FIELDS
    full = raw3.call("XINFO", "STREAM", "s", "FULL")
    assert isinstance(full, RMap), full
    assert full.keys() == XINFO_FULL_FIELDS


def test_full_field_order_resp2(raw):
    populate(raw, groups=False)
    reply = raw.call("XINFO", "STREAM", "s", "FULL")
    assert [k for k, _ in pairs(reply)] == XINFO_FULL_FIELDS
    reply = raw.call("XINFO", "STREAM", "s", "FULL", "COUNT", "1")
    assert [k for k, _ in pairs(reply)] == XINFO_FULL_FIELDS


def test_values_are_integers_defaults(raw):
    raw.call("XADD", "s", "1-1", "f", "v")
    d = xinfo(raw, "s")
    for k in IDMP_FIELDS:
        assert type(d[k]) is int, (k, d[k])
    assert (d[b"idmp-duration"], d[b"idmp-maxsize"]) == (100, 100)
    assert (d[b"pids-tracked"], d[b"iids-tracked"], d[b"iids-added"],
            d[b"iids-duplicates"]) == (0, 0, 0, 0)


def test_values_after_idmp_use(raw3, raw):
    raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    raw.call("XADD", "s", "IDMPAUTO", "q", "*", "f", "v")
    raw.call("XCFGSET", "s", "IDMP-MAXSIZE", "100")  # same value: no clear
    want = [(b"idmp-duration", 100), (b"idmp-maxsize", 100), (b"pids-tracked", 2),
            (b"iids-tracked", 2), (b"iids-added", 2), (b"iids-duplicates", 1)]
    for reply in (raw.call("XINFO", "STREAM", "s"), raw3.call("XINFO", "STREAM", "s"),
                  raw.call("XINFO", "STREAM", "s", "FULL"),
                  raw3.call("XINFO", "STREAM", "s", "FULL")):
        got = [(k, v) for k, v in pairs(reply) if k in IDMP_FIELDS]
        assert got == want


@pytest.mark.parametrize("groups", [False, True], ids=["no-groups", "groups"])
def test_non_idmp_fields_equal_native(raw, nraw, raw3, native_srv, groups):
    populate(raw, groups=groups)
    populate(nraw, groups=groups)
    assert strip_native(raw.call("XINFO", "STREAM", "s")) == \
        strip_native(nraw.call("XINFO", "STREAM", "s"))
    with native_srv.raw(protocol=3) as n3:
        m = raw3.call("XINFO", "STREAM", "s")
        n = n3.call("XINFO", "STREAM", "s")
        assert strip_native(m) == strip_native(n)


@pytest.mark.parametrize("groups", [False, True], ids=["no-groups", "groups"])
def test_full_equals_native_except_times(raw, oraw, groups):
    """FULL: entries and the group/consumer/PEL structure as native Redis 8.6.3
    (the oracle; times masked)."""
    populate(raw, groups=groups)
    populate(oraw, groups=groups)
    m = dict(strip_native(raw.call("XINFO", "STREAM", "s", "FULL")))
    n = dict(strip_native(oraw.call("XINFO", "STREAM", "s", "FULL")))
    assert m[b"entries"] == n[b"entries"]
    assert mask_times(m[b"groups"]) == mask_times(n[b"groups"])
    assert {k: v for k, v in m.items() if k != b"groups"} == \
        {k: v for k, v in n.items() if k != b"groups"}


def mask_times(groups):
    """Replace delivery/seen times (clock-dependent) by a marker."""
    out = []
    for g in groups:
        g = pairs(g)
        ng = []
        for k, v in g:
            if k == b"pending":
                v = [[e[0], e[1], "T", e[3]] for e in v]
            elif k == b"consumers":
                cs = []
                for c in v:
                    nc = []
                    for ck, cv in pairs(c):
                        if ck in (b"seen-time", b"active-time"):
                            cv = "T"
                        elif ck == b"pending":
                            cv = [[e[0], "T", e[2]] for e in cv]
                        nc.append((ck, cv))
                    cs.append(nc)
                v = cs
            ng.append((k, v))
        out.append(ng)
    return out


def test_missing_key_and_wrongtype_as_native(raw, nraw):
    for c in (raw, nraw):
        c.call("SET", "str", "x")
    for argv in (["XINFO", "STREAM", "nope"], ["XINFO", "STREAM", "str"],
                 ["XINFO", "STREAM", "nope", "FULL"], ["XINFO", "STREAM"],
                 ["XINFO", "STREAM", "str", "FULL", "COUNT", "x"]):
        assert raw.call(*argv) == nraw.call(*argv), argv


@pytest.fixture
def capture_off(server_factory):
    return server_factory(module_args={"idmp.capture-new-streams": "no"})


def test_six_fields_on_forwarded_native_stream(capture_off, native_srv):
    with capture_off.raw() as c, native_srv.raw() as n:
        n.call("FLUSHALL")
        populate(c)
        populate(n)
        assert c.call("OBJECT", "ENCODING", "s") == b"stream"  # still native
        reply = c.call("XINFO", "STREAM", "s")
        assert [k for k, _ in pairs(reply)] == XINFO_FIELDS
        d = dict(pairs(reply))
        assert (d[b"idmp-duration"], d[b"idmp-maxsize"], d[b"pids-tracked"],
                d[b"iids-tracked"], d[b"iids-added"], d[b"iids-duplicates"]) == \
            (100, 100, 0, 0, 0, 0)
        assert strip_native(reply) == strip_native(n.call("XINFO", "STREAM", "s"))
        full = c.call("XINFO", "STREAM", "s", "FULL")
        assert [k for k, _ in pairs(full)] == XINFO_FULL_FIELDS
        assert c.call("OBJECT", "ENCODING", "s") == b"stream"
    with capture_off.raw(protocol=3) as c3:
        reply = c3.call("XINFO", "STREAM", "s")
        assert isinstance(reply, RMap) and reply.keys() == XINFO_FIELDS
