"""SPEC sections 1 and 2: XADD IDMP / IDMPAUTO parsing, errors and duplicates."""

import pytest

from resp import Err
from util import (
    ERR_AUTO_EMPTY_PID, ERR_AUTO_ONLY, ERR_EMPTY_IID, ERR_EMPTY_PID,
    ERR_EXHAUSTED, ERR_INVALID_ID, ERR_MULTI, WRONGTYPE, arity_err, counters,
    idmpauto_iid, parse_id, xinfo,
)

XADD_ARITY = arity_err("xadd")


# -- arity and option errors ------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["XADD", "s"],
    ["XADD", "s", "*"],
    ["XADD", "s", "*", "f"],
    ["xadd", "s", "*", "f"],
])
def test_arity_unchanged(raw, argv):
    assert raw.call(*argv) == XADD_ARITY
    assert raw.call("EXISTS", "s") == 0


@pytest.mark.parametrize("argv,err", [
    (["IDMP", "p", "i", "IDMP", "p", "j", "*", "f", "v"], ERR_MULTI),
    (["IDMP", "p", "i", "IDMPAUTO", "p", "*", "f", "v"], ERR_MULTI),
    (["IDMPAUTO", "p", "IDMP", "p", "i", "*", "f", "v"], ERR_MULTI),
    (["IDMPAUTO", "p", "IDMPAUTO", "q", "*", "f", "v"], ERR_MULTI),
    # reported when the second keyword is reached: its own (empty) pid is not looked at
    (["IDMP", "p", "i", "IDMPAUTO", "", "*", "f", "v"], ERR_MULTI),
    (["IDMP", "p", "i", "IDMP", "", "", "*", "f", "v"], ERR_MULTI),
    # ... nor the explicit ID after it
    (["IDMP", "p", "i", "IDMP", "p", "i", "1-1", "f", "v"], ERR_MULTI),
    (["IDMP", "", "i", "*", "f", "v"], ERR_EMPTY_PID),
    (["IDMP", "", "", "*", "f", "v"], ERR_EMPTY_PID),
    (["IDMP", "p", "", "*", "f", "v"], ERR_EMPTY_IID),
    (["IDMPAUTO", "", "*", "f", "v"], ERR_AUTO_EMPTY_PID),
    (["IDMP", "p", "i", "1-1", "f", "v"], ERR_AUTO_ONLY),
    (["IDMP", "p", "i", "5", "f", "v"], ERR_AUTO_ONLY),
    (["IDMP", "p", "i", "123-*", "f", "v"], ERR_AUTO_ONLY),
    (["IDMPAUTO", "p", "1-1", "f", "v"], ERR_AUTO_ONLY),
    (["IDMPAUTO", "p", "0-1", "f", "v"], ERR_AUTO_ONLY),
    (["IDMPAUTO", "p", "9-*", "f", "v"], ERR_AUTO_ONLY),
    # p1 and * are eaten by IDMP: "f" is the ID
    (["IDMP", "p1", "*", "f", "v"], ERR_INVALID_ID),
    (["IDMP", "p", "i", "abc", "f", "v"], ERR_INVALID_ID),
    (["IDMPAUTO", "p", "1-x", "f", "v"], ERR_INVALID_ID),
    (["idmp", "p", "", "*", "f", "v"], ERR_EMPTY_IID),
    (["IdMpAuTo", "", "*", "f", "v"], ERR_AUTO_EMPTY_PID),
])
def test_option_errors(raw, argv, err):
    assert raw.call("XADD", "s", *argv) == err
    assert raw.call("EXISTS", "s") == 0


