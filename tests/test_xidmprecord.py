"""SPEC section 7: XIDMPRECORD key pid iid stream-id, each reply compared with
native Redis 8.6.3 (``o86``) where 8.6.3 can answer the same question."""

import time

import pytest

from resp import OK, Err, Simple
from util import ERR_INVALID_ID, ERR_NO_SUCH_KEY, WRONGTYPE, arity_err, counters

ERR_EMPTY_PID = Err(b"ERR producer ID must be non-empty")
ERR_EMPTY_IID = Err(b"ERR idempotent ID must be non-empty")
ERR_GONE = Err(b"ERR No such message in stream")
ERR_OTHER = Err(b"ERR IID already exists for this producer with a different stream ID")


class Both:
    """The module server and native 8.6.3 side by side: ``call`` sends to
    both and asserts the same reply."""

    def __init__(self, mod, nat):
        self.mod, self.nat = mod, nat

    def call(self, *argv):
        a, b = self.mod.call(*argv), self.nat.call(*argv)
        assert a == b, (argv, a, b)
        return a


@pytest.fixture
def s(raw, o86):
    both = Both(raw, o86)
    for i in range(1, 6):
        both.call("XADD", "s", "%d-0" % i, "f", str(i))
    return both


@pytest.fixture
def b(raw, o86):
    return Both(raw, o86)


@pytest.mark.parametrize("argv", [
    ["XIDMPRECORD"],
    ["XIDMPRECORD", "s"],
    ["XIDMPRECORD", "s", "p"],
    ["XIDMPRECORD", "s", "p", "i"],
    ["XIDMPRECORD", "s", "p", "i", "1-0", "extra"],
    ["xidmprecord", "s", "p", "i", "1-0", "a", "b"],
    ["XIDMPRECORD", "s", "p", "i", "1-0", "IDMPAT", "5"],
])
def test_arity(s, argv):
    assert s.call(*argv) == arity_err("xidmprecord")


def test_missing_key(b):
    assert b.call("XIDMPRECORD", "s", "p", "i", "1-0") == ERR_NO_SUCH_KEY
    assert b.call("EXISTS", "s") == 0


def test_wrongtype(b):
    b.call("SET", "str", "x")
    assert b.call("XIDMPRECORD", "str", "p", "i", "1-0") == WRONGTYPE


@pytest.mark.parametrize("argv,err", [
    # the ID first, then the pid, then the iid, then the key
    (["missing", "", "", "bad"], ERR_INVALID_ID),
    (["str", "", "", "bad"], ERR_INVALID_ID),
    (["missing", "", "", "1-0"], ERR_EMPTY_PID),
    (["str", "", "i", "1-0"], ERR_EMPTY_PID),
    (["missing", "p", "", "1-0"], ERR_EMPTY_IID),
    (["str", "p", "", "1-0"], ERR_EMPTY_IID),
    (["s", "", "", "*"], ERR_INVALID_ID),
    (["s", "p", "i", "1-*"], ERR_INVALID_ID),
    (["s", "p", "i", "-"], ERR_INVALID_ID),
])
def test_order_of_checks(s, argv, err):
    s.call("SET", "str", "x")
    assert s.call("XIDMPRECORD", *argv) == err


@pytest.mark.parametrize("sid", ["abc", "1-x", "-1", "1-2-3", "", "18446744073709551616-0",
                                 "1.5"])
def test_invalid_id(s, sid):
    assert s.call("XIDMPRECORD", "s", "p", "i", sid) == ERR_INVALID_ID
    assert counters(s, "s") == (0, 0, 0, 0)


def test_empty_pid_and_iid(s):
    assert s.call("XIDMPRECORD", "s", "", "i", "1-0") == ERR_EMPTY_PID
    assert s.call("XIDMPRECORD", "s", "", "", "1-0") == ERR_EMPTY_PID
    assert s.call("XIDMPRECORD", "s", "p", "", "1-0") == ERR_EMPTY_IID
    assert counters(s, "s") == (0, 0, 0, 0)


@pytest.mark.parametrize("sid", ["6-0", "0-1", "3-1", "99999-0", "18446744073709551615-18446744073709551615"])
def test_id_names_no_entry(s, sid):
    assert s.call("XIDMPRECORD", "s", "p", "i", sid) == ERR_GONE
    assert counters(s, "s") == (0, 0, 0, 0)


def test_deleted_and_trimmed_entries(s):
    s.call("XDEL", "s", "3-0")
    assert s.call("XIDMPRECORD", "s", "p", "i", "3-0") == ERR_GONE
    s.call("XTRIM", "s", "MINID", "2-0")
    assert s.call("XIDMPRECORD", "s", "p", "i", "1-0") == ERR_GONE
    assert s.call("XIDMPRECORD", "s", "p", "i", "2-0") == OK
    assert counters(s.mod, "s") == counters(s.nat, "s") == (1, 1, 1, 0)


