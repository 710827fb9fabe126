"""IDMP exactness: the same command sequences against the module (on the host)
and native Redis 8.6.3 (``o86``), replies compared byte for byte in RESP2 and
RESP3, and XINFO STREAM (plain and FULL) compared after every command.

Auto-generated IDs are made deterministic by giving each stream a first entry
far in the future (``9000000000000-0``): ``*`` then yields ``9000000000000-1``,
``-2``, ... on both servers whatever their clocks. Streams the commands under
test create themselves get clock IDs; those are compared as tokens in order of
first appearance (``ClockIds``). The deliberate differences
(SPEC.md's header) are tested separately at the end, each against 8.6.3's
actual answer, so that a change on either side shows.
"""

import re
import time

import pytest

from resp import Err, RMap

FUTURE = "9000000000000-0"
KEYS = ["s", "t", "missing", "str"]


class ClockIds:
    """Maps IDs made from a server's clock (streams created by the commands
    under test) to tokens in order of first appearance, so that two servers'
    replies compare whatever their clocks; other IDs are left as they are."""

    def __init__(self):
        self.seen = {}

    def norm(self, v):
        if isinstance(v, bytes) and _CLOCK_ID.match(v):
            return self.seen.setdefault(v, b"<clock-id-%d>" % len(self.seen))
        if isinstance(v, RMap):
            return RMap((self.norm(k), self.norm(x)) for k, x in v)
        if isinstance(v, list):
            return type(v)(self.norm(x) for x in v)
        return v


_CLOCK_ID = re.compile(rb"^1[0-9]{12}-[0-9]+$")


class Pair:
    def __init__(self, mod, nat):
        self.mod, self.nat = mod, nat
        self.mids, self.nids = ClockIds(), ClockIds()

    def both(self, argv, what=None):
        a = self.mids.norm(self.mod.call(*argv))
        b = self.nids.norm(self.nat.call(*argv))
        return a, b


def _compare(mod, nat, argv, pair=None):
    pair = pair or Pair(mod, nat)
    a, b = pair.both(argv)
    assert a == b, (argv, a, b)
    return a


def _compare_state(pair, argv):
    for k in KEYS:
        _compare(pair.mod, pair.nat, ["TYPE", k], pair)
        for sub in (["XINFO", "STREAM", k], ["XINFO", "STREAM", k, "FULL"]):
            a, b = pair.both(sub)
            if sub[-1] == "FULL" and isinstance(b, (list, RMap)) and _has_groups(b):
                continue  # delivery and seen times are clock values
            assert a == b, (argv, sub, a, b)


def _has_groups(info):
    if isinstance(info, RMap):
        return bool(info.get(b"groups"))
    d = dict(zip(info[::2], info[1::2]))
    return bool(d.get(b"groups"))


def run_both(mod, nat, script):
    """Run ``script`` (argv lists) on both servers; compare every reply and,
    after every command, the streams' XINFO."""
    pair = Pair(mod, nat)
    for argv in script:
        _compare(mod, nat, argv, pair)
        _compare_state(pair, argv)


def setup():
    return [["SET", "str", "x"], ["XADD", "s", FUTURE, "f", "v"]]


def cmds(*lines):
    return [ln.split() if isinstance(ln, str) else list(ln) for ln in lines]


