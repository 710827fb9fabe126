"""SPEC "Differential testing": the same seeded random command sequence against

- a plain redis-server 7.0 without the module (the oracle),
- a native stream on the module server (created with idmp.capture-new-streams no,
  so every command is forwarded), and
- a module stream on the same module server (created after CONFIG SET
  idmp.capture-new-streams yes),

with deterministic explicit IDs; every reply must be equal, errors included
(XINFO's radix-tree-* and IDMP fields dropped, clock-dependent times masked).
"""

import pytest

from diffgen import KEY, MISSING, STR, Gen, bind, normalize, show
from resp import OK, Err

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


def _module_targets(server_factory, extra):
    native = server_factory(module=False, extra=extra)
    msrv = server_factory(module_args={"idmp.capture-new-streams": "no"}, extra=extra)
    oracle = native.raw()
    mconn = msrv.raw()
    return native, msrv, oracle, mconn


def _setup_three(oracle, mconn):
    """Create the three streams: oracle 's', native 'n' (capture off), module 'm'."""
    targets = [Target("native-7.0", oracle, "s"),
               Target("module-server/native-key", mconn, "n"),
               Target("module-server/module-key", mconn, "m")]
    return targets


def _run_three(server_factory, config, seed, n_ops, groups=False, reads=False):
    native, msrv, oracle, mconn = _module_targets(server_factory, NODE_CONFIGS[config])
    t_oracle, t_native, t_module = _setup_three(oracle, mconn)
    # create the streams: native key while capture is off, module key after it is on
    for argv in PREFIX:
        t_oracle.run(argv)
        t_native.run(argv)
    assert mconn.call("CONFIG", "SET", "idmp.capture-new-streams", "yes") == OK
    for argv in PREFIX:
        t_module.run(argv)
    assert mconn.call("OBJECT", "ENCODING", t_native.names["key"]) == b"stream"
    gen_targets = [t_oracle, t_native, t_module]
    stats = run_sequence_after_prefix(gen_targets, seed, n_ops, groups, reads)
    # the native key was forwarded all along, never converted
    assert mconn.call("OBJECT", "ENCODING", t_native.names["key"]) == b"stream"
    assert mconn.call("OBJECT", "ENCODING", t_module.names["key"]) != b"stream"
    assert msrv.alive(), msrv.log_tail()
    return stats


def run_sequence_after_prefix(targets, seed, n_ops, groups, reads=False):
    gen = Gen(seed, groups=groups, reads=reads)
    gen.observe(PREFIX[0], b"0-1")
    history = []
    stats = {"ops": 0, "errors": 0, "xadd_ok": 0}
    for i in range(n_ops):
        argv = gen.op()
        replies = [t.run(argv) for t in targets]
        gen.observe(argv, replies[0])
        history.append(show(argv))
        want = normalize(argv, replies[0])
        for t, rep in zip(targets[1:], replies[1:]):
            got = normalize(argv, rep)
            if got != want:
                pytest.fail(
                    "seed %s op %d: %s\n  %s: %r\n  %s: %r\nlast commands:\n  %s"
                    % (seed, i, show(argv), targets[0].label, replies[0], t.label, rep,
                       "\n  ".join(history[-15:])))
        stats["ops"] += 1
        if type(replies[0]).__name__ == "Err":
            stats["errors"] += 1
        if argv[0] == "XADD" and isinstance(replies[0], bytes):
            stats["xadd_ok"] += 1
    for final in (["XRANGE", KEY, "-", "+"], ["XINFO", "STREAM", KEY, "FULL"]):
        ref = normalize(final, targets[0].run(final))
        for t in targets[1:]:
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
    native = server_factory(module=False)
    msrv = server_factory()
    with native.raw(protocol=3) as o, msrv.raw(protocol=3) as m:
        targets = [Target("native-7.0/resp3", o, "s"), Target("module/resp3", m, "m")]
        for argv in PREFIX:
            for t in targets:
                t.run(argv)
        run_sequence_after_prefix(targets, 21, 800, False)


def test_differential_resp3_groups(server_factory):
    native = server_factory(module=False)
    msrv = server_factory()
    with native.raw(protocol=3) as o, msrv.raw(protocol=3) as m:
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
