"""COMMAND INFO, COMMAND DOCS and COMMAND GETKEYS of the module's commands,
field by field against what the native commands report (issue 6, item 2).

- A routed command ``idmp.X`` reports the native ``X``'s arity, flags (plus the
  ``module`` flag the server adds to every module command), key range, command
  tips, key specs (notes included) and ACL categories (7.2+/Valkey: 7.0 has no
  API to attach them); its docs are the native docs plus exactly the options
  later Redis versions added and the module implements (XADD: KEEPREF/DELREF/
  ACKED, IDMP/IDMPAUTO; XTRIM: KEEPREF/DELREF/ACKED; XREADGROUP: CLAIM). The
  docs' ``group`` is ``module`` (set by the server for module commands).
- XINFO and XGROUP are containers natively; ``idmp.xinfo`` / ``idmp.xgroup``
  are single commands whose key spec is that of the subcommands.
- XCFGSET, XIDMPRECORD, XDELEX, XACKDEL, which 7.x lacks, report what the Redis
  8.2 / 8.6 command reference gives (XCFGSET: ../shared/seeds/001_*.txt).
- GETKEYS: the same keys as the native command for the same arguments.
"""

import pytest

from resp import Err, Simple
from server import host_is_redis70

ROUTED = ["xadd", "xrange", "xrevrange", "xlen", "xdel", "xtrim", "xsetid",
          "xread", "xreadgroup", "xack", "xpending", "xclaim", "xautoclaim",
          "type"]
# idmp.xgroup is one command: its key spec is RW like every XGROUP subcommand's,
# with SETID's "update" (CREATE says "insert", DESTROY "delete").
CONTAINERS = {"xinfo": "xinfo|stream", "xgroup": "xgroup|setid"}
# Arguments the module documents beyond the host's 7.0 docs, in syntax order.
EXTRA_ARGS = {"xadd": ["condition", "idmp"], "xtrim": ["condition"],
              "xreadgroup": ["min-idle-time"]}
EXTRA_HISTORY = {"xadd": ["8.2.0", "8.6.0"], "xtrim": ["8.2.0"],
                 "xreadgroup": ["8.4.0"], "xread": ["7.4.0"]}


def py(x):
    """A RESP reply as plain Python values."""
    if isinstance(x, Simple):
        return x.value.decode()
    if isinstance(x, bytes):
        return x.decode()
    if isinstance(x, Err):
        return ("ERR", x.value.decode())
    if isinstance(x, list):
        return [py(e) for e in x]
    return x


def as_map(flat):
    return dict(zip(flat[0::2], flat[1::2]))


def info(c, name):
    out = py(c.call("COMMAND", "INFO", name))[0]
    assert out is not None, name
    keys = ["name", "arity", "flags", "first", "last", "step", "categories",
            "tips", "key_specs", "subcommands"]
    d = dict(zip(keys, out))
    d["key_specs"] = [normalize_spec(s) for s in d["key_specs"]]
    return d


def normalize_spec(flat):
    spec = as_map(flat)
    for k in ("begin_search", "find_keys"):
        inner = as_map(spec[k])
        inner["spec"] = as_map(inner["spec"])
        spec[k] = inner
    return spec


def docs(c, name):
    out = py(c.call("COMMAND", "DOCS", name))
    assert len(out) == 2, (name, out)
    d = as_map(out[1])
    if "arguments" in d:
        d["arguments"] = [arg(a) for a in d["arguments"]]
    return d


def arg(flat):
    a = as_map(flat)
    if "arguments" in a:
        a["arguments"] = [arg(s) for s in a["arguments"]]
    return a


def without_display(args):
    """Arguments without ``display_text`` (reported by 7.2+ hosts only; the
    module gives a value argument its name, as Redis' command tables do)."""
    out = []
    for a in args:
        a = dict(a)
        if "display_text" in a:
            assert a.pop("display_text") == a["name"], a
        if "arguments" in a:
            a["arguments"] = without_display(a["arguments"])
        out.append(a)
    return out


@pytest.fixture(scope="module")
def clients(srv, native_srv):
    with srv.raw() as m, native_srv.raw() as n:
        yield m, n


@pytest.mark.parametrize("name", ROUTED + sorted(CONTAINERS))
def test_command_info_matches_native(clients, name):
    m, n = clients
    got = info(m, "idmp." + name)
    want = info(n, CONTAINERS.get(name, name))
    assert got["name"] == "idmp." + name
    assert "module" in got["flags"]
    assert sorted(f for f in got["flags"] if f != "module") == sorted(want["flags"]), name
    for field in ("arity", "first", "last", "step", "tips", "key_specs"):
        if name in CONTAINERS and field == "arity":
            continue  # a container's arity counts the subcommand name
        assert got[field] == want[field], (name, field, got[field], want[field])
    if got["categories"] or not host_is_redis70():
        assert sorted(got["categories"]) == sorted(want["categories"]), name
    assert got["subcommands"] == []


