"""SPEC "Differential testing": the same seeded random command sequence against

- native Redis 8.6.3 (ORACLE86_SERVER; issue 12: the authority on every reply
  of a module stream),
- a module stream on the module server (created after CONFIG SET
  idmp.capture-new-streams yes), compared with 8.6.3,
- a native stream on the module server (created with idmp.capture-new-streams
  no, so every command is forwarded), compared with a plain server of the
  host's own kind (the host's native streams),

with deterministic explicit IDs; every reply must be equal, errors included
(XINFO's radix-tree-* and IDMP fields dropped, clock-dependent times masked;
tests/differential compares those too).
"""

import pytest

from diffgen import KEY, Gen, bind, normalize, show
from resp import OK, Err
from server import oracle86_binary, server_version

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


def _oracle86(server_factory, extra, protocol=2):
    """A native Redis 8.6.3 server and a client: the oracle for module streams."""
    srv = server_factory(module=False, extra=extra, binary=oracle86_binary())
    return srv, srv.raw(protocol=protocol)


def _run_three(server_factory, config, seed, n_ops, groups=False, reads=False, big=False,
               reload=False, protocol=2):
    """Native 8.6.3 against a module key, and a plain host server against a
    forwarded native key on the module server. Returns the stats of the run."""
    extra = NODE_CONFIGS[config]
    suffix = "/resp3" if protocol == 3 else ""
    _, oracle = _oracle86(server_factory, extra, protocol)
    msrv = server_factory(module_args={"idmp.capture-new-streams": "no"}, extra=extra)
    mconn = msrv.raw(protocol=protocol)
    t_oracle = Target("native-8.6.3" + suffix, oracle, "s")
    t_native = Target("module-server/native-key" + suffix, mconn, "n")
    t_module = Target("module-server/module-key" + suffix, mconn, "m")
    host = server_factory(module=False, extra=extra)
    t_host = Target(_host_label() + suffix, host.raw(protocol=protocol), "s")
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
    stats = run_sequence_after_prefix(compare, seed, n_ops, groups, reads, big, reload)
    # the native key was forwarded all along, never converted
    assert mconn.call("OBJECT", "ENCODING", t_native.names["key"]) == b"stream"
    assert mconn.call("OBJECT", "ENCODING", t_module.names["key"]) != b"stream"
    assert msrv.alive(), msrv.log_tail()
    return stats


def run_sequence_after_prefix(targets, seed, n_ops, groups, reads=False, big=False,
                              reload=False):
    """Run one generated sequence on every target and compare the replies.

    ``targets``: a list of targets, the first being the reference of the others;
    or a list of such lists (comparison groups, each with its own reference).
    The generator follows the replies of the first group's reference. A DEBUG
    command (RELOAD) runs once per server, not once per key."""
    compare = targets if isinstance(targets[0], list) else [targets]
    gen = Gen(seed, groups=groups, reads=reads, big=big, reload=reload)
    gen.observe(PREFIX[0], b"0-1")
    history = []
    stats = {"ops": 0, "errors": 0, "xadd_ok": 0}
    for i in range(n_ops):
        argv = gen.op()
        history.append(show(argv))
        done = {}
        first = None
        for group in compare:
            if argv[0] == "DEBUG":
                for t in group:
                    if id(t.conn) not in done:
                        done[id(t.conn)] = t.run(argv)
                replies = [done[id(t.conn)] for t in group]
            else:
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


@pytest.mark.parametrize("config", list(NODE_CONFIGS))
@pytest.mark.parametrize("seed", [31, 32])
def test_differential_long_streams(server_factory, config, seed):
    """Long streams over many nodes, so that '~' and LIMIT act on node boundaries."""
    stats = _run_three(server_factory, config, seed, 2500, big=True)
    assert stats["xadd_ok"] > 1200


@pytest.mark.parametrize("config", ["small-nodes", "byte-limited"])
@pytest.mark.parametrize("seed", [41, 42])
def test_differential_with_reloads(server_factory, config, seed):
    """DEBUG RELOAD now and then: metadata and node layout survive as natively, so
    later (approximate) trims still agree."""
    stats = _run_three(server_factory, config, seed, 2000, big=True, reload=True)
    assert stats["xadd_ok"] > 900


@pytest.mark.parametrize("seed", [5, 6])
def test_differential_with_xread(server_factory, seed):
    stats = _run_three(server_factory, "small-nodes", seed, 1500, reads=True)
    assert stats["xadd_ok"] > 200


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_differential_consumer_groups(server_factory, seed):
    stats = _run_three(server_factory, "small-nodes", seed, 1500, groups=True)
    # (an exploration bound: the generator follows 8.6.3's replies, which refuse
    # XSETID below max-deleted-entry-id, so seed 13 now adds 131 entries)
    assert stats["xadd_ok"] > 120


def test_differential_resp3(server_factory):
    _run_three(server_factory, "small-nodes", 21, 800, protocol=3)


def test_differential_resp3_xread(server_factory):
    _run_three(server_factory, "small-nodes", 23, 800, reads=True, protocol=3)


def test_differential_resp3_groups(server_factory):
    _run_three(server_factory, "small-nodes", 22, 800, groups=True, protocol=3)


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


@pytest.mark.parametrize("seed", [51, 52])
def test_differential_groups_long_with_reloads(server_factory, seed):
    stats = _run_three(server_factory, "small-nodes", seed, 2000, groups=True, big=True,
                       reload=True)
    assert stats["xadd_ok"] > 500


@pytest.mark.parametrize("seed", [207, 213])
def test_differential_short_streams_with_reloads(server_factory, seed):
    """Heavy trimming, XSETID and reloads (found the max-deleted > last-id case)."""
    _run_three(server_factory, "default", seed, 1500, reload=True)


def test_entriesread_above_entries_added_is_capped(server_factory, oraw):
    """Found by seed 300 (against 7.0, which keeps an ENTRIESREAD above
    entries-added as given): Redis 8.4+ caps it to entries-added, and module
    streams follow native 8.6.3 there too."""
    srv = server_factory()

    def entries_read(c):
        g = c.call("XINFO", "GROUPS", "s")[0]
        return g[g.index(b"entries-read") + 1]

    with srv.raw() as c:
        for argv in (["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "2-1", "f", "v"],
                     ["XADD", "s", "3-1", "f", "v"],
                     ["XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "10"]):
            assert c.call(*argv) == oraw.call(*argv), argv
        assert entries_read(oraw) == entries_read(c) == 3
        for argv in (["XADD", "s", "4-1", "f", "v"],
                     ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
                     ["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "50"]):
            assert c.call(*argv) == oraw.call(*argv), argv
        assert entries_read(oraw) == entries_read(c) == 4
