"""SPEC section 4: XCFGSET and the module configs; every error compared with
native Redis 8.6.3 (``o86``), which looks the key up before it reads the
options."""

import pytest

from resp import OK, Err
from util import ERR_NO_SUCH_KEY, WRONGTYPE, arity_err, counters, xinfo

ERR_NONE = Err(b"ERR At least one parameter must be specified")
ERR_DUR_TWICE = Err(b"ERR IDMP-DURATION specified multiple times")
ERR_MAX_TWICE = Err(b"ERR IDMP-MAXSIZE specified multiple times")
ERR_SYNTAX = Err(b"ERR syntax error")
ERR_INT = Err(b"ERR value is not an integer or out of range")
ERR_DUR = Err(b"ERR IDMP-DURATION must be between 1 and 86400 seconds")
ERR_MAX = Err(b"ERR IDMP-MAXSIZE must be between 1 and 10000 entries")


def settings(raw, key="s"):
    d = xinfo(raw, key)
    return d[b"idmp-duration"], d[b"idmp-maxsize"]


@pytest.fixture
def s(raw):
    raw.call("XADD", "s", "1-1", "f", "v")
    return raw


def test_arity(raw):
    assert raw.call("XCFGSET") == arity_err("xcfgset")


@pytest.mark.parametrize("args,err", [
    ([], ERR_NONE),
    (["FOO", "1"], ERR_SYNTAX),
    (["IDMP-DURATION"], ERR_SYNTAX),
    (["IDMP-MAXSIZE"], ERR_SYNTAX),
    (["IDMP-DURATION", "10", "IDMP-MAXSIZE"], ERR_SYNTAX),
    (["IDMP-DURATION", "10", "junk"], ERR_SYNTAX),
    (["IDMP-DURATION", "10", "IDMP-MAXSIZE", "5", "IDMP-DURATION"], ERR_SYNTAX),
    (["IDMPDURATION", "10"], ERR_SYNTAX),
    (["IDMP-DURATION", "A"], ERR_INT),
    (["IDMP-DURATION", "3.14"], ERR_INT),
    (["IDMP-DURATION", "120-5"], ERR_INT),
    (["IDMP-DURATION", "+"], ERR_INT),
    (["IDMP-DURATION", "+5"], ERR_INT),
    (["IDMP-DURATION", "000"], ERR_INT),
    (["IDMP-DURATION", "010"], ERR_INT),
    (["IDMP-DURATION", "-0"], ERR_INT),
    (["IDMP-DURATION", ""], ERR_INT),
    (["IDMP-DURATION", " 5"], ERR_INT),
    (["IDMP-DURATION", "5 "], ERR_INT),
    (["IDMP-DURATION", "99999999999999999999"], ERR_INT),
    (["IDMP-MAXSIZE", "ten"], ERR_INT),
    (["IDMP-MAXSIZE", "1e3"], ERR_INT),
    (["IDMP-DURATION", "0"], ERR_DUR),
    (["IDMP-DURATION", "86401"], ERR_DUR),
    (["IDMP-DURATION", "-1"], ERR_DUR),
    (["IDMP-DURATION", "-86400"], ERR_DUR),
    (["IDMP-DURATION", "9223372036854775807"], ERR_DUR),
    (["IDMP-DURATION", "4294967297"], ERR_DUR),
    (["IDMP-MAXSIZE", "0"], ERR_MAX),
    (["IDMP-MAXSIZE", "10001"], ERR_MAX),
    (["IDMP-MAXSIZE", "-5"], ERR_MAX),
    (["IDMP-MAXSIZE", "4294967297"], ERR_MAX),
    # left to right, the first problem wins
    (["IDMP-DURATION", "0", "IDMP-MAXSIZE", "A"], ERR_DUR),
    (["IDMP-MAXSIZE", "A", "IDMP-DURATION", "0"], ERR_INT),
    (["IDMP-MAXSIZE", "0", "IDMP-DURATION", "0"], ERR_MAX),
    (["IDMP-DURATION", "0", "FOO"], ERR_DUR),
    (["FOO", "IDMP-DURATION", "0"], ERR_SYNTAX),
    # a repeated option, refused when its keyword is reached with a value
    (["IDMP-DURATION", "5", "IDMP-DURATION", "0"], ERR_DUR_TWICE),
    (["IDMP-DURATION", "5", "IDMP-DURATION", "5"], ERR_DUR_TWICE),
    (["IDMP-DURATION", "10", "IDMP-DURATION", "20"], ERR_DUR_TWICE),
    (["IDMP-MAXSIZE", "5", "IDMP-DURATION", "5", "IDMP-MAXSIZE", "A"], ERR_MAX_TWICE),
    (["IDMP-DURATION", "0", "IDMP-DURATION", "5"], ERR_DUR),
    (["IDMP-DURATION", "5", "IDMP-DURATION"], ERR_SYNTAX),
    # the aliases (an extension: 8.6.3 answers a syntax error)
    (["DURATION", "0"], ERR_DUR),
    (["MAXSIZE", "10001"], ERR_MAX),
    (["DURATION", "5", "IDMP-DURATION", "20"], ERR_DUR_TWICE),
    (["MAXSIZE", "5", "maxsize", "20"], ERR_MAX_TWICE),
])
def test_errors(s, o86, args, err):
    before = xinfo(s, "s")
    assert s.call("XCFGSET", "s", *args) == err
    assert xinfo(s, "s") == before
    # the key is looked up first: a missing key or another type wins
    s.call("SET", "str", "x")
    assert s.call("XCFGSET", "missing", *args) == ERR_NO_SUCH_KEY
    assert s.call("XCFGSET", "str", *args) == WRONGTYPE
    assert s.call("EXISTS", "missing") == 0
    # native 8.6.3 answers the same (the aliases are not native)
    if not any(a.lower() in ("duration", "maxsize") for a in args):
        o86.call("XADD", "s", "1-1", "f", "v")
        o86.call("SET", "str", "x")
        assert o86.call("XCFGSET", "s", *args) == err
        assert o86.call("XCFGSET", "missing", *args) == ERR_NO_SUCH_KEY
        assert o86.call("XCFGSET", "str", *args) == WRONGTYPE


