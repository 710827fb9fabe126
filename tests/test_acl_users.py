"""Issue 6: locked-down ACL users get exactly the native answer for every routed
command, and the ACL LOG names the original command.

Every (profile, command) pair runs the command as that user on three servers:

- ``mod``: the module server, where the keys are module streams;
- ``fwd``: a module server with ``idmp.capture-new-streams no``, where the keys are
  native streams the module forwards (or converts, for IDMP and XCFGSET);
- ``nat``: a plain server of the same binary without the module (the oracle).

Each command runs once per key in ``KEYS``, which the profiles' key patterns treat
differently (read-only, write-only, read-write, allowed after ``resetkeys``).
Compared: the reply (a native NOPERM exactly; an allowed command's reply exactly
where the stream semantics are the same), the state of every key afterwards (a
denied command changes nothing, not even the digest), and the ACL LOG entries
(count, reason, context, object, username).

Commands Redis 7.0 does not have (XCFGSET, XIDMPRECORD, XDELEX, XACKDEL) are
judged by the native command with the same ACL categories and key spec (their
Redis 8.2/8.6 definitions: ``@write @stream @fast``, key RW UPDATE or RW DELETE):
XSETID and XDEL. The expected answer is that command's native answer with the name
replaced.
"""

import pytest

from diffgen import normalize
from resp import OK, Err, Simple
from server import RedisServer, host_is_redis70
from util import full_as_70, full_groups_as_70, pairs

HOST70 = host_is_redis70()

KEYS = ["rw:s", "ro:s", "wo:s", "allowed:s"]

# The module commands that stand for native ones. On Redis 7.0 module commands
# belong to no ACL category, so a category-based user must be granted them
# explicitly (README, "Permissions"); the module then checks the original.
ROUTED = ["idmp.xadd", "idmp.xrange", "idmp.xrevrange", "idmp.xlen", "idmp.xdel",
          "idmp.xtrim", "idmp.xsetid", "idmp.xinfo", "idmp.type", "idmp.xread",
          "idmp.xreadgroup", "idmp.xgroup", "idmp.xack", "idmp.xpending",
          "idmp.xclaim", "idmp.xautoclaim"]

PROFILES = {
    "noxadd": ["~*", "&*", "+@all", "-xadd"],
    "nowrite": ["~*", "&*", "+@all", "-@write"],
    "read": ["~*", "&*", "+@read"],
    "keypatterns": ["&*", "+@all", "%R~ro:*", "%W~wo:*", "~rw:*"],
    "resetkeys": ["&*", "+@all", "~*", "resetkeys", "~allowed:*"],
    # rules for a first argument (deprecated by Redis 7, still honoured):
    # the command runs only with that argument, here the key
    "firstarg": ["~*", "&*", "+@all", "-xlen", "+xlen|rw:s", "-xadd", "+xadd|rw:s",
                 "-xrange", "+xrange|ro:s", "-type", "+type|wo:s", "-xread",
                 "+xread|streams"],
}


def profile_rules(profile, with_module):
    rules = list(PROFILES[profile])
    if profile == "read" and with_module and HOST70:
        rules += ["+" + c for c in ROUTED]
    return rules