@pytest.mark.parametrize("argv,err", [
    (["IDMP", "", "i", "*", "f", "v"], ERR_EMPTY_PID),
    (["IDMP", "p", "", "*", "f", "v"], ERR_EMPTY_IID),
    (["IDMPAUTO", "", "*", "f", "v"], ERR_AUTO_EMPTY_PID),
    (["IDMP", "p", "i", "1-1", "f", "v"], ERR_AUTO_ONLY),
    (["IDMP", "p", "i", "IDMP", "p", "i", "*", "f", "v"], ERR_MULTI),
    (["IDMP", "p1", "*", "f", "v"], ERR_INVALID_ID),
])
def test_option_errors_win_over_wrongtype_and_nomkstream(raw, argv, err):
    raw.call("SET", "str", "x")
    assert raw.call("XADD", "str", *argv) == err
    assert raw.call("XADD", "str", "NOMKSTREAM", *argv) == err
    assert raw.call("XADD", "missing", "NOMKSTREAM", *argv) == err
    assert raw.call("EXISTS", "missing") == 0
    assert raw.call("GET", "str") == b"x"


def test_field_count_before_key(raw):
    raw.call("SET", "str", "x")
    assert raw.call("XADD", "str", "IDMP", "p", "i", "*", "f", "v", "g") == XADD_ARITY
    assert raw.call("XADD", "s", "IDMP", "p", "i", "*", "f") == XADD_ARITY
    assert raw.call("XADD", "s", "IDMPAUTO", "p", "*", "f", "v", "g") == XADD_ARITY
    assert raw.call("XADD", "missing", "NOMKSTREAM", "IDMP", "p", "i", "*", "f") == XADD_ARITY
    assert raw.call("EXISTS", "s", "missing") == 0


def test_wrongtype(raw):
    raw.call("SET", "str", "x")
    assert raw.call("XADD", "str", "IDMP", "p", "i", "*", "f", "v") == WRONGTYPE
    assert raw.call("XADD", "str", "IDMPAUTO", "p", "*", "f", "v") == WRONGTYPE
    assert raw.call("XADD", "str", "NOMKSTREAM", "IDMP", "p", "i", "*", "f", "v") == WRONGTYPE


def test_nomkstream_missing_key_creates_no_state(raw):
    assert raw.call("XADD", "s", "NOMKSTREAM", "IDMP", "p", "i", "*", "f", "v") is None
    assert raw.call("XADD", "s", "NOMKSTREAM", "IDMPAUTO", "p", "*", "f", "v") is None
    assert raw.call("EXISTS", "s") == 0
    # the (p, i) pair was not remembered anywhere: it is fresh now
    id1 = raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    assert isinstance(id1, bytes)
    assert counters(raw, "s") == (1, 1, 1, 0)
    id2 = raw.call("XADD", "s", "IDMPAUTO", "p", "*", "f", "v")
    assert id2 != id1
    assert counters(raw, "s") == (1, 2, 2, 0)


def test_nomkstream_existing_key(raw):
    raw.call("XADD", "s", "1-1", "a", "b")
    id1 = raw.call("XADD", "s", "NOMKSTREAM", "IDMP", "p", "i", "*", "f", "v")
    assert isinstance(id1, bytes)
    assert raw.call("XADD", "s", "IDMP", "p", "i", "NOMKSTREAM", "*", "x", "y") == id1
    assert raw.call("XLEN", "s") == 2


# -- duplicates ---------------------------------------------------------------

def test_reply_is_entry_id_and_duplicate_returns_it(raw):
    id1 = raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    assert isinstance(id1, bytes)
    rng = raw.call("XRANGE", "s", "-", "+")
    assert rng == [[id1, [b"f", b"v"]]]
    id2 = raw.call("XADD", "s", "IDMP", "p", "i", "*", "other", "fields", "x", "y")
    assert id2 == id1
    # nothing appended, fields of the original kept
    assert raw.call("XRANGE", "s", "-", "+") == [[id1, [b"f", b"v"]]]
    assert raw.call("XLEN", "s") == 1
    assert counters(raw, "s") == (1, 1, 1, 1)
    info = xinfo(raw, "s")
    assert info[b"entries-added"] == 1
    assert info[b"last-generated-id"] == id1


def test_duplicate_after_xdel(raw):
    id1 = raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    assert raw.call("XDEL", "s", id1) == 1
    assert raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == id1
    assert raw.call("XLEN", "s") == 0
    assert counters(raw, "s") == (1, 1, 1, 1)