def test_record_then_duplicate(s):
    assert s.call("XIDMPRECORD", "s", "p", "i", "2-0") == OK
    # a recorded mapping counts in iids-added, as on 8.6.3
    assert counters(s.mod, "s") == counters(s.nat, "s") == (1, 1, 1, 0)
    assert s.call("XADD", "s", "IDMP", "p", "i", "*", "x", "y") == b"2-0"
    assert counters(s.mod, "s") == counters(s.nat, "s") == (1, 1, 1, 1)
    assert s.call("XLEN", "s") == 5
    # a short ID form is accepted like any stream ID argument
    assert s.call("XIDMPRECORD", "s", "p", "j", "4") == OK
    assert s.call("XADD", "s", "IDMP", "p", "j", "*", "x", "y") == b"4-0"


def test_idempotent_ok(s):
    assert s.call("XIDMPRECORD", "s", "p", "i", "2-0") == OK
    assert s.call("XIDMPRECORD", "s", "p", "i", "2-0") == OK
    assert s.call("XIDMPRECORD", "s", "p", "i", "2") == OK
    assert counters(s.mod, "s") == counters(s.nat, "s") == (1, 1, 1, 0)


def test_pair_maps_to_other_id(s):
    assert s.call("XIDMPRECORD", "s", "p", "i", "2-0") == OK
    assert s.call("XIDMPRECORD", "s", "p", "i", "3-0") == ERR_OTHER
    # other pid, same iid: independent
    assert s.call("XIDMPRECORD", "s", "q", "i", "3-0") == OK
    assert counters(s.mod, "s") == counters(s.nat, "s") == (2, 2, 2, 0)
    assert s.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == b"2-0"
    assert s.call("XADD", "s", "IDMP", "q", "i", "*", "f", "v") == b"3-0"


def test_pair_added_by_xadd(s):
    assert s.call("XADD", "s", "IDMP", "p", "i", "6-0", "f", "v") == Err(
        b"ERR syntax error, IDMP/IDMPAUTO can be used only with auto-generated IDs")
    a = s.mod.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    b = s.mod.call("XADD", "s", "*", "f", "v")
    assert s.mod.call("XIDMPRECORD", "s", "p", "i", a) == OK
    assert s.mod.call("XIDMPRECORD", "s", "p", "i", b) == ERR_OTHER
    assert counters(s.mod, "s") == (1, 1, 1, 0)


def test_mapping_survives_entry_deletion_for_idempotent_ok(s):
    assert s.call("XIDMPRECORD", "s", "p", "i", "2-0") == OK
    s.call("XDEL", "s", "2-0")
    # the pair is still tracked: XADD answers the original ID
    assert s.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == b"2-0"


def test_capacity_applies(s):
    assert s.call("XCFGSET", "s", "IDMP-MAXSIZE", "2") == OK
    for n in (1, 2, 3):
        assert s.call("XIDMPRECORD", "s", "p", "i%d" % n, "%d-0" % n) == OK
    assert counters(s.mod, "s") == counters(s.nat, "s") == (1, 2, 3, 0)
    # i1 was evicted: XADD with it is fresh
    new = s.mod.call("XADD", "s", "IDMP", "p", "i1", "*", "f", "v")
    assert new not in (b"1-0", b"2-0", b"3-0")
    assert s.nat.call("XADD", "s", "IDMP", "p", "i1", "*", "f", "v") not in (
        b"1-0", b"2-0", b"3-0")
    assert s.call("XADD", "s", "IDMP", "p", "i3", "*", "f", "v") == b"3-0"


def test_expired_pair_can_be_recorded_elsewhere(s):
    # Expiry by insertion time is a deliberate difference (SPEC header):
    # the module alone is checked after the sleep.
    s = s.mod
    assert s.call("XCFGSET", "s", "IDMP-DURATION", "1") == OK
    assert s.call("XIDMPRECORD", "s", "p", "i", "2-0") == OK
    assert s.call("XIDMPRECORD", "s", "p", "i", "3-0") == ERR_OTHER
    time.sleep(1.3)
    assert counters(s, "s") == (0, 0, 1, 0)
    assert s.call("XIDMPRECORD", "s", "p", "i", "3-0") == OK


def test_binary_pid_iid(s):
    pid, iid = b"\x00\xff" * 1000, b"\r\n\x00"
    assert s.call("XIDMPRECORD", "s", pid, iid, "5-0") == OK
    assert s.call("XADD", "s", "IDMP", pid, iid, "*", "f", "v") == b"5-0"


def test_simple_string_reply_resp3(raw3, o86_3):
    b = Both(raw3, o86_3)
    b.call("XADD", "s", "1-0", "f", "v")
    assert b.call("XIDMPRECORD", "s", "p", "i", "1-0") == Simple(b"OK")
    assert b.call("XIDMPRECORD", "s", "p", "i", "1-0") == Simple(b"OK")
    assert b.call("XIDMPRECORD", "s", "p", "i", "2-0") == ERR_GONE
    assert b.call("XIDMPRECORD", "s", "", "i", "1-0") == ERR_EMPTY_PID


def test_command_info_arity_5(b):
    (info,) = b.mod.call("COMMAND", "INFO", "XIDMPRECORD")
    (native,) = b.nat.call("COMMAND", "INFO", "XIDMPRECORD")
    assert info[1] == native[1] == 5