def test_missing_key_and_wrongtype(raw):
    assert raw.call("XCFGSET", "s", "IDMP-DURATION", "5") == ERR_NO_SUCH_KEY
    assert raw.call("XCFGSET", "s", "MAXSIZE", "5") == ERR_NO_SUCH_KEY
    assert raw.call("EXISTS", "s") == 0
    raw.call("SET", "str", "x")
    assert raw.call("XCFGSET", "str", "IDMP-MAXSIZE", "5") == WRONGTYPE
    raw.call("LPUSH", "list", "x")
    assert raw.call("XCFGSET", "list", "IDMP-DURATION", "5") == WRONGTYPE


def test_defaults_and_set(s):
    assert settings(s) == (100, 100)
    assert s.call("XCFGSET", "s", "IDMP-DURATION", "300") == OK
    assert settings(s) == (300, 100)
    assert s.call("XCFGSET", "s", "IDMP-MAXSIZE", "1000") == OK
    assert settings(s) == (300, 1000)
    assert s.call("XCFGSET", "s", "IDMP-DURATION", "86400", "IDMP-MAXSIZE", "10000") == OK
    assert settings(s) == (86400, 10000)
    assert s.call("XCFGSET", "s", "IDMP-MAXSIZE", "1", "IDMP-DURATION", "1") == OK
    assert settings(s) == (1, 1)


def test_aliases_and_case(s):
    assert s.call("XCFGSET", "s", "DURATION", "300") == OK
    assert s.call("XCFGSET", "s", "MAXSIZE", "1000") == OK
    assert settings(s) == (300, 1000)
    assert s.call("XCFGSET", "s", "duration", "600", "maxsize", "500") == OK
    assert settings(s) == (600, 500)
    assert s.call("XCFGSET", "s", "idmp-duration", "7", "Idmp-MaxSize", "8") == OK
    assert settings(s) == (7, 8)
    assert s.call("XCFGSET", "s", "DURATION", "9", "IDMP-MAXSIZE", "10") == OK
    assert settings(s) == (9, 10)


