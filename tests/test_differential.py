"""SPEC "Differential testing": the same seeded random command sequence against

- a plain redis-server 7.0 without the module (the oracle),
- a native stream on the module server (created with idmp.capture-new-streams no,
  so every command is forwarded), and
- a module stream on the same module server (created after CONFIG SET
  idmp.capture-new-streams yes),

with deterministic explicit IDs; every reply must be equal, errors included
(XINFO's radix-tree-* and IDMP fields dropped, clock-dependent times masked).

On a server that is not Redis 7.0 (Valkey 9: REDIS_SERVER), native streams have
moved on (README, "Valkey") while module streams keep Redis 7.0 semantics. There
the comparison is split: the module key is compared with a Redis 7.0 oracle
(ORACLE70_SERVER, Debian's redis-server), and the forwarded native key with a
plain server of the host's own kind. Both comparisons stay exact.
"""

import pytest

from diffgen import KEY, MISSING, STR, Gen, bind, normalize, show
from resp import OK, Err
from server import host_is_redis70, oracle70_binary, server_version

NODE_CONFIGS = {
    "default": [],
    "small-nodes": ["--stream-node-max-entries", "7"],
    "byte-limited": ["--stream-node-max-entries", "0", "--stream-node-max-bytes", "300"],
}

PREFIX = [["XADD", KEY, "0-1", "init", "x"], ["XDEL", KEY, "0-1"]]


class Target:
    def __init__(self, label, conn, key):
        self.label = label
        self.conn = conn
        key = "difftest-key-%s" % key
        self.names = {"key": key, "missing": key + "-missing", "str": key + "-string"}
        conn.call("SET", self.names["str"], "x")

    def run(self, argv):
        return self._neutral(self.conn.call(*bind(argv, self.names)))

    def _neutral(self, reply):
        """Replace this target's key names in a reply (XREAD, NOGROUP errors)."""
        if isinstance(reply, Err):
            v = reply.value
            for name in ("missing", "str", "key"):
                v = v.replace(self.names[name].encode(), b"<%s>" % name.encode())
            return Err(v)
        if isinstance(reply, bytes):
            for name in ("missing", "str", "key"):
                if reply == self.names[name].encode():
                    return b"<%s>" % name.encode()
            return reply
        if isinstance(reply, list):
            out = [self._neutral(x) for x in reply]
            return type(reply)(out) if type(reply) is not list else out
        if isinstance(reply, tuple):
            return tuple(self._neutral(x) for x in reply)
        return reply


def _host_label():
    flavor, version = server_version()
    return "native-%s-%d.%d" % (flavor, version[0], version[1])


def _oracle70(server_factory, protocol=2, extra=None):
    """A plain Redis 7.0 server and a client: the oracle for module streams.

    On Redis 7.0 that is a server like the module's host; elsewhere (Valkey) it is
    ORACLE70_SERVER, since module streams implement Redis 7.0 stream semantics
    on every server (README, "Valkey")."""
    binary = None if host_is_redis70() else oracle70_binary()
    srv = server_factory(module=False, extra=extra, binary=binary)
    flavor, version = server_version(srv.binary)
    assert (flavor, version[:2]) == ("redis", (7, 0)), (srv.binary, flavor, version)
    return srv, srv.raw(protocol=protocol)


def _run_three(server_factory, config, seed, n_ops, groups=False, reads=False):
    """The oracle, a forwarded native key and a module key on the module server.

    Returns the stats of the run. On a host other than Redis 7.0, a plain host
    server joins as the reference of the forwarded native key (module docstring)."""
    extra = NODE_CONFIGS[config]
    _, oracle = _oracle70(server_factory, extra=extra)
    msrv = server_factory(module_args={"idmp.capture-new-streams": "no"}, extra=extra)
    mconn = msrv.raw()
    t_oracle = Target("native-7.0", oracle, "s")
    t_native = Target("module-server/native-key", mconn, "n")
    t_module = Target("module-server/module-key", mconn, "m")
    if host_is_redis70():
        t_host = None
        compare = [[t_oracle, t_native, t_module]]
    else:
        host = server_factory(module=False, extra=extra)
        t_host = Target(_host_label(), host.raw(), "s")
        compare = [[t_oracle, t_module], [t_host, t_native]]
    # create the streams: native key while capture is off, module key after it is on
    for argv in PREFIX:
        for t in (t_oracle, t_native, t_host):
            if t is not None:
                t.run(argv)
    assert mconn.call("CONFIG", "SET", "idmp.capture-new-streams", "yes") == OK
    for argv in PREFIX:
        t_module.run(argv)
    assert mconn.call("OBJECT", "ENCODING", t_native.names["key"]) == b"stream"
    stats = run_sequence_after_prefix(compare, seed, n_ops, groups, reads)
    # the native key was forwarded all along, never converted
    assert mconn.call("OBJECT", "ENCODING", t_native.names["key"]) == b"stream"
    assert mconn.call("OBJECT", "ENCODING", t_module.names["key"]) != b"stream"
    assert msrv.alive(), msrv.log_tail()
    return stats