SCRIPTS = {
    "xadd_option_errors": cmds(
        "XADD s IDMP p i 1-1 f v",
        "XADD s IDMP p i 5 f v",
        "XADD s IDMP p i 123-* f v",
        "XADD s IDMPAUTO p 1-1 f v",
        "XADD s IDMPAUTO p 0-0 f v",
        "XADD s IDMP p1 * f v",
        "XADD s IDMP p i bad f v",
        ["XADD", "s", "IDMP", "", "i", "*", "f", "v"],
        ["XADD", "s", "IDMP", "p", "", "*", "f", "v"],
        ["XADD", "s", "IDMP", "", "", "*", "f", "v"],
        ["XADD", "s", "IDMPAUTO", "", "*", "f", "v"],
        "XADD s IDMP p i IDMP p i * f v",
        "XADD s IDMPAUTO p IDMP p i * f v",
        "XADD s IDMP p i IDMPAUTO p * f v",
        "XADD s IDMPAUTO p IDMPAUTO q * f v",
        ["XADD", "s", "IDMP", "p", "i", "IDMPAUTO", "", "*", "f", "v"],
        "XADD s IDMP p i IDMP p i 1-1 f v",
        "XADD s IDMP p",
        "XADD s IDMP p i",
        "XADD s IDMP p i *",
        "XADD s IDMP p i * f",
        "XADD s IDMPAUTO p *",
        "XADD s IDMP p i * f v f",
        "XADD s IDMP p i 1-1 f",
        "XADD s IDMP p i 1-1",
        "XADD s IDMP p i LIMIT 5 1-1 f v",
        "XADD s IDMP p i MAXLEN 1 LIMIT 5 1-1 f v",
        "XADD s LIMIT 5 IDMP p i * f v",
        "XADD s IDMP p i LIMIT 5 * f v",
        "XADD s IDMP p i MAXLEN x 1-1 f v",
        "XADD s IDMP p i MAXLEN 1 MINID 0 * f v",
        "XADD s IDMP p i KEEPREF DELREF * f v",
        "XADD s ACKED acked IDMP p i * f v",
        "XADD s IDMPAT 5 * f v",
        "XADD s IDMP p i IDMPAT 5 * f v",
        "XADD s IDMPCFG 5 5 * f v",
        "XADD s IDMP p i NOMKSTREAM 1-1 f v",
        "XADD s idmp p i 1-1 f v",
        "XADD s IdmpAuto p 1-1 f v",
        "XTRIM s MAXLEN 1 KEEPREF DELREF",
        "XTRIM s MAXLEN 1 IDMP p i",
    ),
    "errors_before_key": cmds(
        # option errors win over WRONGTYPE and over NOMKSTREAM on a missing key
        "XADD str IDMP p i 1-1 f v",
        "XADD str IDMP p i IDMP p i * f v",
        ["XADD", "str", "IDMP", "", "i", "*", "f", "v"],
        "XADD missing NOMKSTREAM IDMP p i 1-1 f v",
        ["XADD", "missing", "NOMKSTREAM", "IDMPAUTO", "", "*", "f", "v"],
        "XADD str IDMP p i * f",
        "XADD str IDMP p i * f v",
        "XADD str IDMPAUTO p * f v",
        "XADD missing NOMKSTREAM IDMP p i * f v",
        "XADD missing IDMP p i NOMKSTREAM * f v",
        "XADD missing NOMKSTREAM IDMPAUTO p * f v",
    ),
    "duplicates_and_trims": cmds(
        "XADD s IDMP p i * f v",
        "XADD s IDMP p i * other content",
        "XADD s IDMP p i MAXLEN 0 * f v",
        "XADD s IDMP p j MAXLEN 1 * f v",
        "XADD s IDMP p i * f v",
        "XADD s IDMP p i NOMKSTREAM * f v",
        "XADD s IDMP q i * f v",
        "XADD s IDMPAUTO p * f v",
        "XADD s IDMPAUTO p * f v",
        "XADD s IDMPAUTO p * g w f v",
        "XADD s IDMPAUTO p * f v g w",
        "XADD s IDMPAUTO q * f v",
        "XADD s IDMP p * * f v",
        "XADD s IDMP * * * f v",
        "XADD s IDMP * * * f v",
        "XADD s IDMP IDMP IDMP * f v",
        "XADD s IDMP p MAXLEN * f v",
        "XADD s MINID ~ 0 IDMP p k * f v",
        "XADD s IDMP p k MINID ~ 0 * f v",
        "XADD s IDMP p k MAXLEN = 2 LIMIT 0 * f v",
        "XADD s MAXLEN ~ 2 IDMP p m * f v",
        "XDEL s 9000000000000-1",
        "XADD s IDMP p i * f v",
        "XTRIM s MAXLEN 0",
        "XADD s IDMP p i * f v",
        "XADD s IDMP p new * f v",
        "XLEN s",
        "XRANGE s - +",
    ),
    "delete_strategies_with_idmp": cmds(
        "XGROUP CREATE s g 0",
        "XADD s IDMP p a * f v",
        "XADD s IDMP p b * f v",
        "XREADGROUP GROUP g c COUNT 1 STREAMS s >",
        "XADD s KEEPREF IDMP p c MAXLEN 1 * f v",
        "XADD s DELREF IDMP p d MAXLEN 1 * f v",
        "XADD s ACKED IDMP p e MAXLEN 1 * f v",
        "XADD s IDMP p a ACKED MAXLEN 0 * f v",
        "XADD s IDMPAUTO q KEEPREF * x y",
        "XADD s IDMPAUTO q DELREF * x y",
        "XPENDING s g",
        "XLEN s",
    ),
    "xcfgset": cmds(
        "XCFGSET missing",
        "XCFGSET missing FOO",
        "XCFGSET missing IDMP-DURATION 5",
        "XCFGSET str",
        "XCFGSET str IDMP-DURATION 0",
        "XCFGSET s",
        "XCFGSET s FOO",
        "XCFGSET s FOO 1",
        "XCFGSET s IDMP-DURATION",
        "XCFGSET s IDMP-DURATION 10 IDMP-DURATION 10",
        "XCFGSET s IDMP-MAXSIZE 10 IDMP-MAXSIZE 10",
        "XCFGSET s IDMP-DURATION 0 IDMP-DURATION 10",
        "XCFGSET s IDMP-DURATION 10 IDMP-DURATION 0",
        "XCFGSET s IDMP-DURATION 10 IDMP-DURATION",
        "XCFGSET s IDMP-DURATION 10 FOO",
        "XCFGSET s FOO IDMP-DURATION 0",
        "XCFGSET s IDMP-DURATION A",
        "XCFGSET s IDMP-DURATION 3.14",
        "XCFGSET s IDMP-DURATION 000",
        "XCFGSET s IDMP-DURATION 010",
        "XCFGSET s IDMP-DURATION -1",
        "XCFGSET s IDMP-DURATION 86401",
        "XCFGSET s IDMP-MAXSIZE 0",
        "XCFGSET s IDMP-MAXSIZE 10001",
        "XCFGSET s IDMP-MAXSIZE 99999999999999999999",
        "XADD s IDMP p a * f v",
        "XADD s IDMP p b * f v",
        "XCFGSET s IDMP-DURATION 100",
        "XCFGSET s IDMP-DURATION 100 IDMP-MAXSIZE 100",
        "XADD s IDMP p a * f v",
        "XCFGSET s IDMP-MAXSIZE 1",
        "XADD s IDMP p a * f v",
        "XADD s IDMP p b * f v",
        "XADD s IDMP p a * f v",
        "XCFGSET s idmp-maxsize 5 idmp-duration 7",
        "XCFGSET s IDMP-DURATION 86400 IDMP-MAXSIZE 10000",
        "XCFGSET s IDMP-MAXSIZE 2 IDMP-DURATION",
    ),
    "xidmprecord": cmds(
        "XIDMPRECORD s p i " + FUTURE,
        "XIDMPRECORD s p i " + FUTURE,
        "XIDMPRECORD s p i 9000000000000-1",
        "XIDMPRECORD s p j 1-1",
        "XIDMPRECORD s p i2 9000000000000",
        "XIDMPRECORD missing p i 1-1",
        "XIDMPRECORD str p i 1-1",
        "XIDMPRECORD str p i x",
        "XIDMPRECORD missing p i x",
        ["XIDMPRECORD", "s", "", "i", "1-1"],
        ["XIDMPRECORD", "s", "p", "", "1-1"],
        ["XIDMPRECORD", "missing", "", "", "1-1"],
        ["XIDMPRECORD", "missing", "", "", "x"],
        "XIDMPRECORD s p i 0-0",
        "XIDMPRECORD s p i *",
        "XIDMPRECORD s p i 1-*",
        "XIDMPRECORD s p i",
        "XIDMPRECORD s p i 1-1 x",
        "XIDMPRECORD s p i 1-1 IDMPAT 5",
        "XADD s IDMP p i * f v",
        "XADD s IDMP p new * f v",
        "XIDMPRECORD s p new 9000000000000-1",
        "XIDMPRECORD s p new " + FUTURE,
        "XDEL s " + FUTURE,
        "XIDMPRECORD s q gone " + FUTURE,
        "XADD s IDMP p i * f v",
        "XCFGSET s IDMP-MAXSIZE 1",
        "XIDMPRECORD s p a 9000000000000-1",
        "XIDMPRECORD s p b 9000000000000-1",
        "XADD s IDMP p a * f v",
    ),
    "entries_without_producers": cmds(
        "XADD s 9000000000000-5 f v",
        "XADD s IDMP p i * f v",
        "XADD s IDMP p i * f v",
        "XADD t 1-1 f v",
        "XDEL t 1-1",
        "XADD t IDMPAUTO p * f v",
        "XADD t IDMPAUTO p * f v",
        "XSETID t 9000000000001-0",
        "XADD t IDMPAUTO p * f v",
        "XADD t IDMP p x * f v",
    ),
    "new_streams": cmds(
        "XADD t IDMP p i * f v",
        "XADD t IDMP p i * f v",
        "XADD missing NOMKSTREAM IDMPAUTO p * f v",
        "DEL t",
        "XADD t IDMPAUTO p * a b",
        "XADD t IDMPAUTO p MAXLEN 0 * a b",
        "XADD t IDMPAUTO p MAXLEN 0 * a c",
    ),
}


