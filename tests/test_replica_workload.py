"""Issue 3 / SPEC 8: replication and failover. A master and a replica, both with the
module, on loopback ports. After a random workload (part before the replica attaches:
full sync; part after: the propagated commands), every stream has the same DEBUG
DIGEST-VALUE and XINFO STREAM FULL on both; the replica executed only module
commands for module streams; after REPLICAOF NO ONE every tracked (pid, iid) retried
on the new master answers its original ID."""

import collections
import signal
import time

import pytest

from resp import OK, Err
# (consumers' seen-time is compared masked: a Redis 7.0 replica sets it when it
# applies the master's XCLAIM, for native streams too)
from pworkload import (CONSUMER_TIMES, Workload, db_state, diff_states, meta,
                       retry)

MODULE_CMDS = {"xcfgset", "xidmprecord"}
# what a replica's master link and our own checks may run besides the module's commands
# (client|list: the module's own look for clients in MULTI, after the master
# replicated a transaction: src/server/skip.rs.)
PLUMBING = {"ping", "replconf", "select", "multi", "exec", "config|resetstat", "info",
            "client|list"}


def info_fields(c, section):
    out = {}
    for ln in c.call("INFO", section).decode().splitlines():
        if ":" in ln and not ln.startswith("#"):
            k, v = ln.split(":", 1)
            out[k] = v
    return out


def commandstats(c):
    """{command name: calls} from INFO commandstats."""
    out = {}
    for k, v in info_fields(c, "commandstats").items():
        if k.startswith("cmdstat_"):
            calls = dict(x.split("=") for x in v.split(","))["calls"]
            out[k[len("cmdstat_"):]] = int(calls)
    return out


def attach(master, replica, timeout=30):
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == OK
        deadline = time.time() + timeout
        while time.time() < deadline:
            f = info_fields(c, "replication")
            if f.get("master_link_status") == "up" and f.get("master_sync_in_progress") == "0":
                return
            time.sleep(0.05)
    raise AssertionError("replica did not sync; replica log:\n%s\nmaster log:\n%s"
                         % (replica.log_tail(30), master.log_tail(30)))


def wait_caught_up(master, replica, timeout=30):
    with master.raw() as m, replica.raw() as r:
        assert m.call("WAIT", "1", str(timeout * 1000)) == 1, replica.log_tail(30)
        deadline = time.time() + timeout
        while time.time() < deadline:
            mo = int(info_fields(m, "replication")["master_repl_offset"])
            ro = int(info_fields(r, "replication").get("slave_repl_offset", "-1"))
            if mo == ro:
                return
            time.sleep(0.05)
    raise AssertionError("replica did not catch up")


def repl_extra(diskless):
    return ["--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0",
            "--repl-diskless-load", "disabled" if diskless == "no" else "swapdb"]


@pytest.mark.parametrize("diskless,capture,groups", [
    ("yes", "yes", False), ("no", "yes", False), ("yes", "no", False), ("yes", "yes", True)])
def test_replica_same_digests_module_commands_only_and_failover(server_factory, diskless,
                                                                capture, groups):
    """(capture "no": the replica runs with idmp.capture-new-streams no and must still
    build module streams from what the master sends. groups: consumer groups,
    consumers and PELs in the workload too.)"""
    master = server_factory(extra=repl_extra(diskless))
    replica = server_factory(extra=repl_extra(diskless),
                             module_args={"idmp.capture-new-streams": capture})
    w = Workload(seed={"yes": 301, "no": 302}[diskless] + (capture == "no") * 10 + groups * 20,
                 groups=groups)
    with master.raw() as m:
        w.setup(m)
        w.run(m, 200, sleep_for_expiry=False)        # goes to the replica by full sync
    attach(master, replica)
    with replica.raw() as r:
        # count only what the master link runs from now on
        assert r.call("CONFIG", "RESETSTAT") == OK
    with master.raw() as m:
        w.run(m, 400)                               # propagated command by command
        # the producer's last message before the failover
        last = m.call("XADD", w.keys[1], "IDMP", "late", "two", "*", "f", "v")
        assert isinstance(last, bytes)
        w._record(w.keys[1], "late", "two", last)
    wait_caught_up(master, replica)
    with replica.raw() as r:
        stats = commandstats(r)
    print("\nreplica commandstats after the workload: %r" % stats)
    streamy = {k for k in stats if k not in PLUMBING}
    assert streamy, stats
    not_module = {k for k in streamy if not (k.startswith("idmp.") or k in MODULE_CMDS)}
    assert not_module == set(), "the replica ran native commands: %r" % {
        k: stats[k] for k in not_module}
    assert stats.get("idmp.xadd", 0) > 0, stats
    with master.raw() as m, replica.raw() as r:
        ms = db_state(m, w.all_keys, CONSUMER_TIMES)
        rs = db_state(r, w.all_keys, CONSUMER_TIMES)
        assert all(s["module"] for s in ms.values())
        assert all(s["module"] for s in rs.values())
        diff = diff_states(ms, rs)
        assert diff == [], "master and replica differ:\n%s" % "\n".join(map(repr, diff[:20]))
        for k in w.all_keys:
            assert m.call("DEBUG", "DIGEST-VALUE", k) == r.call("DEBUG", "DIGEST-VALUE", k), k
        assert m.call("DEBUG", "DIGEST") == r.call("DEBUG", "DIGEST")
        # the replica is read-only for clients
        assert isinstance(r.call("XADD", w.keys[0], "IDMP", "p", "x", "*", "f", "v"), Err)
    # failover
    master.stop()
    with replica.raw() as r:
        assert r.call("REPLICAOF", "NO", "ONE") == OK
        assert r.call("XADD", w.keys[1], "IDMP", "late", "two", "*", "f", "other") == last
        tracked = w.tracked()
        assert len(tracked) > 20
        before = {k: meta(r, k) for k in w.keys}
        bad = retry(r, tracked)
        assert bad == [], "after failover, retries not answered with the original ID: %r" % bad[:10]
        n = collections.Counter(t[0] for t in tracked)
        for k in w.keys:
            assert meta(r, k)[b"iids-duplicates"] == before[k][b"iids-duplicates"] + n[k]
            assert meta(r, k)[b"length"] == before[k][b"length"]
        # and the new master takes fresh messages
        fresh = r.call("XADD", w.keys[1], "IDMP", "late", "three", "*", "f", "v")
        assert isinstance(fresh, bytes) and fresh != last


