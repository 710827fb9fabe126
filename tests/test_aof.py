"""Issue 3 / SPEC 8: the AOF. BGREWRITEAOF with ``aof-use-rdb-preamble no`` rebuilds
every module stream with module commands only (entries with explicit IDs, metadata,
XCFGSET, one XIDMPRECORD per tracked iid oldest first per pid, the lifetime
counters); restarting from it gives streams whose DEBUG DIGEST-VALUE and XINFO STREAM
equal the originals. The same with the default preamble, and plain AOF replay of
the propagated commands (explicit arguments only: no ``*``, ``~`` or IDMPAUTO)."""

import collections
import time

import pytest

from resp import OK, Simple
from server import rdb_magic, server_version
from util import parse_id
# (consumers' seen-time is compared masked: replaying XCLAIM / CREATECONSUMER sets
# it, as for native streams in Redis 7.0)
from pworkload import (CONSUMER_TIMES, Workload, aof_files, base_aof, db_state,
                       diff_states, meta, parse_aof, retry, wait_rewrite)

MODULE_CMDS = {b"idmp.xadd", b"idmp.xdel", b"idmp.xtrim", b"idmp.xsetid",
               b"idmp.idmpcounters", b"xcfgset", b"xidmprecord"}
NATIVE_STREAM_CMDS = {b"xadd", b"xdel", b"xtrim", b"xsetid", b"xgroup", b"xclaim",
                      b"xautoclaim", b"xack", b"xreadgroup"}


def aof_args(preamble):
    return ["--appendonly", "yes", "--appendfsync", "always",
            "--aof-use-rdb-preamble", preamble,
            # no automatic rewrite in the middle of a test
            "--auto-aof-rewrite-percentage", "0"]


def _workload(c, seed, nops=400, groups=False):
    w = Workload(seed, groups=groups)
    w.setup(c)
    w.run(c, nops)
    # a tracked iid whose entry is deleted (the first whose entry is still live)
    w.deleted_tracked = next(t for t in w.tracked() if c.call("XDEL", t[0], t[3]) == 1)
    return w


def _restart_and_compare(srv, w, before):
    srv.restart()
    with srv.raw() as c:
        after = db_state(c, w.all_keys, CONSUMER_TIMES)
        diff = diff_states(before, after)
        assert diff == [], "state differs after loading the AOF:\n%s\nlog:\n%s" % (
            "\n".join(map(repr, diff[:20])), srv.log_tail(20))
        tracked = w.tracked()
        m0 = {k: meta(c, k) for k in w.keys}
        bad = retry(c, tracked)
        assert bad == [], "retries not answered with the original ID: %r" % bad[:10]
        n = collections.Counter(t[0] for t in tracked)
        for k in w.keys:
            exp = dict(m0[k])
            exp[b"iids-duplicates"] += n[k]
            assert meta(c, k) == exp, k


def _check_rewrite_commands(cmds, w):
    """The rewritten AOF: module commands only, per key entries then XCFGSET then
    XIDMPRECORD per tracked iid (oldest first per pid), mappings to deleted entries
    included."""
    names = collections.Counter(a[0].lower() for a in cmds)
    assert not (set(names) & NATIVE_STREAM_CMDS), names
    other = {n for n in names if not n.startswith(b"idmp.")} - MODULE_CMDS
    assert other <= {b"select", b"pexpireat", b"multi", b"exec"}, names
    for key in w.keys:
        kb = key.encode()
        mine = [(i, a) for i, a in enumerate(cmds) if len(a) > 1 and a[1] == kb]
        assert mine, "key %s not in the rewritten AOF" % key
        cfg = [(i, a) for i, a in mine if a[0].lower() == b"xcfgset"]
        assert len(cfg) == 1, (key, cfg)
        m = w.model[key]
        args = [x.upper() for x in cfg[0][1][2:]]
        assert b"IDMP-DURATION" in args and b"IDMP-MAXSIZE" in args, cfg
        opts = dict(zip(args[0::2], args[1::2]))
        assert int(opts[b"IDMP-DURATION"]) == m["dur"] and int(opts[b"IDMP-MAXSIZE"]) == m["max"]
        entries = [i for i, a in mine if a[0].lower() == b"idmp.xadd"]
        recs = [(i, a) for i, a in mine if a[0].lower() == b"xidmprecord"]
        if entries:
            assert max(entries) < cfg[0][0], "XCFGSET before the entries of %s" % key
        assert all(i > cfg[0][0] for i, _ in recs), \
            "an XIDMPRECORD before XCFGSET would be cleared by it (%s)" % key
        # one XIDMPRECORD per tracked iid, in FIFO order per pid
        got = collections.defaultdict(list)
        for _, a in recs:
            assert len(a) == 5, a
            got[a[2]].append((a[3], a[4]))
        exp = {}
        for pid, prod in m["prod"].items():
            pb = pid.encode() if isinstance(pid, str) else pid
            if prod:
                exp[pb] = [((iid.encode() if isinstance(iid, str) else iid), sid)
                           for iid, sid in prod.items()]
        assert dict(got) == exp, (key, dict(got), exp)
    k, pid, iid, sid = w.deleted_tracked
    assert [k.encode(), pid.encode() if isinstance(pid, str) else pid,
            iid.encode() if isinstance(iid, str) else iid, sid] in \
        [a[1:] for a in cmds if a[0].lower() == b"xidmprecord"]