def test_aliases_rejected_natively(o86):
    """The aliases are this module's extension: 8.6.3 answers a syntax error."""
    o86.call("XADD", "s", "1-1", "f", "v")
    assert o86.call("XCFGSET", "s", "DURATION", "5") == ERR_SYNTAX
    assert o86.call("XCFGSET", "s", "MAXSIZE", "5") == ERR_SYNTAX


def _fill(raw):
    a = raw.call("XADD", "s", "IDMP", "p1", "i1", "*", "f", "v")
    b = raw.call("XADD", "s", "IDMP", "p2", "i1", "*", "f", "v")
    assert raw.call("XADD", "s", "IDMP", "p1", "i1", "*", "f", "v") == a
    return a, b


def test_clears_only_on_real_change(s):
    a, b = _fill(s)
    assert counters(s, "s") == (2, 2, 2, 1)
    entries = s.call("XRANGE", "s", "-", "+")
    # same values: nothing cleared
    assert s.call("XCFGSET", "s", "IDMP-DURATION", "100") == OK
    assert s.call("XCFGSET", "s", "IDMP-MAXSIZE", "100") == OK
    assert s.call("XCFGSET", "s", "IDMP-DURATION", "100", "IDMP-MAXSIZE", "100") == OK
    assert s.call("XCFGSET", "s", "DURATION", "100", "MAXSIZE", "100") == OK
    assert counters(s, "s") == (2, 2, 2, 1)
    assert s.call("XADD", "s", "IDMP", "p1", "i1", "*", "f", "v") == a
    assert counters(s, "s") == (2, 2, 2, 2)
    # one value differs: everything cleared, lifetime counters and entries kept
    assert s.call("XCFGSET", "s", "IDMP-DURATION", "100", "IDMP-MAXSIZE", "99") == OK
    assert counters(s, "s") == (0, 0, 2, 2)
    assert s.call("XRANGE", "s", "-", "+") == entries
    # the old pairs are new again
    c = s.call("XADD", "s", "IDMP", "p1", "i1", "*", "f", "v")
    assert c not in (a, b)
    assert counters(s, "s") == (1, 1, 3, 2)
    assert s.call("XCFGSET", "s", "IDMP-DURATION", "50") == OK
    assert counters(s, "s") == (0, 0, 3, 2)
    assert settings(s) == (50, 99)


def test_failed_xcfgset_changes_nothing(s):
    a, _ = _fill(s)
    assert s.call("XCFGSET", "s", "IDMP-DURATION", "70", "IDMP-MAXSIZE", "0") == ERR_MAX
    assert s.call("XCFGSET", "s", "IDMP-DURATION", "70", "BOGUS") == ERR_SYNTAX
    assert settings(s) == (100, 100)
    assert counters(s, "s") == (2, 2, 2, 1)
    assert s.call("XADD", "s", "IDMP", "p1", "i1", "*", "f", "v") == a


def test_works_on_stream_that_never_used_idmp(s):
    assert counters(s, "s") == (0, 0, 0, 0)
    assert s.call("XCFGSET", "s", "IDMP-MAXSIZE", "2") == OK
    ids = [s.call("XADD", "s", "IDMP", "p", "i%d" % i, "*", "f", "v") for i in range(3)]
    assert counters(s, "s") == (1, 2, 3, 0)
    assert s.call("XADD", "s", "IDMP", "p", "i2", "*", "f", "v") == ids[2]


def test_empty_stream_after_xdel(raw):
    raw.call("XADD", "s", "1-1", "f", "v")
    raw.call("XDEL", "s", "1-1")
    assert raw.call("XCFGSET", "s", "IDMP-DURATION", "3") == OK
    assert settings(raw) == (3, 100)


# -- module configs -----------------------------------------------------------

def config_get(raw, name):
    reply = raw.call("CONFIG", "GET", name)
    assert isinstance(reply, list) and len(reply) == 2, reply
    return reply[1]


@pytest.fixture
def restore_configs(raw):
    yield raw
    raw.call("CONFIG", "SET", "idmp.stream-idmp-duration", "100")
    raw.call("CONFIG", "SET", "idmp.stream-idmp-maxsize", "100")