def test_duplicate_after_xtrim_and_trimming_option(raw):
    id1 = raw.call("XADD", "s", "IDMP", "p", "i1", "*", "f", "v")
    id2 = raw.call("XADD", "s", "IDMP", "p", "i2", "*", "f", "v")
    assert raw.call("XTRIM", "s", "MAXLEN", "0") == 2
    assert raw.call("XADD", "s", "IDMP", "p", "i1", "*", "f", "v") == id1
    # a trimming XADD that removes i2's entry
    id3 = raw.call("XADD", "s", "MAXLEN", "=", "0", "IDMP", "p", "i3", "*", "f", "v")
    assert raw.call("XLEN", "s") == 0
    assert raw.call("XADD", "s", "IDMP", "p", "i2", "*", "f", "v") == id2
    assert raw.call("XADD", "s", "IDMP", "p", "i3", "*", "f", "v") == id3
    ms, seq = parse_id(id3)
    id4 = raw.call("XADD", "s", "MINID", "%d-%d" % (ms, seq + 1), "IDMP", "p", "i4", "*", "f", "v")
    assert raw.call("XADD", "s", "IDMP", "p", "i4", "*", "f", "v") == id4
    assert counters(raw, "s") == (1, 4, 4, 4)


def test_duplicate_runs_no_trimming(raw):
    for i in range(3):
        raw.call("XADD", "s", "*", "n", str(i))
    id1 = raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    assert raw.call("XLEN", "s") == 4
    assert raw.call("XADD", "s", "MAXLEN", "1", "IDMP", "p", "i", "*", "f", "v") == id1
    assert raw.call("XLEN", "s") == 4
    assert raw.call("XADD", "s", "IDMP", "p", "i", "MINID", "=", id1, "*", "f", "v") == id1
    assert raw.call("XLEN", "s") == 4


def test_per_pid_isolation(raw):
    a = raw.call("XADD", "s", "IDMP", "p1", "i", "*", "f", "v")
    b = raw.call("XADD", "s", "IDMP", "p2", "i", "*", "f", "v")
    assert a != b
    assert raw.call("XADD", "s", "IDMP", "p1", "i", "*", "f", "v") == a
    assert raw.call("XADD", "s", "IDMP", "p2", "i", "*", "f", "v") == b
    assert raw.call("XLEN", "s") == 2
    assert counters(raw, "s") == (2, 2, 2, 2)
    # keys are isolated too
    # (IDs of different keys may coincide: compare the entries, not the IDs.)
    c = raw.call("XADD", "t", "IDMP", "p1", "i", "*", "f", "v")
    assert raw.call("XLEN", "t") == 1
    assert raw.call("XRANGE", "t", "-", "+")[0][0] == c
    assert raw.call("XLEN", "s") == 2
    assert counters(raw, "t") == (1, 1, 1, 0)


def test_idmp_and_idmpauto_share_the_pid_map(raw):
    fields = [b"f", b"v", b"g", b"w"]
    iid = idmpauto_iid(fields)
    a = raw.call("XADD", "s", "IDMPAUTO", "p", "*", *fields)
    # the same content with IDMP and the documented digest is the same message
    assert raw.call("XADD", "s", "IDMP", "p", iid, "*", b"x", b"y") == a
    b = raw.call("XADD", "s", "IDMP", "p", "manual", "*", "f", "v")
    assert raw.call("XADD", "s", "IDMPAUTO", "p", "*", "g", "w", "f", "v") == a
    assert raw.call("XADD", "s", "IDMP", "p", "manual", "*", "z", "z") == b
    # another pid does not see it
    c = raw.call("XADD", "s", "IDMPAUTO", "q", "*", *fields)
    assert c not in (a, b)
    assert counters(raw, "s") == (2, 3, 3, 3)


