"""Random argv for every routed command: the server answers (usually an error),
never drops the connection, never dies, and the streams stay consistent."""

import random

import pytest

from diffgen import normalize
from resp import OK, Err

COMMANDS = ["XADD", "XRANGE", "XREVRANGE", "XLEN", "XDEL", "XTRIM", "XSETID", "XINFO",
            "XCFGSET", "XIDMPRECORD", "TYPE", "XREAD", "XGROUP", "XREADGROUP", "XACK",
            "XPENDING", "XCLAIM", "XAUTOCLAIM"]

KEYWORDS = ["IDMP", "IDMPAUTO", "NOMKSTREAM", "MAXLEN", "MINID", "=", "~", "LIMIT", "COUNT",
            "STREAMS", "STREAM", "FULL", "GROUPS", "CONSUMERS", "HELP", "ENTRIESADDED",
            "MAXDELETEDID", "IDMP-DURATION", "IDMP-MAXSIZE", "DURATION", "MAXSIZE", "CREATE",
            "SETID", "DESTROY", "CREATECONSUMER", "DELCONSUMER", "MKSTREAM", "ENTRIESREAD",
            "GROUP", "NOACK", "IDLE", "TIME", "RETRYCOUNT", "FORCE", "JUSTID", "LASTID",
            "KEEPREF", "DELREF", "ACKED", "idmp", "maxlen", "full"]
NUMBERS = ["0", "1", "2", "-1", "5", "100", "10000", "86400", "86401", "10001",
           "18446744073709551615", "18446744073709551616", "9223372036854775807",
           "-9223372036854775808", "9223372036854775808", "99999999999999999999999",
           "1e10", "0x10", "3.5", "+1", "00", "-0", " 1"]
IDS = ["*", "-", "+", "$", ">", "(1", "(", "1-*", "0-0", "0-1", "1-1", "1", "1-", "-1-1",
       "18446744073709551615-18446744073709551615", "(18446744073709551615-18446744073709551615",
       "18446744073709551615-*", "1-18446744073709551616", "(-", "(+", "1-1-1", "*-*"]
KEYS = ["s", "str", "missing", "g"]


def token(rnd):
    x = rnd.random()
    if x < 0.25:
        return rnd.choice(KEYWORDS)
    if x < 0.45:
        return rnd.choice(NUMBERS)
    if x < 0.65:
        return rnd.choice(IDS)
    if x < 0.75:
        return rnd.choice(KEYS)
    if x < 0.8:
        return rnd.choice(["", "\x00", b"\xff\xfe", b"\xc3\x28", "é", "\r\n", " "])
    if x < 0.97:
        return bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 12)))
    return rnd.choice([b"x" * 70000, b"\x00" * 1000, "9" * 500])


def random_argv(rnd, cmd):
    argv = [cmd if rnd.random() < 0.8 else cmd.lower()]
    if cmd == "XINFO" and rnd.random() < 0.7:
        argv.append(rnd.choice(["STREAM", "GROUPS", "CONSUMERS", "HELP", "stream", "x"]))
    if cmd == "XGROUP" and rnd.random() < 0.7:
        argv.append(rnd.choice(["CREATE", "SETID", "DESTROY", "CREATECONSUMER",
                                "DELCONSUMER", "HELP", "x"]))
    if cmd in ("XREAD", "XREADGROUP"):
        n = rnd.choice([0, 1, 2, 3, 4, 5, 6, 8])
        argv += [token(rnd) for _ in range(n)]
        # never block the fuzzing connection
        argv = [a for a in argv if not (isinstance(a, str) and a.upper() == "BLOCK")]
        return argv
    if rnd.random() < 0.85:
        argv.append(rnd.choice(KEYS))
    n = rnd.choice([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 14])
    argv += [token(rnd) for _ in range(n)]
    return argv