# (id, argv with "K" for the key, kind, proxy)
# kind "native": a Redis 7.0 command; "ext": a native command with a module-only
# option (the native server denies it exactly, or answers a syntax error where the
# module succeeds); "own": a module-only command, judged by ``proxy``.
COMMANDS = [
    ("xadd", ["XADD", "K", "5-1", "f", "v"], "native", None),
    ("xadd-newkey", ["XADD", "K:new", "5-1", "f", "v"], "native", None),
    ("xadd-idmp", ["XADD", "K", "IDMP", "p", "i1", "*", "f", "v"], "ext", None),
    ("xadd-idmpauto", ["XADD", "K", "IDMPAUTO", "p", "*", "f", "v"], "ext", None),
    ("xadd-idmp-newkey", ["XADD", "K:new", "IDMP", "p", "i1", "*", "f", "v"], "ext", None),
    ("xadd-nomkstream", ["XADD", "K", "NOMKSTREAM", "5-1", "f", "v"], "native", None),
    ("xadd-nomkstream-newkey", ["XADD", "K:new", "NOMKSTREAM", "5-1", "f", "v"],
     "native", None),
    ("xadd-maxlen", ["XADD", "K", "MAXLEN", "2", "5-1", "f", "v"], "native", None),
    ("xrange", ["XRANGE", "K", "-", "+"], "native", None),
    ("xrevrange", ["XREVRANGE", "K", "+", "-", "COUNT", "2"], "native", None),
    ("xlen", ["XLEN", "K"], "native", None),
    ("type", ["TYPE", "K"], "native", None),
    ("xdel", ["XDEL", "K", "2-1"], "native", None),
    ("xtrim", ["XTRIM", "K", "MAXLEN", "1"], "native", None),
    ("xsetid", ["XSETID", "K", "10-1"], "native", None),
    ("xinfo-stream", ["XINFO", "STREAM", "K"], "native", None),
    ("xinfo-stream-full", ["XINFO", "STREAM", "K", "FULL"], "native", None),
    ("xinfo-groups", ["XINFO", "GROUPS", "K"], "native", None),
    ("xinfo-consumers", ["XINFO", "CONSUMERS", "K", "g"], "native", None),
    ("xread", ["XREAD", "STREAMS", "K", "0"], "native", None),
    ("xread-two-keys", ["XREAD", "COUNT", "1", "STREAMS", "K", "rw:s", "0", "0"],
     "native", None),
    ("xread-two-keys-rev", ["XREAD", "STREAMS", "allowed:s", "K", "0", "0"], "native", None),
    ("xreadgroup", ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "K", ">"], "native", None),
    ("xreadgroup-history", ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "K", "0"],
     "native", None),
    ("xgroup-create", ["XGROUP", "CREATE", "K", "g2", "0"], "native", None),
    ("xgroup-create-mkstream", ["XGROUP", "CREATE", "K:new", "g2", "$", "MKSTREAM"],
     "native", None),
    ("xgroup-setid", ["XGROUP", "SETID", "K", "g", "0"], "native", None),
    ("xgroup-destroy", ["XGROUP", "DESTROY", "K", "g"], "native", None),
    ("xgroup-createconsumer", ["XGROUP", "CREATECONSUMER", "K", "g", "c3"], "native", None),
    ("xgroup-delconsumer", ["XGROUP", "DELCONSUMER", "K", "g", "c"], "native", None),
    ("xack", ["XACK", "K", "g", "1-1"], "native", None),
    ("xpending", ["XPENDING", "K", "g"], "native", None),
    ("xpending-extended", ["XPENDING", "K", "g", "-", "+", "10"], "native", None),
    ("xclaim", ["XCLAIM", "K", "g", "c2", "0", "1-1"], "native", None),
    ("xautoclaim", ["XAUTOCLAIM", "K", "g", "c2", "0", "0"], "native", None),
    ("xcfgset", ["XCFGSET", "K", "IDMP-DURATION", "5"], "own", ["XSETID", "K", "10-1"]),
    ("xidmprecord", ["XIDMPRECORD", "K", "p", "i", "1-1"], "own", ["XSETID", "K", "10-1"]),
    ("xdelex", ["XDELEX", "K", "IDS", "1", "1-1"], "own", ["XDEL", "K", "1-1"]),
    ("xackdel", ["XACKDEL", "K", "g", "IDS", "1", "1-1"], "own", ["XDEL", "K", "1-1"]),
]

CMD_IDS = [c[0] for c in COMMANDS]

ALL_KEYS = KEYS + [k + ":new" for k in KEYS]


def bind(argv, key):
    return [key if a == "K" else key + ":new" if a == "K:new" else a for a in argv]


def is_noperm(reply):
    return isinstance(reply, Err) and reply.value.startswith(b"NOPERM")


def as_proxy_name(err, proxy, name):
    """A native NOPERM of ``proxy`` as the same denial of ``name``."""
    return Err(err.value.replace(b"'%s'" % proxy.lower().encode(),
                                 b"'%s'" % name.lower().encode()))