@pytest.mark.parametrize("preamble,groups", [("no", False), ("yes", False),
                                              ("no", True), ("yes", True)])
def test_bgrewriteaof_then_restart(server_factory, preamble, groups):
    """(groups: consumer groups, consumers and PELs in the workload too)"""
    srv = server_factory(extra=aof_args(preamble))
    with srv.raw() as c:
        w = _workload(c, seed=(101 if preamble == "no" else 102) + 100 * groups,
                      groups=groups)
        before = db_state(c, w.all_keys, CONSUMER_TIMES)
        assert all(s["module"] for s in before.values())
        assert isinstance(c.call("BGREWRITEAOF"), Simple)
        assert wait_rewrite(c) == "ok", srv.log_tail(20)
        assert db_state(c, w.all_keys, CONSUMER_TIMES) == before
    name, data = base_aof(srv)
    if preamble == "no":
        assert name.endswith(".base.aof"), name
        _check_rewrite_commands(parse_aof(data), w)
    else:
        assert name.endswith(".base.rdb"), name
        assert data.startswith(rdb_magic())
    _restart_and_compare(srv, w, before)


@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_rewrite_then_more_writes_then_restart(server_factory, preamble):
    """Base from the rewrite plus the incremental file written after it."""
    srv = server_factory(extra=aof_args(preamble))
    with srv.raw() as c:
        w = _workload(c, seed=111, nops=250)
        assert isinstance(c.call("BGREWRITEAOF"), Simple)
        assert wait_rewrite(c) == "ok"
        w.run(c, 250, sleep_for_expiry=False)
        before = db_state(c, w.all_keys, CONSUMER_TIMES)
    _restart_and_compare(srv, w, before)


def test_rewrite_twice_keeps_counters(server_factory):
    """Counters restored by the first rewrite are written again by the second."""
    srv = server_factory(extra=aof_args("no"))
    with srv.raw() as c:
        w = _workload(c, seed=121, nops=200)
        before = db_state(c, w.all_keys, CONSUMER_TIMES)
        for _ in range(2):
            assert isinstance(c.call("BGREWRITEAOF"), Simple)
            assert wait_rewrite(c) == "ok"
    srv.restart()
    with srv.raw() as c:
        assert isinstance(c.call("BGREWRITEAOF"), Simple)
        assert wait_rewrite(c) == "ok"
    _restart_and_compare(srv, w, before)


def test_aof_replay_of_propagated_commands(server_factory):
    """Without a rewrite the AOF holds what the commands propagated: module commands
    with fully resolved arguments; replaying it rebuilds the same streams."""
    srv = server_factory(extra=aof_args("no"))
    with srv.raw() as c:
        w = _workload(c, seed=131)
        before = db_state(c, w.all_keys, CONSUMER_TIMES)
    data = b"".join(open(f, "rb").read() for f in aof_files(srv) if f.endswith(".aof"))
    cmds = parse_aof(data)
    names = collections.Counter(a[0].lower() for a in cmds)
    assert not (set(names) & NATIVE_STREAM_CMDS), names
    for a in cmds:
        if a[0].lower() in (b"multi", b"exec", b"select"):
            continue
        up = [x.upper() for x in a]
        assert b"*" not in a and b"~" not in a and b"IDMPAUTO" not in up, \
            "a propagated command a replica would resolve by itself: %r" % a[:12]
    _restart_and_compare(srv, w, before)


def test_duplicates_reach_the_aof(server_factory):
    """A duplicate changes only iids-duplicates; that change is in the AOF."""
    srv = server_factory(extra=aof_args("no"))
    with srv.raw() as c:
        a = c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        for _ in range(5):
            assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "w") == a
        before = meta(c, "s")
        assert before[b"iids-duplicates"] == 5 and before[b"length"] == 1
    srv.restart()
    with srv.raw() as c:
        assert meta(c, "s") == before
        assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == a


def test_rewrite_keeps_cleared_producers_cleared(server_factory):
    """XCFGSET clears producers; the rewrite must not bring them back, and must keep
    the lifetime counters of the cleared state."""
    srv = server_factory(extra=aof_args("no"))
    with srv.raw() as c:
        c.call("XADD", "s", "IDMP", "p", "old", "*", "f", "v")
        c.call("XADD", "s", "IDMP", "p", "old", "*", "f", "v")
        assert c.call("XCFGSET", "s", "IDMP-DURATION", "1000") == OK
        b = c.call("XADD", "s", "IDMP", "p", "new", "*", "f", "v")
        before = meta(c, "s")
        assert (before[b"iids-tracked"], before[b"iids-added"], before[b"iids-duplicates"]) \
            == (1, 2, 1)
        assert isinstance(c.call("BGREWRITEAOF"), Simple)
        assert wait_rewrite(c) == "ok"
    srv.restart()
    with srv.raw() as c:
        assert meta(c, "s") == before
        assert c.call("XADD", "s", "IDMP", "p", "new", "*", "f", "v") == b
        fresh = c.call("XADD", "s", "IDMP", "p", "old", "*", "f", "v")
        assert isinstance(fresh, bytes) and parse_id(fresh) > parse_id(b)


