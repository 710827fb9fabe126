"""SPEC section 3, as observable through XADD IDMPAUTO: the content digest,
and the iids compared byte for byte with native Redis 8.6.3's."""

import glob
import itertools
import os
import random
import struct

import pytest

from pworkload import parse_aof
from util import counters, idmpauto_iid


def add(raw, *fields, pid="p"):
    reply = raw.call("XADD", "s", "IDMPAUTO", pid, "*", *fields)
    assert isinstance(reply, bytes), reply
    return reply


def test_same_content_same_iid(raw):
    a = add(raw, "f", "v")
    assert add(raw, "f", "v") == a
    assert raw.call("XLEN", "s") == 1


def test_pair_order_does_not_matter(raw):
    pairs = [("a", "1"), ("b", "2"), ("c", "3"), ("d", "")]
    first = None
    for perm in itertools.permutations(pairs):
        flat = [x for p in perm for x in p]
        got = add(raw, *flat)
        if first is None:
            first = got
        assert got == first, perm
    assert raw.call("XLEN", "s") == 1
    assert counters(raw, "s") == (1, 1, 1, 23)


def test_shuffled_repeated_pairs(raw):
    rnd = random.Random(1234)
    pairs = [(b"k%d" % (i % 5), b"v%d" % (i % 3)) for i in range(40)]
    ids = set()
    for _ in range(10):
        rnd.shuffle(pairs)
        ids.add(add(raw, *[x for p in pairs for x in p]))
    assert len(ids) == 1


@pytest.mark.parametrize("x,y", [
    (["a", "bc"], ["ab", "c"]),
    (["a", "b"], ["b", "a"]),
    (["f", "v", "f", "v"], ["f", "v"]),
    (["f", "v", "f", "v", "f", "v"], ["f", "v", "f", "v"]),
    (["f", "v", "g", "w"], ["f", "w", "g", "v"]),
    (["f", ""], ["f", "\x00"]),
    (["", "v"], ["v", ""]),
    (["", ""], ["", "", "", ""]),
    (["n", "1"], ["n", "01"]),
    (["n", "1"], ["n", "1.0"]),
    (["F", "v"], ["f", "v"]),
    ([b"\xff", b"\x00"], [b"\xff\x00", b""]),
    (["a", "b", "c", "d"], ["a", "d", "c", "b"]),
    (["ab", "", "c", ""], ["a", "", "bc", ""]),
])
def test_different_multisets_differ(raw, x, y):
    a = add(raw, *x)
    b = add(raw, *y)
    assert a != b
    assert raw.call("XLEN", "s") == 2
    # and each is still recognised as itself
    assert add(raw, *x) == a
    assert add(raw, *y) == b


def test_repeated_pair_does_not_cancel_out(raw):
    one = add(raw, "f", "v")
    two = add(raw, "f", "v", "f", "v")
    three = add(raw, "f", "v", "f", "v", "f", "v")
    four = add(raw, "f", "v", "f", "v", "f", "v", "f", "v")
    assert len({one, two, three, four}) == 4
    # "f v f v g w g w" vs "g w g w": the two f-v pairs must not cancel
    a = add(raw, "g", "w", "g", "w")
    b = add(raw, "f", "v", "f", "v", "g", "w", "g", "w")
    assert a != b
    assert counters(raw, "s") == (1, 6, 6, 0)


def test_same_content_other_pid_is_other_message(raw):
    a = add(raw, "f", "v", pid="p1")
    b = add(raw, "f", "v", pid="p2")
    assert a != b
    assert add(raw, "f", "v", pid="p1") == a
    assert add(raw, "f", "v", pid="p2") == b


@pytest.mark.parametrize("fields", [
    [b"f", b"v"],
    [b"b", b"2", b"a", b"1"],
    [b"", b""],
    [b"f", b"v", b"f", b"v"],
    [b"\x00\x01", b"\xff" * 1000, b"k", b"0"],
])
def test_digest_is_the_documented_one(raw, fields):
    """SPEC 3: IDMP with the digest computed independently (tests/util.py) is the
    same message."""
    a = add(raw, *fields)
    iid = idmpauto_iid(fields)
    assert raw.call("XADD", "s", "IDMP", "p", iid, "*", "x", "y") == a
    # reversed pair order: same digest
    rev = []
    for i in range(len(fields) - 2, -1, -2):
        rev += fields[i:i + 2]
    assert idmpauto_iid(rev) == iid
    assert raw.call("XLEN", "s") == 1