# -- servers ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def fwd_srv(srv):
    """A module server whose streams are native ones (capture off): the module
    forwards the routed commands (or converts the stream, for IDMP/XCFGSET)."""
    s = RedisServer(module=True, module_args={"idmp.capture-new-streams": "no"})
    try:
        s.start()
    except BaseException:
        s.cleanup()
        raise
    yield s
    s.cleanup()


@pytest.fixture
def servers(srv, fwd_srv, native_srv):
    """name -> (server, admin connection), every server flushed, the ACL LOG
    reset and the profiles' users defined."""
    out = {}
    conns = []
    try:
        for name, s in (("mod", srv), ("fwd", fwd_srv), ("nat", native_srv)):
            if not s.alive():
                s.stop()
                s.start()
            c = s.raw()
            conns.append(c)
            assert c.call("FLUSHALL") == OK
            assert c.call("ACL", "LOG", "RESET") == OK
            for p in PROFILES:
                assert c.call("ACL", "SETUSER", p, "reset", "on", "nopass",
                              *profile_rules(p, s.module)) == OK, p
            out[name] = (s, c)
        yield out
    finally:
        for c in conns:
            c.close()
        for name, (s, _) in out.items():
            if not s.alive():
                tail = s.log_tail()
                s.stop()
                s.start()
                pytest.fail("%s died during the test; log tail:\n%s" % (name, tail))


def setup_keys(c):
    """Three entries, group g with consumer c owning 1-1 and 2-1, consumer c2."""
    c.call("FLUSHDB")
    for k in KEYS:
        for i in (1, 2, 3):
            assert c.call("XADD", k, "%d-1" % i, "f", "v%d" % i) == b"%d-1" % i
        assert c.call("XGROUP", "CREATE", k, "g", "0") == OK
        assert isinstance(c.call("XREADGROUP", "GROUP", "g", "c", "COUNT", "2",
                                 "STREAMS", k, ">"), list)
        assert c.call("XGROUP", "CREATECONSUMER", k, "g", "c2") == 1


def encodings(c):
    return {k: c.call("OBJECT", "ENCODING", k) for k in KEYS}


def _state_fields(reply):
    """XINFO STREAM FULL, clock-dependent times masked, as pairs."""
    return normalize(["XINFO", "STREAM", "k", "FULL"], reply)


def snapshot(c, exact):
    """The state of every key. ``exact``: everything, with the digest (for a
    before/after comparison on one server); otherwise what a module stream and
    a native stream have in common (IDMP fields and radix-tree sizes dropped,
    times masked)."""
    out = {}
    for k in ALL_KEYS:
        if not c.call("EXISTS", k):
            out[k] = None
            continue
        full = c.call("XINFO", "STREAM", k, "FULL")
        if exact:
            out[k] = (full, c.call("DEBUG", "DIGEST-VALUE", k),
                      c.call("OBJECT", "ENCODING", k))
        else:
            # consumers' active-time: module streams have it (as 8.6), a
            # Redis 7.0 host's native streams do not; compared without it
            if isinstance(full, list):
                full = [x for kk, v in pairs(full)
                        for x in (kk, full_groups_as_70(v) if kk == b"groups" else v)]
            out[k] = (c.call("XRANGE", k, "-", "+"), _state_fields(full))
    return out


def _without_72_consumer_fields(argv, reply):
    """A module stream's reply without what Redis 7.2 added to consumers
    (XINFO STREAM FULL ``active-time``, XINFO CONSUMERS ``inactive``)."""
    if isinstance(reply, Err) or argv[0].upper() != "XINFO":
        return reply
    if argv[1].upper() == "STREAM" and "FULL" in [a.upper() for a in argv]:
        return full_as_70(reply)
    if argv[1].upper() == "CONSUMERS":
        return [[x for k, v in pairs(c) if k != b"inactive" for x in (k, v)] for c in reply]
    return reply


def acl_log(c):
    """The ACL LOG, oldest first, without times and client info."""
    entries = c.call("ACL", "LOG", "1000")
    assert isinstance(entries, list), entries
    out = []
    for e in reversed(entries):
        d = dict(pairs(e))
        out.append({k: d[k] for k in (b"count", b"reason", b"context", b"object",
                                      b"username")})
    return out