def test_duplicates_and_expiry_propagate(server_factory):
    """Counter bumps of duplicates and expiry (3-second duration) reach the replica; the
    replica never answers an expired iid as tracked in XINFO."""
    master = server_factory(extra=repl_extra("yes"))
    replica = server_factory(extra=repl_extra("yes"))
    attach(master, replica)
    with master.raw() as m:
        m.call("XADD", "s", "1-1", "f", "v")
        assert m.call("XCFGSET", "s", "IDMP-DURATION", "3") == OK
        t0 = time.time()
        a = m.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        for _ in range(3):
            assert m.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == a
    wait_caught_up(master, replica)
    with master.raw() as m, replica.raw() as r:
        assert meta(r, "s") == meta(m, "s")
        assert meta(r, "s")[b"iids-duplicates"] == 3
        assert meta(r, "s")[b"iids-tracked"] == 1
        assert time.time() < t0 + 2.5, "too slow for this check"
        time.sleep(max(0.0, t0 + 3.3 - time.time()))
        assert meta(r, "s")[b"iids-tracked"] == 0
        assert meta(m, "s")[b"iids-tracked"] == 0
        b = m.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        assert b != a
    wait_caught_up(master, replica)
    with master.raw() as m, replica.raw() as r:
        assert db_state(m, ["s"], CONSUMER_TIMES) == db_state(r, ["s"], CONSUMER_TIMES)


def test_replica_restart_resyncs(server_factory):
    """A replica restarted from its own RDB and resynced has the master's state."""
    master = server_factory(extra=repl_extra("yes"))
    replica = server_factory(extra=repl_extra("yes"))
    w = Workload(seed=311, volatile=False)
    with master.raw() as m:
        w.setup(m)
        w.run(m, 150, sleep_for_expiry=False)
    attach(master, replica)
    wait_caught_up(master, replica)
    with replica.raw() as r:
        assert r.call("SAVE") == OK
    replica.stop()
    with master.raw() as m:
        w.run(m, 150, sleep_for_expiry=False)
    replica.start()
    attach(master, replica)
    wait_caught_up(master, replica)
    with master.raw() as m, replica.raw() as r:
        diff = diff_states(db_state(m, w.all_keys, CONSUMER_TIMES),
                           db_state(r, w.all_keys, CONSUMER_TIMES))
        assert diff == [], diff[:20]


def test_replica_keeps_insertion_times(server_factory):
    """The replica forgets an iid when the master does, whether it got it by full sync
    (RDB) or by the command stream applied late (replica paused with SIGSTOP)."""
    master = server_factory(extra=repl_extra("yes"))
    replica = server_factory(extra=repl_extra("yes"))
    with master.raw() as m:
        for k in ("full", "stream"):
            m.call("XADD", k, "1-1", "f", "v")
            assert m.call("XCFGSET", k, "IDMP-DURATION", "4") == OK
        t0 = time.time()
        m.call("XADD", "full", "IDMP", "p", "i", "*", "f", "v")
    time.sleep(2.0)
    attach(master, replica)
    replica.proc.send_signal(signal.SIGSTOP)
    try:
        with master.raw() as m:
            t1 = time.time()
            m.call("XADD", "stream", "IDMP", "p", "i", "*", "f", "v")
        time.sleep(2.0)
    finally:
        replica.proc.send_signal(signal.SIGCONT)
    wait_caught_up(master, replica)
    with replica.raw() as r:
        assert time.time() < t1 + 3.7, "too slow for this check"
        assert meta(r, "stream")[b"iids-tracked"] == 1
        time.sleep(max(0.0, t0 + 4.3 - time.time()))
        assert meta(r, "full")[b"iids-tracked"] == 0, "full sync gave the iid a new age"
        time.sleep(max(0.0, t1 + 4.3 - time.time()))
        assert meta(r, "stream")[b"iids-tracked"] == 0, \
            "the command stream applied late gave the iid a new age"
    with master.raw() as m, replica.raw() as r:
        keys = ["full", "stream"]
        assert db_state(m, keys, CONSUMER_TIMES) == db_state(r, keys, CONSUMER_TIMES)