# A pair whose 8.6.3 hash input ``f || le64(len f) || v`` reads at two splits:
# ("a", le64(9) + "x") and ("a" + le64(1), "x") hash the same bytes natively.
AMBIG_A = [b"a", struct.pack("<Q", 9) + b"x"]
AMBIG_B = [b"a" + struct.pack("<Q", 1), b"x"]

NATIVE_CONTENTS = [
    [b"f", b"v"],
    [b"field", b"value", b"n", b"42"],
    [b"n", b"42", b"field", b"value"],
    [b"", b""],
    [b"f", b"v", b"f", b"v"],
    [b"f", b"v", b"f", b"v", b"f", b"v"],
    [b"a", b"bc"],
    [b"ab", b"c"],
    [b"\x00\x01", b"\xff" * 1000, b"k", b"0"],
    [b"k" * 70000, b"v"],
    [b"12345", b"-1", b"3.14", b"1e10"],
    ["\u00e9t\u00e9".encode(), "\u2603".encode()],
] + [
    [bytes(random.Random(n).randrange(256) for _ in range(random.Random(n).randrange(40)))
     for _ in range(2 * (1 + n % 4))]
    for n in range(20)
]


def _module_iids(srv, key):
    """The iids the module recorded for ``key``, in order, read from the AOF
    where each IDMPAUTO add propagates as ``idmp.xadd key ... IDMP pid iid``."""
    out = []
    for path in sorted(glob.glob(os.path.join(srv.dir, "appendonlydir", "*.incr.aof"))):
        with open(path, "rb") as f:
            for argv in parse_aof(f.read()):
                if argv[0].lower() == b"idmp.xadd" and argv[1] == key:
                    i = [a.upper() for a in argv].index(b"IDMP")
                    out.append(argv[i + 2])
    return out


def test_iids_equal_native_863(server_factory, o86):
    """The module's IDMPAUTO iid of each content is the one native 8.6.3
    records: 8.6.3 answers ``XADD IDMP pid <module iid>`` as a duplicate of
    its own ``XADD IDMPAUTO pid`` of the same content."""
    m = server_factory(extra=["--appendonly", "yes", "--appendfsync", "always"])
    c = m.raw()
    for n, fields in enumerate(NATIVE_CONTENTS):
        assert isinstance(c.call("XADD", "k%d" % n, "IDMPAUTO", "p", "*", *fields), bytes)
    for n, fields in enumerate(NATIVE_CONTENTS):
        key = b"k%d" % n
        (iid,) = _module_iids(m, key)
        assert iid == idmpauto_iid(fields), fields
        first = o86.call("XADD", key, "IDMPAUTO", "p", "*", *fields)
        again = o86.call("XADD", key, "IDMP", "p", iid, "*", "other", "content")
        assert again == first, (fields, iid.hex())
        assert o86.call("XLEN", key) == 1
    c.close()


def test_ambiguous_pair_differs_from_native_863(server_factory, o86):
    """8.6.3 takes the two ambiguous contents for one message (its known
    collision); the module keeps them apart (README, "Known differences"),
    and only their iids differ from 8.6.3's."""
    first = o86.call("XADD", "s", "IDMPAUTO", "p", "*", *AMBIG_A)
    assert o86.call("XADD", "s", "IDMPAUTO", "p", "*", *AMBIG_B) == first
    m = server_factory(extra=["--appendonly", "yes", "--appendfsync", "always"])
    c = m.raw()
    a = c.call("XADD", "s", "IDMPAUTO", "p", "*", *AMBIG_A)
    b = c.call("XADD", "s", "IDMPAUTO", "p", "*", *AMBIG_B)
    assert a != b and c.call("XLEN", "s") == 2
    ia, ib = _module_iids(m, b"s")
    assert (ia, ib) == (idmpauto_iid(AMBIG_A), idmpauto_iid(AMBIG_B))
    # Neither is 8.6.3's iid of the (shared) native input.
    for iid in (ia, ib):
        assert o86.call("XADD", "s", "IDMP", "p", iid, "*", "x", "y") != first
    c.close()
