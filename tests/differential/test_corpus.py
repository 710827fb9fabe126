"""Issue 12 (a): the corpus of cases.py against native Redis 8.6.3, RESP2 and RESP3."""

import pytest

from cases import CASES
from harness import compare_sequence
from server import host_is

# Cases that still diverge, by exact name, with the reason. Each row of the
# README table "Differences from Redis 8.6.3" names its cases here. A mark is
# exact per host and protocol: strict (an unexpected pass fails) on the hosts
# where the case differs, and no mark where the host answers as 8.6.3. (The
# subcommand order of COMMAND INFO/DOCS, random per process in 8.6.3 itself,
# is sorted on both sides by the harness: XINFO and XGROUP compare exactly
# otherwise.) The host
# is the REDIS_SERVER binary's own report of its flavor and version
# (server.host_is); checked on Redis 7.0.15, 7.2.4, 7.4.1, 8.0.6, 8.2.3 and
# Valkey 8.0.1, 9.1.2.
ALIASES = ("extension: XCFGSET also accepts the seed's spellings DURATION/MAXSIZE "
           "(SPEC.md, deliberate differences); 8.6.3 answers a syntax error")
KNOWN = {"xcfgset/DURATION 5": ALIASES, "xcfgset/MAXSIZE 5": ALIASES}

REDIS70 = host_is("redis", before=(7, 2))
REDIS82 = host_is("redis", since=(8, 2))  # native XDELEX/XACKDEL, KEEPREF/DELREF/ACKED
VALKEY9 = host_is("valkey", since=(9,))

# COMMAND INFO/DOCS of the standard commands come from the host's own command
# table (a module cannot change the metadata of the server's commands, and the
# filter routes calls, not COMMAND).
HOST_DOCS = "host: COMMAND DOCS of the standard commands is the host's own command table"
DOCS70 = HOST_DOCS + ": Redis 7.0's summaries, no display_text, other argument names"
DOCS86 = {
    "XADD": HOST_DOCS + ": no IDMP/IDMPAUTO arguments (8.6)",
    "XREADGROUP": HOST_DOCS + ": no CLAIM argument (8.6)",
    "XINFO": HOST_DOCS + ": XINFO STREAM's history lacks 8.6.0's IDMP fields",
}
DOCS82 = HOST_DOCS + ": XTRIM without KEEPREF/DELREF/ACKED (Redis 8.2)"
DOCS_VALKEY9 = (HOST_DOCS + ": Valkey 9 corrects the summaries of XLEN, XCLAIM, XAUTOCLAIM "
                "(8.6.3: `Return the number...`, `...was delivered a consumer group member.`, "
                "`...were delivered to as consumer group member.`)")
DOCS_XGROUP72 = (HOST_DOCS + ": Redis 7.2 names XGROUP CREATE's argument `entries-read` "
                 "(8.6.3: `entriesread`)")
# Valkey 9 answers an empty subcommands field as a RESP3 set (`~0`), 8.6.3 as
# an array (`*0`): every standard command's COMMAND INFO in RESP3 (XINFO and
# XGROUP through their subcommands' own); in RESP2 both are arrays.
INFO_VALKEY9 = ("host: Valkey 9's COMMAND INFO answers an empty subcommands field as a "
                "RESP3 set (~0), 8.6.3 as an array (*0)")
HOST_MODCMD = ("host: a module command is flagged `module`%s; XACKDEL's key spec lacks "
               "UPDATE (a module key spec takes one of INSERT/UPDATE/DELETE)"
               % (" and, on Redis 7.0, has no ACL categories (RedisModule_SetCommandACLCategories "
                  "is 7.2+)" if REDIS70 else ""))
HOST_MODDOCS = "host: a module command's COMMAND DOCS has group `module` and a `module` field"
HOST_HELP = ("not routed: XINFO HELP / XGROUP HELP have no key and are answered by the "
             "host's own command: Redis 7.0's `Prints this help.`")
HOST_ENCODING = "host: OBJECT ENCODING of a module data type is `raw`"
# (CONFIG GET of exact names and of globs such as `stream-*` answers as 8.6.3;
# a glob that also matches the module's own names, `*idmp*`, lists those too:
# tests/test_idmp_vs86.py.)

MODULE_CMDS = ("XCFGSET", "XIDMPRECORD")
NATIVE82 = ("XDELEX", "XACKDEL")  # the module's own commands before Redis 8.2


def _docs(cmd):
    """(reason, strict) of COMMAND DOCS ``cmd`` on this host, or None."""
    if cmd in MODULE_CMDS or (cmd in NATIVE82 and not REDIS82):
        return HOST_MODDOCS, True
    if cmd in NATIVE82:
        return None
    if cmd in DOCS86:
        return DOCS86[cmd], True
    if REDIS70:
        return DOCS70, True
    if cmd == "XTRIM" and not REDIS82:
        return DOCS82, True
    if cmd == "XGROUP" and host_is("redis", before=(7, 4)):
        return DOCS_XGROUP72, True
    if cmd in ("XLEN", "XCLAIM", "XAUTOCLAIM") and VALKEY9:
        return DOCS_VALKEY9, True
    return None


def _info(cmd, protocol):
    """(reason, strict) of COMMAND INFO ``cmd`` on this host, or None."""
    if cmd in MODULE_CMDS or (cmd in NATIVE82 and not REDIS82):
        return HOST_MODCMD, True
    if VALKEY9 and protocol == 3:
        return INFO_VALKEY9, True
    return None


def _difference(name, protocol):
    """(reason, strict) of corpus case ``name`` in RESP``protocol`` on this
    host, or None when it answers as 8.6.3."""
    if name in KNOWN:
        return KNOWN[name], True
    kind, _, rest = name.partition("/")
    if kind == "command-docs":
        return _docs(rest)
    if kind == "command-info":
        return _info(rest, protocol)
    if kind in ("xinfo", "xgroup") and rest.endswith("/HELP") and REDIS70:
        return HOST_HELP, True
    if name == "type-encoding":
        return HOST_ENCODING, True
    return None


def _marks(name, protocol):
    d = _difference(name, protocol)
    return [pytest.mark.xfail(reason=d[0], strict=d[1])] if d else []


# `pair` is parametrized here (indirect) rather than by its fixture, so that a
# mark can depend on the protocol; the ids stay `resp2-<case>`, `resp3-<case>`.
@pytest.mark.parametrize("pair, commands", [
    pytest.param(protocol, seq, id="resp%d-%s" % (protocol, name), marks=_marks(name, protocol))
    for protocol in (2, 3) for name, seq in CASES], indirect=["pair"])
def test_case(pair, commands):
    native, module = pair
    compare_sequence(native, module, commands)