def user_conn(server, profile):
    c = server.raw()
    assert c.call("AUTH", profile, "x") == OK
    return c


# -- the module's own denial on Redis 7.0 -----------------------------------------

def left_to_host(c):
    """INFO idmp's count of commands the filter left to the host."""
    for line in c.call("INFO", "idmp").decode().splitlines():
        if line.startswith("idmp_commands_left_to_host:"):
            return int(line.split(":", 1)[1])
    raise AssertionError("no idmp_commands_left_to_host in INFO idmp")


def expected_module_log(native_log, argv, module_checks):
    """On Redis 7.0, a routed command's ACL check runs inside the module command
    (the server has checked only ``idmp.<cmd>``, allowed), and the only API that
    logs a denial, RedisModule_ACLAddLogEntry, records it with context ``module``
    (Redis 7.0 module.c hard-codes ACL_LOG_CTX_MODULE). Everything else in the entry
    is the native one. On 7.2+/Valkey the filter leaves a denied call unrouted, so
    the server denies the native command itself (context ``toplevel``).

    ``module_checks``: the denial comes from the module's check (a routed command,
    or a module-only command the server itself lets through, see
    ``server_allows``); a module-only command the server denies by its own
    rules is logged as natively."""
    if not HOST70 or not module_checks:
        return native_log
    out = []
    for e in native_log:
        e = dict(e)
        if e[b"reason"] == b"command" and e[b"object"].split(b"|")[0] == argv[0].lower().encode():
            e[b"context"] = b"module"
        out.append(e)
    return out


def server_allows(c, profile, template):
    """Whether the server's own check (ACL DRYRUN, command rules only: the key is
    one the profile may write) lets ``profile`` run this module command."""
    key = "allowed:s" if profile == "resetkeys" else "rw:s"
    return c.call("ACL", "DRYRUN", profile, *bind(template, key)) == OK


# -- the test --------------------------------------------------------------------

@pytest.mark.parametrize("cmd", CMD_IDS)
@pytest.mark.parametrize("profile", list(PROFILES))
def test_user_gets_native_answer(servers, profile, cmd):
    _, template, kind, proxy = next(c for c in COMMANDS if c[0] == cmd)
    for _, c in servers.values():
        setup_keys(c)
    mod_c, fwd_c = servers["mod"][1], servers["fwd"][1]
    assert all(e != b"stream" for e in encodings(mod_c).values())  # module streams
    assert all(e == b"stream" for e in encodings(fwd_c).values())  # native streams

    replies = {name: [] for name in servers}
    # calls the filter left to the host's own command on the native-stream
    # server (src/server/skip.rs): denied and logged by the host itself
    fwd_left = []
    for key in KEYS:
        argv = bind(template, key)
        for name, (s, admin) in servers.items():
            setup_keys(admin)
            before = snapshot(admin, True)
            left_before = left_to_host(admin) if name == "fwd" else 0
            call = argv if name != "nat" or kind != "own" else bind(proxy, key)
            with user_conn(s, profile) as u:
                reply = u.call(*call)
            if name == "fwd":
                fwd_left.append(left_to_host(admin) > left_before)
            after = snapshot(admin, True)
            if is_noperm(reply):
                # a denied command changed nothing, not even the digest
                assert after == before, (name, key, reply)
            replies[name].append((key, argv, reply, snapshot(admin, False)))

    for i, key in enumerate(KEYS):
        _, argv, want, want_state = replies["nat"][i]
        for name in ("mod", "fwd"):
            _, _, got, got_state = replies[name][i]
            where = (profile, cmd, key, name)
            if kind == "own":
                if is_noperm(want):
                    assert got == as_proxy_name(want, proxy[0], argv[0]), where
                else:
                    assert not isinstance(got, Err), (where, got)
                continue
            if is_noperm(want):
                assert got == want, where
                continue
            assert not is_noperm(got), (where, got)
            if kind == "ext":
                # native 7.0/Valkey has no IDMP: the module adds an entry
                assert isinstance(got, bytes), (where, got)
                continue
            if name == "fwd" or HOST70:
                # forwarded: the host's own answer; module stream: the same as a
                # 7.0 host's but for the 7.2+ consumer fields module streams
                # have (native 8.6.3 is their oracle: tests/differential)
                if name == "mod":
                    got = _without_72_consumer_fields(argv, got)
                assert normalize(argv, got) == normalize(argv, want), where
                assert got_state == want_state, where
            else:
                assert not isinstance(got, Err) or isinstance(want, Err), (where, got)

    module_checks = kind != "own" or server_allows(servers["mod"][1], profile, template)
    want_log = acl_log(servers["nat"][1])
    if kind == "own":
        for e in want_log:
            if e[b"object"] == proxy[0].lower().encode():
                e[b"object"] = template[0].lower().encode()
    # (a template parses alike on every key, and no key of the native server
    # holds a module stream: all its calls are left to the host, or none)
    assert all(fwd_left) or not any(fwd_left), (profile, cmd, fwd_left)
    fwd_want = want_log if all(fwd_left) else expected_module_log(want_log, template, module_checks)
    assert acl_log(servers["fwd"][1]) == fwd_want, (profile, cmd)
    assert acl_log(servers["mod"][1]) == expected_module_log(want_log, template, module_checks), \
        (profile, cmd)
    for e in acl_log(servers["mod"][1]):
        assert not e[b"object"].startswith(b"idmp."), e