def test_rewrite_leaves_out_expired_iids(server_factory):
    """An iid expired when the rewrite runs must not come back: XIDMPRECORD replayed
    from the AOF would give it a fresh age (SPEC 5: an expired iid is never reported
    as a duplicate). No command reads the stream between the expiry and the rewrite,
    so nothing has reclaimed the iids lazily."""
    srv = server_factory(extra=aof_args("no"))
    with srv.raw() as c:
        c.call("XADD", "s", "1-1", "f", "v")
        assert c.call("XCFGSET", "s", "IDMP-DURATION", "1") == OK
        a = c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        c.call("XADD", "s", "IDMP", "q", "j", "*", "f", "v")
        time.sleep(1.3)
        assert isinstance(c.call("BGREWRITEAOF"), Simple)
        assert wait_rewrite(c) == "ok"
    _, data = base_aof(srv)
    recs = [a_ for a_ in parse_aof(data) if a_[0].lower() == b"xidmprecord"]
    srv.restart()
    with srv.raw() as c:
        m = meta(c, "s")
        assert (m[b"pids-tracked"], m[b"iids-tracked"]) == (0, 0), m
        b = c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "new")
        assert c.call("XRANGE", "s", b, b) == [[b, [b"f", b"new"]]], (a, b)
    assert recs == [], "expired iids written by the rewrite: %r" % recs


def test_aof_replay_keeps_insertion_times(server_factory):
    """A propagated IDMP add carries its insertion time: after a restart from the AOF
    the iid is forgotten ``duration`` seconds after it was recorded, not after the
    restart."""
    srv = server_factory(extra=aof_args("no"))
    with srv.raw() as c:
        c.call("XADD", "s", "1-1", "f", "v")
        assert c.call("XCFGSET", "s", "IDMP-DURATION", "4") == OK
        t0 = time.time()
        a = c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        assert isinstance(a, bytes)
    time.sleep(2.0)
    srv.restart()
    with srv.raw() as c:
        assert time.time() < t0 + 3.7, "restart too slow for this check"
        assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "dup") == a
        time.sleep(max(0.0, t0 + 4.3 - time.time()))
        m = meta(c, "s")
        assert (m[b"pids-tracked"], m[b"iids-tracked"]) == (0, 0), m
        b = c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "new")
        assert c.call("XRANGE", "s", b, b) == [[b, [b"f", b"new"]]]


def _resp(*argv):
    out = b"*%d\r\n" % len(argv)
    for a in argv:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def test_aof_of_earlier_versions_loads(server_factory, tmp_path):
    """AOFs written before XIDMPRECORD propagated as idmp.xidmprecord carry the
    7-argument `XIDMPRECORD key pid iid id IDMPAT ms` (and the 5-argument form
    of rewrites): the AOF loader runs them (it checks no arity) and the mapping,
    its insertion time and the counters come back."""
    flavor, version = server_version()
    if flavor == "valkey" and version >= (9, 1, 0):
        # (the module registers XIDMPRECORD with 8.6.3's arity, 5)
        pytest.skip("Valkey 9.1's AOF loader checks arity and refuses the 7-argument "
                    "XIDMPRECORD of those earlier versions: such an AOF never loaded there")
    now = int(time.time() * 1000)
    d = tmp_path / "appendonlydir"
    d.mkdir()
    (d / "appendonly.aof.1.base.aof").write_bytes(
        _resp("SELECT", "0")
        + _resp("idmp.xadd", "s", "IDMPCFG", "100", "100", "1-1", "f", "v")
        + _resp("idmp.xadd", "s", "2-1", "f", "v")
        + _resp("XIDMPRECORD", "s", "p", "old", "1-1", "IDMPAT", now)
        + _resp("XIDMPRECORD", "s", "p", "five", "2-1")
        + _resp("idmp.idmpcounters", "s", "7", "3"))
    (d / "appendonly.aof.manifest").write_bytes(
        b"file appendonly.aof.1.base.aof seq 1 type b\n")
    srv = server_factory(workdir=str(tmp_path), extra=aof_args("no"))
    with srv.raw() as c:
        m = meta(c, "s")
        assert (m[b"pids-tracked"], m[b"iids-tracked"]) == (1, 2)
        assert (m[b"iids-added"], m[b"iids-duplicates"]) == (7, 3)
        assert c.call("XADD", "s", "IDMP", "p", "old", "*", "x", "y") == b"1-1"
        assert c.call("XADD", "s", "IDMP", "p", "five", "*", "x", "y") == b"2-1"
        assert c.call("TYPE", "s") == Simple(b"stream")
