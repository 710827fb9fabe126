"""Category-based ACL users on servers where module commands carry ACL categories
(Redis 7.2+, Valkey: RedisModule_SetCommandACLCategories).

Every routed command (and XCFGSET/XIDMPRECORD) must carry the native categories of
its original, so that users defined by categories get the native verdicts, and a
denial must be the native one: NOPERM text naming the original command, ACL LOG
entry with the original name. Redis 7.0 has no categories for module commands
(README, "Valkey"): skipped there.
"""

import pytest

from resp import OK, Err
from server import host_is_redis70
from util import pairs

pytestmark = pytest.mark.skipif(
    host_is_redis70(), reason="Redis 7.0 cannot give module commands ACL categories")

# (module command, the native command (or subcommand) whose categories it carries)
CATEGORY_PAIRS = [
    ("idmp.xadd", "xadd"), ("idmp.xrange", "xrange"), ("idmp.xrevrange", "xrevrange"),
    ("idmp.xlen", "xlen"), ("idmp.xdel", "xdel"), ("idmp.xtrim", "xtrim"),
    ("idmp.xsetid", "xsetid"), ("idmp.xinfo", "xinfo|stream"), ("idmp.type", "type"),
    ("idmp.xread", "xread"), ("idmp.xreadgroup", "xreadgroup"),
    ("idmp.xgroup", "xgroup|create"), ("idmp.xack", "xack"), ("idmp.xpending", "xpending"),
    ("idmp.xclaim", "xclaim"), ("idmp.xautoclaim", "xautoclaim"),
    ("idmp.configget", "config|get"),
]

# Every routed command, in an order where each one has something to act on.
COMMANDS = [
    ["XRANGE", "s", "-", "+"], ["XREVRANGE", "s", "+", "-"], ["XLEN", "s"],
    ["XINFO", "STREAM", "s"], ["XINFO", "GROUPS", "s"], ["XINFO", "CONSUMERS", "s", "g"],
    ["TYPE", "s"], ["XREAD", "STREAMS", "s", "0"], ["XPENDING", "s", "g"],
    ["XADD", "s", "*", "f", "v"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
    ["XCLAIM", "s", "g", "c2", "0", "1-1"], ["XAUTOCLAIM", "s", "g", "c", "0", "0"],
    ["XACK", "s", "g", "1-1"], ["XGROUP", "CREATECONSUMER", "s", "g", "c3"],
    ["XGROUP", "CREATE", "s", "g2", "0"], ["XSETID", "s", "999999999999999-0"],
    ["XTRIM", "s", "MAXLEN", "100"], ["XDEL", "s", "2-1"],
]

USERS = {
    "reader": ["+@read", "~*"],
    "streamer": ["+@stream", "~*"],
    "nowrite": ["+@all", "-@write", "~*"],
    "nostream": ["+@all", "-@stream", "~*"],
    "noslow": ["+@all", "-@slow", "~*"],
    "noblocking": ["+@all", "-@blocking", "~*"],
    "readkeys": ["+@all", "%R~*"],
    "otherkeys": ["+@all", "~other*"],
}


def _setup(c):
    c.call("ACL", "LOG", "RESET")
    c.call("XADD", "s", "1-1", "f", "v")
    c.call("XADD", "s", "2-1", "f", "v")
    c.call("XGROUP", "CREATE", "s", "g", "0")
    c.call("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">")
    for user, rules in USERS.items():
        c.call("ACL", "SETUSER", user, "reset", "on", "nopass", *rules)


def _log(c):
    out = []
    for entry in c.call("ACL", "LOG"):
        e = dict(pairs(entry))
        out.append((e[b"count"], e[b"reason"], e[b"context"], e[b"object"],
                    e[b"username"]))
    return out


def test_module_commands_carry_native_categories(srv, native_srv):
    with srv.raw() as m, native_srv.raw() as n:
        for mod, native in CATEGORY_PAIRS:
            want = n.call("COMMAND", "INFO", native)[0][6]
            got = m.call("COMMAND", "INFO", mod)[0][6]
            assert sorted(x.value for x in got) == sorted(x.value for x in want), \
                (mod, native, got, want)


@pytest.mark.parametrize("user", list(USERS))
def test_category_users_get_native_verdicts(srv, native_srv, user):
    with srv.raw() as m, native_srv.raw() as n:
        for c in (m, n):
            c.call("FLUSHALL")
            _setup(c)
        assert m.call("OBJECT", "ENCODING", "s") != b"stream"  # a module stream
        for c in (m, n):
            assert c.call("AUTH", user, "x") == OK
        for argv in COMMANDS:
            want, got = n.call(*argv), m.call(*argv)
            if isinstance(want, Err) and want.value.startswith(b"NOPERM"):
                assert got == want, argv
            else:
                # allowed natively: allowed through the module too (replies may
                # differ only where module streams keep Redis 7.0 semantics)
                assert not (isinstance(got, Err) and got.value.startswith(b"NOPERM")), \
                    (argv, got)
        for c in (m, n):
            c.call("AUTH", "default", "x")
        assert _log(m) == _log(n)


@pytest.mark.parametrize("user", ["nowrite", "readkeys"])
def test_denials_in_multi_and_scripts(srv, native_srv, user):
    """MULTI: the native queue-time denial and EXECABORT, exactly. Scripts: the
    native verdict (README, "Valkey": the error text may name idmp.xadd there)."""
    with srv.raw() as m, native_srv.raw() as n:
        for c in (m, n):
            c.call("FLUSHALL")
            _setup(c)
            assert c.call("AUTH", user, "x") == OK
        for c in (m, n):
            assert c.call("MULTI") == OK
        assert m.call("XADD", "s", "*", "f", "v") == n.call("XADD", "s", "*", "f", "v")
        assert m.call("EXEC") == n.call("EXEC")
        script = "return redis.call('XADD', KEYS[1], '*', 'f', 'v')"
        want, got = n.call("EVAL", script, "1", "s"), m.call("EVAL", script, "1", "s")
        assert isinstance(want, Err) and isinstance(got, Err), (want, got)
        assert got.value.startswith((b"NOPERM", b"ERR ACL failure in script")), got
        assert m.call("XLEN", "s") == n.call("XLEN", "s") == 2
        for c in (m, n):
            c.call("AUTH", "default", "x")