# -- MULTI/EXEC --------------------------------------------------------------------

MULTI_COMMANDS = ["xadd", "xadd-idmp", "xrange", "xreadgroup", "xgroup-create", "xcfgset",
                  "xdelex"]

SKIP_MULTI_70 = (
    "Redis 7.0: a command filter cannot see its client (no "
    "RedisModule_CommandFilterGetClientId before 7.2), so a call denied by a "
    "command rule (-xadd, -@write) is queued as the module command and denied "
    "when EXEC runs it (the native NOPERM text inside EXEC's reply, ACL LOG "
    "context 'module', nothing written) instead of at queue time with EXECABORT; "
    "key denials are the native ones. Checked here: %s")


def exec_norm(argv, reply):
    """EXEC's reply with the command's reply (the first) normalized."""
    if not isinstance(reply, list):
        return reply
    return [normalize(argv, reply[0])] + reply[1:]


def command_denial(reply):
    return is_noperm(reply) and b"run the" in reply.value


@pytest.mark.parametrize("cmd", MULTI_COMMANDS)
@pytest.mark.parametrize("profile", list(PROFILES))
def test_multi_with_denied_command(servers, profile, cmd):
    """MULTI, the command, XLEN, EXEC: every reply as natively (a denial at
    queue time, then EXECABORT), nothing written, the same ACL LOG."""
    _, template, kind, proxy = next(c for c in COMMANDS if c[0] == cmd)
    queue_time_only_70 = []
    for key in KEYS:
        argv = bind(template, key)
        replies = {}
        for name, (s, admin) in servers.items():
            setup_keys(admin)
            before = snapshot(admin, True)
            call = argv if name != "nat" or kind != "own" else bind(proxy, key)
            with user_conn(s, profile) as u:
                seq = [u.call("MULTI"), u.call(*call), u.call("XLEN", key), u.call("EXEC")]
            if isinstance(seq[3], Err):
                assert snapshot(admin, True) == before, (name, key, seq)
            replies[name] = seq
        want = list(replies["nat"])
        if kind == "own" and is_noperm(want[1]):
            want[1] = as_proxy_name(want[1], proxy[0], argv[0])
            want[3] = Err(want[3].value.replace(b"'%s'" % proxy[0].lower().encode(),
                                                b"'%s'" % argv[0].lower().encode()))
        for name in ("mod", "fwd"):
            got = replies[name]
            where = (profile, cmd, key, name)
            denied_at = [i for i in (1, 2) if command_denial(want[i])]
            if HOST70 and any(got[i] != want[i] for i in denied_at):
                # see SKIP_MULTI_70: the verdict, at EXEC time (the queued
                # XLEN too, under a rule for a first argument)
                assert got[:3] == [OK, Simple(b"QUEUED"), Simple(b"QUEUED")], (where, got)
                assert isinstance(got[3], list), (where, got)
                assert all(got[3][i - 1] == want[i] for i in denied_at), (where, got)
                queue_time_only_70.append("%s on %s (%s)" % (cmd, key, name))
                continue
            if not is_noperm(want[1]) and (kind != "native" or not HOST70):
                # allowed: only the verdict (no native IDMP, or Valkey's streams)
                assert got[:3] == want[:3], (where, got)
                if isinstance(want[3], list):
                    assert isinstance(got[3], list), (where, got)
                    assert not any(is_noperm(x) for x in got[3]), (where, got)
                else:
                    assert got[3] == want[3], (where, got)
                continue
            assert normalize(argv, got[1]) == normalize(argv, want[1]), (where, got)
            assert got[:1] + got[2:3] == want[:1] + want[2:3], (where, got)
            assert exec_norm(argv, got[3]) == exec_norm(argv, want[3]), (where, got)
    module_checks = kind != "own" or server_allows(servers["mod"][1], profile, template)
    want_log = acl_log(servers["nat"][1])
    if kind == "own":
        for e in want_log:
            if e[b"object"] == proxy[0].lower().encode():
                e[b"object"] = template[0].lower().encode()
    if queue_time_only_70:
        pytest.skip(SKIP_MULTI_70 % ", ".join(queue_time_only_70))
    for name in ("fwd", "mod"):
        assert acl_log(servers[name][1]) == expected_module_log(
            want_log, template, module_checks), (profile, cmd, name)


