"""Issue 3 / SPEC 8: RDB keeps everything. After a random workload, SAVE + restart,
BGSAVE + restart and DEBUG RELOAD give back every stream unchanged (XINFO STREAM
FULL with all entries, DEBUG DIGEST-VALUE, settings, counters, tracked iids
including those whose entries were deleted), and every tracked (pid, iid) retried
afterwards answers its original ID."""

import pytest

from resp import OK
from pworkload import (Workload, db_state, diff_states, meta, retry,
                       wait_bgsave)


def _workload(c, seed, nops=400):
    w = Workload(seed)
    w.setup(c)
    w.run(c, nops)
    # a tracked iid whose entry is gone, on purpose
    # a tracked iid whose entry is deleted (the first whose entry is still live)
    assert any(c.call("XDEL", t[0], t[3]) == 1 for t in w.tracked())
    return w


def _check_retries(c, w):
    tracked = w.tracked()
    assert len(tracked) > 20, len(tracked)
    before = {k: meta(c, k) for k in w.keys}
    bad = retry(c, tracked)
    assert not bad, "retried pairs not answered with their original ID: %r" % bad[:10]
    # every retry was a duplicate: only iids-duplicates moved, by the number of retries
    per_key = {}
    for t in tracked:
        per_key[t[0]] = per_key.get(t[0], 0) + 1
    for k in w.keys:
        after = meta(c, k)
        exp = dict(before[k])
        exp[b"iids-duplicates"] += per_key.get(k, 0)
        assert after == exp, (k, before[k], after)


@pytest.mark.parametrize("how", ["save", "bgsave"])
def test_save_restart_keeps_everything(server_factory, how):
    srv = server_factory()
    with srv.raw() as c:
        w = _workload(c, seed=11 if how == "save" else 12)
        keys = w.all_keys
        before = db_state(c, keys)
        assert all(s["module"] for s in before.values())
        if how == "save":
            assert c.call("SAVE") == OK
        else:
            c.call("BGSAVE")
            assert wait_bgsave(c) == "ok"
        digest = c.call("DEBUG", "DIGEST")
    srv.restart()
    with srv.raw() as c:
        after = db_state(c, keys)
        assert diff_states(before, after) == []
        assert c.call("DEBUG", "DIGEST") == digest
        _check_retries(c, w)
    assert srv.alive()


def test_debug_reload_keeps_everything(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        w = _workload(c, seed=21)
        keys = w.all_keys
        before = db_state(c, keys)
        for _ in range(2):
            assert c.call("DEBUG", "RELOAD") == OK
            assert diff_states(before, db_state(c, keys)) == []
        _check_retries(c, w)
        # and the retries (counter bumps) survive a reload too
        mid = db_state(c, keys)
        assert c.call("DEBUG", "RELOAD") == OK
        assert diff_states(mid, db_state(c, keys)) == []


def test_restart_twice_with_writes_between(server_factory):
    """Load, write more (fresh adds, duplicates, XCFGSET), save again: nothing of the
    first generation is lost in the second."""
    srv = server_factory()
    with srv.raw() as c:
        w = _workload(c, seed=31, nops=250)
        assert c.call("SAVE") == OK
    srv.restart()
    with srv.raw() as c:
        w.run(c, 250, sleep_for_expiry=False)
        before = db_state(c, w.all_keys)
        assert c.call("SAVE") == OK
    srv.restart()
    with srv.raw() as c:
        assert diff_states(before, db_state(c, w.all_keys)) == []
        _check_retries(c, w)


def test_restart_keeps_settings_and_counters_of_untouched_stream(server_factory):
    """XCFGSET on a stream that never used IDMP, and a stream whose producers were all
    cleared by XCFGSET: settings and lifetime counters survive."""
    srv = server_factory()
    with srv.raw() as c:
        c.call("XADD", "never", "5-5", "f", "v")
        assert c.call("XCFGSET", "never", "IDMP-DURATION", "77", "IDMP-MAXSIZE", "9") == OK
        c.call("XADD", "cleared", "IDMP", "p", "i1", "*", "f", "v")
        c.call("XADD", "cleared", "IDMP", "p", "i1", "*", "f", "v")
        assert c.call("XCFGSET", "cleared", "IDMP-MAXSIZE", "3") == OK
        before = {k: meta(c, k) for k in ("never", "cleared")}
        assert before["never"][b"idmp-duration"] == 77
        assert before["cleared"][b"iids-added"] == 1
        assert before["cleared"][b"iids-duplicates"] == 1
        assert before["cleared"][b"iids-tracked"] == 0
        assert c.call("SAVE") == OK
    srv.restart()
    with srv.raw() as c:
        assert {k: meta(c, k) for k in ("never", "cleared")} == before