@pytest.mark.parametrize("name", ROUTED + sorted(CONTAINERS))
def test_command_docs_are_native_plus_later_options(clients, name):
    m, n = clients
    got = docs(m, "idmp." + name)
    want = docs(n, name)
    assert got["group"] == "module" and got["module"] == "idmp"
    for field in ("summary", "since", "complexity"):
        assert got.get(field) == want.get(field), (name, field)
    history = [h for h in got.get("history", [])]
    native_history = want.get("history", [])
    assert history[:len(native_history)] == native_history, name
    # The later versions' entries the host does not document yet (Redis 8.2
    # documents its own 8.2.0 ones).
    native_versions = {h[0] for h in native_history}
    assert [h[0] for h in history[len(native_history):]] == \
        [v for v in EXTRA_HISTORY.get(name, []) if v not in native_versions], name
    got_args = got.get("arguments", [])
    native_args = want.get("arguments", [])
    extra = [a for a in got_args if a not in native_args]
    native_names = {a["name"] for a in native_args}
    assert [a["name"] for a in extra] == \
        [a for a in EXTRA_ARGS.get(name, []) if a not in native_names], name
    assert [a for a in got_args if a in native_args] == native_args, name
    assert "subcommands" not in got


def test_xadd_documents_the_idmp_syntax(clients):
    m, _ = clients
    args = {a["name"]: a for a in docs(m, "idmp.xadd")["arguments"]}
    idmp = args["idmp"]
    assert (idmp["type"], idmp["since"], idmp["flags"]) == ("oneof", "8.6.0", ["optional"])
    forms = [[(s["type"], s.get("token"), s["name"]) for s in b["arguments"]]
             for b in idmp["arguments"]]
    assert forms == [
        [("pure-token", "IDMPAUTO", "idmpauto-token"), ("string", None, "pid")],
        [("pure-token", "IDMP", "idmp-token"), ("string", None, "pid"),
         ("string", None, "iid")],
    ]
    assert [s["token"] for s in args["condition"]["arguments"]] == \
        ["KEEPREF", "DELREF", "ACKED"]


# XCFGSET as native Redis 8.6.3's COMMAND DOCS gives it (argument names),
# without display_text (Redis 7.2+).
XCFGSET_ARGS = [
    {"name": "key", "type": "key", "key_spec_index": 0},
    {"name": "idmp-duration-block", "type": "block", "flags": ["optional"], "arguments": [
        {"name": "idmp-duration-token", "type": "pure-token", "token": "IDMP-DURATION"},
        {"name": "duration", "type": "integer"}]},
    {"name": "idmp-maxsize-block", "type": "block", "flags": ["optional"], "arguments": [
        {"name": "idmp-maxsize-token", "type": "pure-token", "token": "IDMP-MAXSIZE"},
        {"name": "maxsize", "type": "integer"}]},
]
SINGLE_KEY_RW_UPDATE = {
    "flags": ["RW", "update"],
    "begin_search": {"type": "index", "spec": {"index": 1}},
    "find_keys": {"type": "range", "spec": {"lastkey": 0, "keystep": 1, "limit": 0}},
}
MODULE_ONLY = {
    # name: (arity, flags without "module", key spec flags, since, argument names)
    "xcfgset": (-2, ["write", "fast"], ["RW", "update"], "8.6.0",
                ["key", "idmp-duration-block", "idmp-maxsize-block"]),
    "xidmprecord": (5, ["write", "denyoom", "fast"], ["RW", "update"], "8.6.2",
                    ["key", "pid", "iid", "stream-id"]),
    "xdelex": (-5, ["write", "fast"], ["RW", "delete"], "8.2.0",
               ["key", "condition", "ids"]),
    # (8.2/8.6 declare RW update delete; a module key spec may carry only one
    # of insert/update/delete)
    "xackdel": (-6, ["write", "fast"], ["RW", "delete"], "8.2.0",
                ["key", "group", "condition", "ids"]),
}