def _prefix(script):
    # streams whose auto IDs are deterministic on both servers
    pre = setup()
    if any(a[:2] in (["XADD", "t"], ["XADD", "missing"]) for a in script) and \
            ["XADD", "t", "1-1", "f", "v"] not in script:
        pre.append(["XADD", "t", FUTURE, "f", "v"])
    return pre


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_same_as_863_resp2(raw, o86, name):
    script = SCRIPTS[name]
    run_both(raw, o86, _prefix(script) + script)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_same_as_863_resp3(raw3, o86_3, name):
    script = SCRIPTS[name]
    run_both(raw3, o86_3, _prefix(script) + script)


def test_in_multi_and_scripts(raw, o86):
    run_both(raw, o86, setup() + cmds(
        "MULTI",
        "XADD s IDMP p i * f v",
        "XADD s IDMP p i * f v",
        "XADD s IDMP p i 1-1 f v",
        "XCFGSET s IDMP-DURATION 5 IDMP-DURATION 5",
        "XIDMPRECORD s p j 9000000000000-1",
        "EXEC",
        ["EVAL", "return redis.call('XADD', KEYS[1], 'IDMP', 'p', 'k', '*', 'f', 'v')",
         "1", "s"],
        ["EVAL", "return redis.pcall('XADD', KEYS[1], 'IDMP', 'p', 'k', '1-1', 'f', 'v')",
         "1", "s"],
        ["EVAL", "return redis.pcall('XCFGSET', KEYS[1])", "1", "s"],
        ["EVAL", "return redis.pcall('XIDMPRECORD', KEYS[1], '', 'x', '1-1')", "1", "s"],
    ))


