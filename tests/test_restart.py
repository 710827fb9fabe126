"""Issue 3 / SPEC 8: RDB keeps everything. After a random workload, SAVE + restart,
BGSAVE + restart and DEBUG RELOAD give back every stream unchanged (XINFO STREAM
FULL with all entries, DEBUG DIGEST-VALUE, settings, counters, tracked iids
including those whose entries were deleted), and every tracked (pid, iid) retried
afterwards answers its original ID."""

import os

import pytest

from resp import OK
from server import ServerDied
from pworkload import (Workload, crc64, cut_at_opcode, module_opcode_offsets,
                       split_dump, db_state, diff_states, meta, retry,
                       wait_bgsave)


def _workload(c, seed, nops=400, groups=False):
    w = Workload(seed, groups=groups)
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


@pytest.mark.parametrize("how,groups", [("save", False), ("bgsave", False), ("save", True)])
def test_save_restart_keeps_everything(server_factory, how, groups):
    """(groups: consumer groups, consumers and PELs in the workload too)"""
    srv = server_factory()
    with srv.raw() as c:
        w = _workload(c, seed=(11 if how == "save" else 12) + 100 * groups, groups=groups)
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


@pytest.mark.parametrize("groups", [False, True])
def test_debug_reload_keeps_everything(server_factory, groups):
    srv = server_factory()
    with srv.raw() as c:
        w = _workload(c, seed=21 + 100 * groups, groups=groups)
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



# -- a damaged RDB file: a clean load failure, never a crash ------------------------

CRASH_MARKS = ("crashed by signal", "REDIS BUG REPORT", "panicked", "Guru Meditation",
               "ASSERTION FAILED")


def _damaged_rdb_start(srv, transform):
    """SAVE a module stream, rewrite its value in dump.rdb with ``transform`` (the file
    checksum recomputed so Redis hands the bytes to the module), restart. Returns
    (started, log)."""
    with srv.raw() as c:
        c.call("XADD", "s", "1-1", "f", "v")
        assert c.call("XCFGSET", "s", "IDMP-DURATION", "300") == OK
        for i in range(20):
            c.call("XADD", "s", "IDMP", "p%d" % (i % 3), "i%d" % i, "*", "n", str(i))
        dumped, _ = split_dump(c.call("DUMP", "s"))
        assert c.call("SAVE") == OK
    srv.stop()
    path = os.path.join(srv.dir, srv.dbfilename)
    with open(path, "rb") as f:
        data = f.read()
    # the only key: <type 7> <key "s"> <module id> <module data> ... <EOF 0xff> <crc64>
    head = b"\x07\x01s" + dumped[1:10]
    assert data.count(head) == 1 and data[-9] == 0xFF
    at = data.index(head)
    value = b"\x07" + data[at + 3:-9]
    body = data[:at] + b"\x07\x01s" + transform(value)[1:] + b"\xff"
    with open(path, "wb") as f:
        f.write(body + crc64(body).to_bytes(8, "little"))
    try:
        srv.start()
        started = True
    except ServerDied:
        started = False
    log = srv.log_tail(40)
    for mark in CRASH_MARKS:
        assert mark not in log, "the server crashed loading a damaged RDB:\n" + log
    if srv.proc is not None and srv.proc.poll() is not None:
        assert srv.proc.returncode >= 0, srv.proc.returncode   # not killed by a signal
    return started, log


def test_rdb_file_with_newer_encoding_version_fails_cleanly(server_factory):
    srv = server_factory()

    def bump(v):
        mid = int.from_bytes(v[2:10], "big")
        return v[:2] + ((mid & ~1023) | ((mid & 1023) + 1)).to_bytes(8, "big") + v[10:]
    started, log = _damaged_rdb_start(srv, bump)
    assert not started, "a newer encoding version was loaded"
    assert "idmp: cannot load an idmp-strm value" in log, log


@pytest.mark.parametrize("frac", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_rdb_file_with_short_module_value_fails_cleanly(server_factory, frac):
    """The module's data cut after some opcode and properly terminated: Redis reads it
    fine, the module must notice it is short, refuse it and say so in the log."""
    srv = server_factory()
    state = {}

    def cut(v):
        starts, _ = module_opcode_offsets(v)
        state["k"] = k = min(len(starts) - 1, int(len(starts) * frac))
        return cut_at_opcode(v, k)
    started, log = _damaged_rdb_start(srv, cut)
    assert not started, "a module value cut after %d opcodes was loaded" % state["k"]
    assert "idmp: cannot load an idmp-strm value" in log, log