def test_config_defaults(raw):
    assert raw.call("CONFIG", "GET", "idmp.stream-idmp-duration") == [
        b"idmp.stream-idmp-duration", b"100"]
    assert raw.call("CONFIG", "GET", "idmp.stream-idmp-maxsize") == [
        b"idmp.stream-idmp-maxsize", b"100"]
    assert config_get(raw, "stream-idmp-duration") == b"100"
    assert config_get(raw, "stream-idmp-maxsize") == b"100"


def test_new_stream_takes_config_defaults(restore_configs):
    raw = restore_configs
    raw.call("XADD", "old", "*", "f", "v")
    assert raw.call("CONFIG", "SET", "idmp.stream-idmp-duration", "7") == OK
    assert raw.call("CONFIG", "SET", "idmp.stream-idmp-maxsize", "3") == OK
    assert config_get(raw, "idmp.stream-idmp-duration") == b"7"
    raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    assert settings(raw, "s") == (7, 3)
    raw.call("XADD", "s2", "*", "f", "v")
    assert settings(raw, "s2") == (7, 3)
    # an existing stream keeps its own settings
    assert settings(raw, "old") == (100, 100)
    # capacity of the new stream is the config's
    for i in range(5):
        raw.call("XADD", "s", "IDMP", "p", "j%d" % i, "*", "f", "v")
    assert counters(raw, "s") == (1, 3, 6, 0)
    # XCFGSET overrides per stream
    assert raw.call("XCFGSET", "s2", "IDMP-MAXSIZE", "50") == OK
    assert settings(raw, "s2") == (7, 50)


def test_config_native_names(restore_configs):
    raw = restore_configs
    assert raw.call("CONFIG", "SET", "stream-idmp-duration", "11") == OK
    assert raw.call("CONFIG", "SET", "stream-idmp-maxsize", "12") == OK
    assert config_get(raw, "stream-idmp-duration") == b"11"
    assert config_get(raw, "stream-idmp-maxsize") == b"12"
    assert config_get(raw, "idmp.stream-idmp-duration") == b"11"
    assert config_get(raw, "idmp.stream-idmp-maxsize") == b"12"
    raw.call("XADD", "s", "*", "f", "v")
    assert settings(raw, "s") == (11, 12)
    assert raw.call("config", "set", "Stream-Idmp-Duration", "13") == OK
    assert config_get(raw, "idmp.stream-idmp-duration") == b"13"


@pytest.mark.parametrize("name,value", [
    ("idmp.stream-idmp-duration", "0"),
    ("idmp.stream-idmp-duration", "86401"),
    ("idmp.stream-idmp-duration", "-1"),
    ("idmp.stream-idmp-maxsize", "0"),
    ("idmp.stream-idmp-maxsize", "10001"),
    ("stream-idmp-duration", "0"),
    ("stream-idmp-duration", "86401"),
    ("stream-idmp-maxsize", "0"),
    ("stream-idmp-maxsize", "10001"),
])
def test_config_out_of_range(restore_configs, name, value):
    raw = restore_configs
    reply = raw.call("CONFIG", "SET", name, value)
    assert isinstance(reply, Err), reply
    assert b"must be between" in reply.value, reply
    assert config_get(raw, "idmp.stream-idmp-duration") == b"100"
    assert config_get(raw, "idmp.stream-idmp-maxsize") == b"100"


def test_config_bounds_accepted(restore_configs):
    raw = restore_configs
    for name in ("idmp.stream-idmp-duration", "stream-idmp-duration"):
        assert raw.call("CONFIG", "SET", name, "1") == OK
        assert raw.call("CONFIG", "SET", name, "86400") == OK
    for name in ("idmp.stream-idmp-maxsize", "stream-idmp-maxsize"):
        assert raw.call("CONFIG", "SET", name, "1") == OK
        assert raw.call("CONFIG", "SET", name, "10000") == OK
    raw.call("XADD", "s", "*", "f", "v")
    assert settings(raw, "s") == (86400, 10000)


def test_module_config_on_command_line(server_factory):
    srv = server_factory(module_args={"idmp.stream-idmp-duration": "5",
                                      "idmp.stream-idmp-maxsize": "6"})
    with srv.raw() as c:
        assert config_get(c, "idmp.stream-idmp-duration") == b"5"
        assert config_get(c, "idmp.stream-idmp-maxsize") == b"6"
        c.call("XADD", "s", "*", "f", "v")
        assert settings(c) == (5, 6)