# -- scripts -----------------------------------------------------------------------

SCRIPTS = {
    "eval-call": ["EVAL", "return redis.call('XADD', KEYS[1], '5-1', 'f', 'v')", "1", "K"],
    "eval-pcall": ["EVAL", "return redis.pcall('XADD', KEYS[1], '5-1', 'f', 'v')", "1", "K"],
    "eval-pcall-text": ["EVAL", "local r = redis.pcall('XADD', KEYS[1], '5-1', 'f', 'v');"
                        " if type(r) == 'table' and r['err'] then return r['err'] end;"
                        " return r", "1", "K"],
    "eval-xrange": ["EVAL", "return redis.call('XRANGE', KEYS[1], '-', '+')", "1", "K"],
    "fcall": ["FCALL", "aclusers_xadd", "1", "K"],
}

LIBRARY = ("#!lua name=aclusers\n"
           "redis.register_function('aclusers_xadd', function(keys, args)\n"
           "  return redis.call('XADD', keys[1], '5-1', 'f', 'v')\n"
           "end)")

SKIP_SCRIPT_CATEGORY = (
    "Redis 7.2+/Valkey: inside a script the filter cannot see the caller's user, so "
    "the call is routed and the server denies the module command by its categories, "
    "naming idmp.xadd (README, \"Valkey\")")


def expected_script_log(native_log, module_checked):
    """Inside a script a denial by the module's own check is logged by
    RedisModule_ACLAddLogEntry, whose context is always ``module`` (the server
    hard-codes it), where the native entry says ``lua``."""
    out = []
    for e in native_log:
        e = dict(e)
        if module_checked and e[b"reason"] == b"command" and e[b"context"] == b"lua":
            e[b"context"] = b"module"
        out.append(e)
    return out


