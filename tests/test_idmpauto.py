"""SPEC section 3, as observable through XADD IDMPAUTO: the content digest."""

import itertools
import random

import pytest

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
def test_digest_is_the_documented_sha256(raw, fields):
    """SPEC 3 "Our definition": IDMP with the computed digest is the same message."""
    a = add(raw, *fields)
    iid = idmpauto_iid(fields)
    assert raw.call("XADD", "s", "IDMP", "p", iid, "*", "x", "y") == a
    # reversed pair order: same digest
    rev = []
    for i in range(len(fields) - 2, -1, -2):
        rev += fields[i:i + 2]
    assert idmpauto_iid(rev) == iid
    assert raw.call("XLEN", "s") == 1