# -- configs ------------------------------------------------------------------

@pytest.fixture
def restore(raw, o86):
    yield
    for c in (raw, o86):
        c.call("CONFIG", "SET", "stream-idmp-duration", "100")
        c.call("CONFIG", "SET", "stream-idmp-maxsize", "100")


def test_config_get_set_native_names(raw, o86, restore):
    for argv in cmds(
        "CONFIG GET stream-idmp-duration",
        "CONFIG GET stream-idmp-maxsize",
        "CONFIG SET stream-idmp-duration 50",
        "CONFIG SET stream-idmp-maxsize 7",
        "CONFIG GET stream-idmp-duration",
        "CONFIG GET stream-idmp-maxsize",
        "CONFIG SET stream-idmp-duration 1",
        "CONFIG SET stream-idmp-duration 86400",
        "CONFIG SET stream-idmp-maxsize 1",
        "CONFIG SET stream-idmp-maxsize 10000",
    ):
        _compare(raw, o86, argv)
    run_both(raw, o86, cmds("XADD s IDMP p i * f v", "XADD s IDMP p i * f v"))


def _as_dict(reply):
    """A CONFIG GET reply as a dict: the order is the server's hash order,
    random per process on 8.6.3 too."""
    items = list(reply) if isinstance(reply, RMap) else list(zip(reply[::2], reply[1::2]))
    d = dict(items)
    assert len(d) == len(items), reply
    return d