@pytest.mark.parametrize("script", list(SCRIPTS))
@pytest.mark.parametrize("profile", list(PROFILES))
def test_scripts_get_native_answer(servers, profile, script):
    """A routed command called from EVAL/FCALL: the script's native error text
    (with the script's name appended as natively), nothing written."""
    if not HOST70 and profile == "nowrite" and script != "eval-xrange":
        pytest.skip(SKIP_SCRIPT_CATEGORY)
    for _, c in servers.values():
        assert c.call("FUNCTION", "LOAD", "REPLACE", LIBRARY) == b"aclusers"
    module_checked = False
    # calls the filter left to the host on the native-stream server (a read
    # of a native stream in a script): denied and logged by the host itself
    fwd_left = []
    for key in KEYS:
        argv = bind(SCRIPTS[script], key)
        replies = {}
        for name, (s, admin) in servers.items():
            setup_keys(admin)
            before = snapshot(admin, True)
            left_before = left_to_host(admin) if name == "fwd" else 0
            with user_conn(s, profile) as u:
                replies[name] = u.call(*argv)
            if name == "fwd":
                fwd_left.append(left_to_host(admin) > left_before)
            replies[name] = (replies[name], snapshot(admin, True) == before)
        want, want_unchanged = replies["nat"]
        text = want.value if isinstance(want, Err) else want if isinstance(want, bytes) else b""
        denied = text.startswith((b"ERR", b"NOPERM"))
        for name in ("mod", "fwd"):
            got, unchanged = replies[name]
            where = (profile, script, key, name)
            assert normalize(["XRANGE"], got) == normalize(["XRANGE"], want), where
            if denied:
                assert unchanged and want_unchanged, where
        if b"can't run this command" in text or b"permissions to run the" in text:
            module_checked = module_checked or b"'eval'" not in text and \
                b"'fcall'" not in text
    want_log = acl_log(servers["nat"][1])
    # a denial the server itself makes in the script (keys; on 7.0 module
    # commands have no categories) is native; the module's own check's is not
    for name in ("fwd", "mod"):
        checked = module_checked and not (name == "fwd" and all(fwd_left))
        assert acl_log(servers[name][1]) == expected_script_log(want_log, checked), \
            (profile, script, name)


# -- module-only commands and category rules ------------------------------------

OWN_RULES = [
    # (rules, XCFGSET allowed as on Redis 8.6)
    (["+@all", "-@write"], False),
    (["+@all", "-@stream"], False),
    (["+@all", "-@fast"], False),
    (["+@all", "-xadd"], True),
    (["+@all", "-@write", "+@stream"], True),
    (["+@all", "-xcfgset"], False),
    (["-@all", "+@read", "+xcfgset"], True),
    (["-@all", "+@read", "+xcfgset", "(~* +@all)"], True),
    (["+@all", "-@write", "(~* +@all -@stream)"], False),
    (["+@all", "-@write", "(~* +@read +@write)"], True),
    (["+@all", "-@write", "+xcfgset"], True),
]

SKIP_REGRANT_70 = (
    "Redis 7.0 describes '+@all -@write +xcfgset' as '+@all -@write' (ACL GETUSER: the "
    "module command has no category for -@write to have removed), so the module, "
    "which applies the described rules, refuses it (README, \"Permissions\")")


@pytest.mark.parametrize("rules,allowed", OWN_RULES, ids=[" ".join(r) for r, _ in OWN_RULES])
def test_module_only_commands_follow_category_rules(srv, rules, allowed):
    """XCFGSET (module-only on every supported server) gets the verdict Redis
    8.6 gives by its categories (@write @stream @fast), whether the server knows
    the module command's categories (7.2+, Valkey) or not (7.0: the module applies
    the user's rules itself); a denial is the native one."""
    if HOST70 and rules == ["+@all", "-@write", "+xcfgset"]:
        pytest.skip(SKIP_REGRANT_70)
    with srv.raw() as admin:
        assert admin.call("FLUSHALL") == OK
        assert admin.call("ACL", "LOG", "RESET") == OK
        assert admin.call("ACL", "SETUSER", "own", "reset", "on", "nopass", "~*", "&*",
                          *rules) == OK
        assert admin.call("XADD", "s", "1-1", "f", "v") == b"1-1"
        before = admin.call("XINFO", "STREAM", "s")
        with user_conn(srv, "own") as u:
            got = u.call("XCFGSET", "s", "IDMP-DURATION", "5")
        if allowed:
            assert got == OK
            return
        text = (b"NOPERM this user has no permissions to run the 'xcfgset' command"
                if HOST70 else
                b"NOPERM User own has no permissions to run the 'xcfgset' command")
        assert got == Err(text)
        assert admin.call("XINFO", "STREAM", "s") == before
        log = acl_log(admin)
        assert [(e[b"reason"], e[b"object"], e[b"username"]) for e in log] == \
            [(b"command", b"xcfgset", b"own")]