@pytest.mark.parametrize("name", sorted(MODULE_ONLY))
def test_module_only_commands_metadata(clients, name):
    m, n = clients
    arity, flags, spec_flags, since, arg_names = MODULE_ONLY[name]
    if n.call("COMMAND", "INFO", name) != [None]:
        # The host has it (XDELEX/XACKDEL on Redis 8.2+): the module's is
        # idmp.<name>, and the host's own stays as it is.
        assert py(m.call("COMMAND", "INFO", name)) == py(n.call("COMMAND", "INFO", name))
        name = "idmp." + name
    i = info(m, name)
    assert i["arity"] == arity
    assert sorted(f for f in i["flags"] if f != "module") == sorted(flags)
    assert (i["first"], i["last"], i["step"]) == (1, 1, 1)
    assert i["key_specs"] == [dict(SINGLE_KEY_RW_UPDATE, flags=spec_flags)]
    d = docs(m, name)
    assert d["since"] == since and d["summary"] and d["complexity"]
    assert [a["name"] for a in d["arguments"]] == arg_names
    if name == "xcfgset":
        assert d["summary"] == "Sets the IDMP configuration parameters for a stream."
        assert d["complexity"] == "O(1)"
        assert without_display(d["arguments"]) == XCFGSET_ARGS


GETKEYS = [
    ["xadd", "s", "*", "f", "v"],
    ["xadd", "s", "NOMKSTREAM", "MAXLEN", "~", "10", "*", "f", "v"],
    ["xrange", "s", "-", "+"],
    ["xrevrange", "s", "+", "-", "COUNT", "1"],
    ["xlen", "s"],
    ["xdel", "s", "1-1", "2-2"],
    ["xtrim", "s", "MAXLEN", "0"],
    ["xsetid", "s", "5-5"],
    ["xread", "COUNT", "1", "STREAMS", "a", "b", "0", "0"],
    ["xread", "BLOCK", "0", "STREAMS", "a", "$"],
    ["xreadgroup", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"],
    ["xreadgroup", "GROUP", "streams", "streams", "STREAMS", "a", ">"],
    ["xack", "s", "g", "1-1"],
    ["xpending", "s", "g"],
    ["xclaim", "s", "g", "c", "0", "1-1"],
    ["xautoclaim", "s", "g", "c", "0", "0"],
    ["type", "s"],
]
CONTAINER_GETKEYS = [
    ["xinfo", "STREAM", "s"],
    ["xinfo", "GROUPS", "s"],
    ["xgroup", "CREATE", "s", "g", "$"],
    ["xgroup", "DESTROY", "s", "g"],
]


@pytest.mark.parametrize("argv", GETKEYS + CONTAINER_GETKEYS,
                         ids=lambda a: " ".join(a))
def test_getkeys_matches_native(clients, argv):
    m, n = clients
    want = py(n.call("COMMAND", "GETKEYS", *argv))
    got = py(m.call("COMMAND", "GETKEYS", "idmp." + argv[0], *argv[1:]))
    assert got == want, argv


@pytest.mark.parametrize("argv", [
    ["xcfgset", "s", "IDMP-DURATION", "5"],
    ["xidmprecord", "s", "p", "i", "1-1"],
    ["xdelex", "s", "IDS", "1", "1-1"],
    ["xackdel", "s", "g", "IDS", "1", "1-1"],
], ids=lambda a: a[0])
def test_getkeys_of_module_only_commands(clients, argv):
    m, _ = clients
    assert py(m.call("COMMAND", "GETKEYS", *argv)) == ["s"]


def test_xgroup_deny_oom_only_where_native_is(srv, native_srv):
    """XGROUP CREATE/CREATECONSUMER are deny-oom, the other subcommands not:
    above maxmemory a module stream answers as a native one."""
    with srv.raw() as m, native_srv.raw() as n:
        answers = []
        for c, xadd in ((m, ["XADD", "s", "IDMP", "p", "i", "*", "f", "v"]),
                        (n, ["XADD", "s", "*", "f", "v"])):
            c.call("FLUSHALL")
            c.call(*xadd)
            c.call("XGROUP", "CREATE", "s", "g1", "$")
            c.call("XGROUP", "CREATE", "s", "g2", "$")
            c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
            c.call("CONFIG", "SET", "maxmemory", "1")
            try:
                answers.append([py(c.call(*a)) for a in (
                    ["XGROUP", "CREATE", "s", "g3", "$"],
                    ["XGROUP", "CREATECONSUMER", "s", "g1", "c"],
                    ["XGROUP", "SETID", "s", "g1", "0"],
                    ["XGROUP", "DELCONSUMER", "s", "g1", "c"],
                    ["XGROUP", "DESTROY", "s", "g2"],
                )])
            finally:
                c.call("CONFIG", "SET", "maxmemory", "0")
        assert answers[0] == answers[1]
        assert answers[0][0][0] == "ERR" and answers[0][0][1].startswith("OOM")
        assert answers[0][4] == 1