@pytest.mark.parametrize("args", [
    ["stream-idmp-duration"],
    ["STREAM-IDMP-DURATION"],
    ["stream-idmp-maxsize", "stream-idmp-duration"],
    ["stream-idmp-duration", "Stream-Idmp-Duration"],
    ["stream-idmp-*"],
    ["STREAM-IDMP-*"],
    ["stream-idmp-?uration"],
    ["stream-idmp-[dm]*"],
    ["stream-idmp-[^d]*"],
    ["stream-idmp-duration", "stream-idmp-*"],
    ["stream-idmp-duration", "maxmemory"],
    ["stream-idmp-*", "maxmemory", "hz"],
    ["nosuchconfig"],
    ["stream-idmp-x*"],
])
def test_config_get_names_and_patterns(raw, raw3, o86, o86_3, restore, args):
    for c in (raw, o86):
        c.call("CONFIG", "SET", "stream-idmp-maxsize", "7")
    for mod, nat in ((raw, o86), (raw3, o86_3)):
        a, b = mod.call("CONFIG", "GET", *args), nat.call("CONFIG", "GET", *args)
        assert type(a) is type(b)
        assert _as_dict(a) == _as_dict(b), (args, a, b)


def test_config_get_pattern_also_lists_module_names(raw, o86):
    """A pattern matching the module's own names lists them too (they are
    configs of the host): a superset of 8.6.3's answer."""
    mine = _as_dict(raw.call("CONFIG", "GET", "*idmp*"))
    native = _as_dict(o86.call("CONFIG", "GET", "*idmp*"))
    assert native == {b"stream-idmp-duration": b"100", b"stream-idmp-maxsize": b"100"}
    assert mine == {**native, b"idmp.stream-idmp-duration": b"100",
                    b"idmp.stream-idmp-maxsize": b"100",
                    b"idmp.capture-new-streams": b"yes",
                    b"idmp.aof-rewrite-native": b"no"}


@pytest.mark.parametrize("name,value", [
    ("stream-idmp-duration", "0"), ("stream-idmp-duration", "86401"),
    ("stream-idmp-maxsize", "0"), ("stream-idmp-maxsize", "10001"),
    ("stream-idmp-maxsize", "abc"), ("stream-idmp-duration", "-1"),
    ("STREAM-IDMP-MAXSIZE", "0"),
])
def test_config_set_errors(raw, o86, restore, name, value):
    _compare(raw, o86, ["CONFIG", "SET", name, value])
    _compare(raw, o86, ["CONFIG", "GET", name])


@pytest.mark.parametrize("args", [
    ["stream-idmp-duration"],
    ["stream-idmp-duration", "5", "maxmemory"],
    ["stream-idmp-duration", "5", "stream-idmp-duration", "6"],
    ["stream-idmp-duration", "5", "Stream-Idmp-Duration", "6"],
    ["stream-idmp-duration", "5", "STREAM-IDMP-MAXSIZE", "0"],
    ["maxmemory", "0", "stream-idmp-maxsize", "0"],
    ["stream-idmp-maxsize", "5", "nosuch", "1"],
    ["stream-idmp-maxsize", "5", "stream-idmp-duration", "6"],
])
def test_config_set_several(raw, o86, restore, args):
    _compare(raw, o86, ["CONFIG", "SET"] + args)
    assert _as_dict(raw.call("CONFIG", "GET", "stream-idmp-*")) == \
        _as_dict(o86.call("CONFIG", "GET", "stream-idmp-*"))


# -- deliberate differences, each against 8.6.3's actual answer ----------------

def _idmp(info):
    d = dict(zip(info[::2], info[1::2]))
    return tuple(d[k] for k in (b"pids-tracked", b"iids-tracked", b"iids-added",
                                b"iids-duplicates"))


def test_failed_xadd_idmp_leaves_no_producer(raw, o86):
    """#15840: 8.6.3 leaves an empty producer behind a failed XADD IDMP."""
    for c in (raw, o86):
        c.call("XADD", "s", "18446744073709551615-18446744073709551615", "f", "v")
        assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == Err(
            b"ERR The stream has exhausted the last possible ID, unable to add more items")
    assert _idmp(o86.call("XINFO", "STREAM", "s")) == (1, 0, 0, 0)
    assert _idmp(raw.call("XINFO", "STREAM", "s")) == (0, 0, 0, 0)