def _setup(c):
    c.call("XADD", "s", "1-1", "f", "v")
    c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    c.call("XADD", "g", "1-1", "f", "v")
    c.call("XGROUP", "CREATE", "g", "grp", "0")
    c.call("SET", "str", "x")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_random_argv(srv, raw, cmd):
    rnd = random.Random("bad-input-" + cmd)
    _setup(raw)
    raw.sock.settimeout(20)
    for i in range(400):
        argv = random_argv(rnd, cmd)
        try:
            raw.call(*argv)
        except Exception as e:  # a dropped connection or a hang is the failure
            pytest.fail("%r: %s\nlog:\n%s" % (argv[:12], e, srv.log_tail(20)))
        if i % 50 == 0:
            assert raw.call("PING").value == b"PONG"
    _consistent(raw)


def _consistent(c):
    assert c.call("PING").value == b"PONG"
    for k in ("s", "g"):
        if c.call("EXISTS", k) and c.call("TYPE", k).value == b"stream":
            assert not isinstance(c.call("XINFO", "STREAM", k, "FULL"), Err)
            assert not isinstance(c.call("XRANGE", k, "-", "+"), Err)
            assert not isinstance(c.call("DEBUG", "DIGEST-VALUE", k), Err)
    assert not isinstance(c.call("DEBUG", "RELOAD"), Err)


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_arity(raw, cmd):
    _setup(raw)
    for n in range(0, 9):
        for key in ("s", "missing", "str"):
            argv = [cmd] + ([key] if n else []) + ["1-1"] * max(0, n - 1)
            if cmd in ("XREAD", "XREADGROUP"):
                argv = [cmd] + ["STREAMS"] * min(n, 1) + ["s"] * max(0, n - 1)
            reply = raw.call(*argv)
            assert reply is None or isinstance(reply, (Err, bytes, int, list)) \
                or hasattr(reply, "value"), (argv, reply)
    assert raw.call("PING").value == b"PONG"


def test_non_utf8_everywhere(raw):
    _setup(raw)
    junk = b"\xff\x00\xfe\x80\xc0"
    for cmd in COMMANDS:
        for pos in range(1, 6):
            argv = [cmd, "s", "IDMP", "p", "i", "*", "f", "v"][:max(pos + 1, 2)]
            argv[pos] = junk
            raw.call(*argv)
    assert raw.call("XADD", junk, "IDMP", junk, junk, "*", junk, junk) != b""
    assert raw.call("XLEN", junk) == 1
    assert raw.call("XADD", junk, "IDMPAUTO", junk, "*", junk, junk)
    assert raw.call("XCFGSET", junk, "IDMP-DURATION", "5") == OK
    _consistent(raw)


def test_huge_counts(raw, nraw):
    """Huge COUNT/LIMIT/MAXLEN values: same answers as native 7.0 (XINFO's
    radix-tree-* and IDMP fields aside)."""
    for c in (raw, nraw):
        for i in range(1, 30):
            c.call("XADD", "s", "%d-1" % i, "f", "v")
    big = ["18446744073709551615", "9223372036854775807", "9223372036854775808", "-1",
           "-9223372036854775808", "4294967296"]
    cases = []
    for b in big:
        cases += [
            ["XRANGE", "s", "-", "+", "COUNT", b],
            ["XREVRANGE", "s", "+", "-", "COUNT", b],
            ["XREAD", "COUNT", b, "STREAMS", "s", "0"],
            ["XINFO", "STREAM", "s", "FULL", "COUNT", b],
            ["XTRIM", "s", "MAXLEN", "~", b, "LIMIT", b],
            ["XTRIM", "s", "MAXLEN", b],
            ["XADD", "s", "MAXLEN", "~", b, "LIMIT", b, "100-%d" % len(cases), "f", "v"],
            ["XSETID", "s", "200-0", "ENTRIESADDED", b],
        ]
    mismatches = []
    for argv in cases:
        m, n = normalize(argv, raw.call(*argv)), normalize(argv, nraw.call(*argv))
        if m != n:
            mismatches.append((argv, m, n))
    assert not mismatches, "\n".join("%r\n  module: %.200r\n  native: %.200r" % x
                                      for x in mismatches)