@pytest.mark.parametrize("pid,iid", [
    (b"\x00", b"\x00"),
    (b"a\x00b", b"\x00\x00\x00"),
    (bytes(range(256)), bytes(range(255, -1, -1))),
    (b"\xff\xfe\x80", b"\xc3\x28"),  # not UTF-8
    ("producteur-é-日本".encode(), "ид-✓".encode()),
    (b"p" * 65536, b"i" * 65536),
    (b"*", b"*"),
    (b"-", b"+"),
    (b"$", b">"),
    (b"IDMP", b"IDMPAUTO"),
    (b"NOMKSTREAM", b"MAXLEN"),
    (b"123-456", b"0-0"),
    (b" ", b"\r\n"),
])
def test_any_bytes_are_legal(raw, pid, iid):
    a = raw.call("XADD", "s", "IDMP", pid, iid, "*", "f", "v")
    assert isinstance(a, bytes) and b"-" in a
    assert raw.call("XADD", "s", "IDMP", pid, iid, "*", "f", "v") == a
    b = raw.call("XADD", "s", "IDMPAUTO", pid, "*", "f", "v")
    assert b != a
    assert raw.call("XADD", "s", "IDMPAUTO", pid, "*", "f", "v") == b
    assert raw.call("XLEN", "s") == 2
    assert counters(raw, "s") == (1, 2, 2, 2)


def test_binary_bytes_compare_exactly(raw):
    a = raw.call("XADD", "s", "IDMP", b"a\x00b", b"i", "*", "f", "v")
    b = raw.call("XADD", "s", "IDMP", b"a\x00c", b"i", "*", "f", "v")
    c = raw.call("XADD", "s", "IDMP", b"a", b"i", "*", "f", "v")
    d = raw.call("XADD", "s", "IDMP", b"a", b"i\x00", "*", "f", "v")
    e = raw.call("XADD", "s", "IDMP", b"A", b"i", "*", "f", "v")
    assert len({a, b, c, d, e}) == 5
    assert counters(raw, "s") == (4, 5, 5, 0)


def test_iid_star(raw):
    a = raw.call("XADD", "s", "IDMP", "p1", "*", "*", "f", "v")
    assert isinstance(a, bytes)
    assert raw.call("XADD", "s", "IDMP", "p1", "*", "*", "g", "w") == a
    assert raw.call("XRANGE", "s", "-", "+") == [[a, [b"f", b"v"]]]


def test_options_in_any_order_and_case(raw):
    for i in range(5):
        raw.call("XADD", "s", "*", "n", str(i))
    a = raw.call("XADD", "s", "MAXLEN", "3", "IDMP", "p", "i1", "*", "f", "v")
    assert raw.call("XLEN", "s") == 3
    b = raw.call("XADD", "s", "idmp", "p", "i2", "nomkstream", "maxlen", "=", "2", "*", "f", "v")
    assert raw.call("XLEN", "s") == 2
    c = raw.call("XADD", "s", "NOMKSTREAM", "IdmpAuto", "p", "MinId", "~", "0", "*", "f", "v")
    assert len({a, b, c}) == 3
    assert raw.call("XADD", "s", "IDMP", "p", "i1", "*", "x", "y") == a
    assert raw.call("XADD", "s", "IDMP", "p", "i2", "*", "x", "y") == b
    assert raw.call("XADD", "s", "IDMPAUTO", "p", "*", "f", "v") == c


def test_multi_exec_later_duplicate_sees_earlier_insert(srv, raw):
    assert raw.call("MULTI").value == b"OK"
    raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    raw.call("XADD", "s", "IDMP", "p", "i", "*", "g", "w")
    raw.call("XADD", "s", "IDMPAUTO", "p", "*", "f", "v")
    raw.call("XADD", "s", "IDMPAUTO", "p", "*", "f", "v")
    raw.call("XLEN", "s")
    out = raw.call("EXEC")
    assert isinstance(out, list) and len(out) == 5, out
    assert isinstance(out[0], bytes) and out[1] == out[0]
    assert isinstance(out[2], bytes) and out[3] == out[2] and out[2] != out[0]
    assert out[4] == 2
    assert counters(raw, "s") == (1, 2, 2, 2)


def test_script_later_duplicate_sees_earlier_insert(raw):
    script = (
        "local a = redis.call('XADD', KEYS[1], 'IDMP', 'p', 'i', '*', 'f', 'v') "
        "local b = redis.call('XADD', KEYS[1], 'IDMP', 'p', 'i', '*', 'f', 'v') "
        "return {a, b, redis.call('XLEN', KEYS[1])}"
    )
    out = raw.call("EVAL", script, "1", "s")
    assert isinstance(out, list) and out[0] == out[1] and out[2] == 1, out