def run_sequence_after_prefix(targets, seed, n_ops, groups, reads=False):
    """Run one generated sequence on every target and compare the replies.

    ``targets``: a list of targets, the first being the reference of the others;
    or a list of such lists (comparison groups, each with its own reference).
    The generator follows the replies of the first group's reference."""
    compare = targets if isinstance(targets[0], list) else [targets]
    gen = Gen(seed, groups=groups, reads=reads)
    gen.observe(PREFIX[0], b"0-1")
    history = []
    stats = {"ops": 0, "errors": 0, "xadd_ok": 0}
    for i in range(n_ops):
        argv = gen.op()
        history.append(show(argv))
        first = None
        for group in compare:
            replies = [t.run(argv) for t in group]
            if first is None:
                first = replies[0]
            want = normalize(argv, replies[0])
            for t, rep in zip(group[1:], replies[1:]):
                got = normalize(argv, rep)
                if got != want:
                    pytest.fail(
                        "seed %s op %d: %s\n  %s: %r\n  %s: %r\nlast commands:\n  %s"
                        % (seed, i, show(argv), group[0].label, replies[0], t.label,
                           rep, "\n  ".join(history[-15:])))
        gen.observe(argv, first)
        stats["ops"] += 1
        if type(first).__name__ == "Err":
            stats["errors"] += 1
        if argv[0] == "XADD" and isinstance(first, bytes):
            stats["xadd_ok"] += 1
    for final in (["XRANGE", KEY, "-", "+"], ["XINFO", "STREAM", KEY, "FULL"]):
        for group in compare:
            ref = normalize(final, group[0].run(final))
            for t in group[1:]:
                assert normalize(final, t.run(final)) == ref, (t.label, show(final))
    return stats


@pytest.mark.parametrize("config", list(NODE_CONFIGS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_differential_streams(server_factory, config, seed):
    stats = _run_three(server_factory, config, seed, 1500)
    assert stats["xadd_ok"] > 300


@pytest.mark.parametrize("seed", [5, 6])
def test_differential_with_xread(server_factory, seed):
    stats = _run_three(server_factory, "small-nodes", seed, 1500, reads=True)
    assert stats["xadd_ok"] > 300


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_differential_consumer_groups(server_factory, seed):
    stats = _run_three(server_factory, "small-nodes", seed, 1500, groups=True)
    assert stats["xadd_ok"] > 200


def test_differential_resp3(server_factory):
    _, o = _oracle70(server_factory, protocol=3)
    msrv = server_factory()
    with o, msrv.raw(protocol=3) as m:
        targets = [Target("native-7.0/resp3", o, "s"), Target("module/resp3", m, "m")]
        for argv in PREFIX:
            for t in targets:
                t.run(argv)
        run_sequence_after_prefix(targets, 21, 800, False)


def test_differential_resp3_groups(server_factory):
    _, o = _oracle70(server_factory, protocol=3)
    msrv = server_factory()
    with o, msrv.raw(protocol=3) as m:
        targets = [Target("native-7.0/resp3", o, "s"), Target("module/resp3", m, "m")]
        for argv in PREFIX:
            for t in targets:
                t.run(argv)
        run_sequence_after_prefix(targets, 22, 800, True)


def test_harness_native_vs_native(server_factory):
    """The harness itself, without the module: two native servers must agree, and
    the generator must explore successes and errors of every command."""
    a = server_factory(module=False, extra=NODE_CONFIGS["small-nodes"])
    b = server_factory(module=False, extra=NODE_CONFIGS["small-nodes"])
    with a.raw() as ca, b.raw() as cb:
        targets = [Target("a", ca, "s"), Target("b", cb, "t")]
        for argv in PREFIX:
            for t in targets:
                t.run(argv)
        stats = run_sequence_after_prefix(targets, 99, 1500, True)
    assert stats["xadd_ok"] > 200
    assert 0.05 * stats["ops"] < stats["errors"] < 0.6 * stats["ops"]