def test_aliases_are_an_extension(raw, o86):
    for c in (raw, o86):
        c.call("XADD", "s", "1-1", "f", "v")
    assert o86.call("XCFGSET", "s", "DURATION", "5") == Err(b"ERR syntax error")
    assert raw.call("XCFGSET", "s", "DURATION", "5").value == b"OK"


def test_expiry_and_capacity_on_clock_ids(raw, o86):
    """On a stream whose IDs follow the clock both expiry rules agree: after
    IDMP-DURATION seconds the pair is forgotten (8.6.3 by its cron, the
    module exactly), counted out of XINFO, and a retry adds a new entry."""
    pair = Pair(raw, o86)

    def same(*argv):
        a, b = pair.both(list(argv))
        assert a == b, (argv, a, b)
        return a

    same("XADD", "s", "*", "f", "v")
    same("XCFGSET", "s", "IDMP-DURATION", "1", "IDMP-MAXSIZE", "2")
    first = same("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
    same("XADD", "s", "IDMP", "p", "b", "*", "f", "v")
    same("XADD", "s", "IDMP", "p", "c", "*", "f", "v")   # evicts a
    same("XADD", "s", "IDMP", "p", "a", "*", "f", "v")   # a is new again, evicts b
    same("XADD", "s", "IDMP", "p", "c", "*", "f", "v")   # duplicate
    same("XINFO", "STREAM", "s")
    # 8.6.3's cron expires once a second: wait for it to have run after expiry
    time.sleep(2.3)
    same("XINFO", "STREAM", "s")
    again = same("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
    assert again != first
    same("XINFO", "STREAM", "s")


def _strip_docs(v):
    # display_text needs Redis 7.2+; group/module say "module command"
    if isinstance(v, RMap):
        return RMap((k, _strip_docs(x)) for k, x in v
                    if k not in (b"display_text", b"group", b"module"))
    if isinstance(v, list):
        return [_strip_docs(x) for x in v]
    return v


@pytest.mark.parametrize("name", ["xcfgset", "xidmprecord"])
def test_command_docs_and_info(raw3, o86_3, name):
    mine = _strip_docs(raw3.call("COMMAND", "DOCS", name))
    native = _strip_docs(o86_3.call("COMMAND", "DOCS", name))
    assert mine == native
    (mi,), (ni,) = raw3.call("COMMAND", "INFO", name), o86_3.call("COMMAND", "INFO", name)
    # name, arity, first/last/step and key specs; flags without the host's
    # "module"; ACL categories exist only where the host can set them
    assert mi[:2] == ni[:2] and mi[3:6] == ni[3:6] and mi[8] == ni[8]
    assert [f for f in mi[2] if f.value != b"module"] == list(ni[2])


def test_forwarded_native_streams(server_factory, o86, o86_3):
    """With capture off a stream stays native (forwarded) until an IDMP
    command converts it: XINFO STREAM's IDMP fields, the conversion by XADD
    IDMP and XCFGSET, and the replies all as on 8.6.3."""
    srv = server_factory(module_args={"idmp.capture-new-streams": "no"})
    script = cmds(
        "XADD s 9000000000000-0 f v",
        "XADD t 9000000000000-0 f v",
        "XCFGSET s",
        "XCFGSET s IDMP-DURATION 0",
        "XADD s IDMP p i * f v",
        "XADD s IDMP p i * f v",
        "XIDMPRECORD t p i 1-1",
        "XIDMPRECORD t p i 9000000000000-0",
        "XADD t IDMP p i * f v",
        "XCFGSET t IDMP-MAXSIZE 5",
    )
    try:
        for mod, nat in ((srv.raw(), o86), (srv.raw(protocol=3), o86_3)):
            mod.call("FLUSHALL")
            nat.call("FLUSHALL")
            run_both(mod, nat, script)
            mod.close()
    finally:
        for c in (o86, o86_3):
            c.call("FLUSHALL")