def test_rejected_xadd_leaves_no_state(raw):
    # exhausted stream: the append fails after the duplicate lookup
    raw.call("XADD", "s", "18446744073709551615-18446744073709551615", "f", "v")
    before = xinfo(raw, "s")
    assert raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == ERR_EXHAUSTED
    assert raw.call("XADD", "s", "IDMPAUTO", "p", "*", "f", "v") == ERR_EXHAUSTED
    # still not a duplicate: nothing was recorded
    assert raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == ERR_EXHAUSTED
    after = xinfo(raw, "s")
    assert after == before
    assert counters(raw, "s") == (0, 0, 0, 0)


def test_option_errors_leave_no_counter_change(raw):
    a = raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    before = xinfo(raw, "s")
    bad = [
        ["IDMP", "p", "", "*", "f", "v"],
        ["IDMP", "p", "j", "1-1", "f", "v"],
        ["IDMP", "p", "j", "IDMP", "p", "k", "*", "f", "v"],
        ["IDMP", "p", "j", "*", "f", "v", "g"],
        ["IDMP", "p", "j", "MAXLEN", "-1", "*", "f", "v"],
        ["IDMP", "p", "j", "LIMIT", "5", "*", "f", "v"],
        ["IDMP", "p", "j", "MAXLEN", "1", "MINID", "1", "*", "f", "v"],
        ["IDMP", "p", "i", "1-1", "f", "v"],
    ]
    for argv in bad:
        assert isinstance(raw.call("XADD", "s", *argv), Err), argv
    assert xinfo(raw, "s") == before
    # j was never recorded
    b = raw.call("XADD", "s", "IDMP", "p", "j", "*", "f", "v")
    assert b != a
    assert counters(raw, "s") == (1, 2, 2, 0)


def test_trim_options_errors_native_strings(raw, nraw):
    """Trimming option errors combined with IDMP are the native 7.0 ones."""
    cases = [
        ["MAXLEN", "-1"],
        ["MAXLEN", "x"],
        ["LIMIT", "5"],
        ["MAXLEN", "5", "LIMIT", "5"],
        ["MAXLEN", "1", "MINID", "1"],
        ["MAXLEN", "~", "1", "LIMIT", "-1"],
        ["MINID", "abc"],
        ["FOO"],
    ]
    for opts in cases:
        native = nraw.call("XADD", "s", *opts, "*", "f", "v")
        assert isinstance(native, Err), opts
        assert raw.call("XADD", "s", *opts, "IDMP", "p", "i", "*", "f", "v") == native, opts
        assert raw.call("XADD", "s", "IDMPAUTO", "p", *opts, "*", "f", "v") == native, opts
    assert raw.call("EXISTS", "s") == 0


def test_large_values_and_many_fields(raw):
    fields = []
    for i in range(200):
        fields += [b"f%d" % i, b"v" * (i * 7)]
    a = raw.call("XADD", "s", "IDMP", "p", "i", "*", *fields)
    assert raw.call("XADD", "s", "IDMP", "p", "i", "*", "x", "y") == a
    b = raw.call("XADD", "s", "IDMPAUTO", "p", "*", *fields)
    assert raw.call("XADD", "s", "IDMPAUTO", "p", "*", *fields) == b
    assert raw.call("XRANGE", "s", "-", "+") == [[a, fields], [b, fields]]


def test_duplicate_lookup_comes_before_append_errors(raw):
    """A tracked pair answers its ID even where a fresh append would fail."""
    a = raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    raw.call("XADD", "s", "18446744073709551615-18446744073709551615", "f", "v")
    assert raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == a
    assert raw.call("XADD", "s", "IDMP", "p", "j", "*", "f", "v") == ERR_EXHAUSTED
    assert raw.call("XADD", "s", "NOMKSTREAM", "IDMPAUTO", "q", "*", "f", "v") == ERR_EXHAUSTED
    assert counters(raw, "s") == (1, 1, 1, 1)
