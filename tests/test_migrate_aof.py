"""Issue 15, the way out through the AOF.

- With ``idmp.aof-rewrite-native yes`` and ``aof-use-rdb-preamble no``, the
  rewrite of Redis 7.0 with the module holds only commands native Redis 8.6.3
  understands; the same AOF directory replays on 8.6.3 without the module
  into native streams, and on 7.0 with the module into module streams (the
  loader runs no command filter: the bare XADD/XSETID/XGROUP/XCLAIM build a
  native stream that the module's XCFGSET converts in place).
- With the RDB preamble (and module commands in the AOF tail), 8.6.3 with
  the module in migration mode loads it, converts, and writes the conversion
  to its own AOF; after a BGREWRITEAOF it starts without the module.
"""

import glob
import os
import shutil
import tempfile
import time

from migrate_util import (client, db_state, info_idmp,
                          native86_binary, populate, require_863_reads_host_rdb, retries)
from pworkload import parse_aof

KEYS = ["s1", "s2", "s3", "empty"]
NATIVE_86 = {b"XADD", b"XSETID", b"XGROUP", b"XCLAIM", b"XCFGSET", b"XIDMPRECORD",
             b"XDELEX", b"XTRIM", b"XDEL", b"SELECT", b"SET", b"HSET", b"PEXPIREAT",
             b"HMSET"}


def wait_rewrite(c, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = c.execute_command("INFO", "persistence").decode()
        if "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info:
            assert "aof_last_bgrewrite_status:ok" in info, info
            return
        time.sleep(0.05)
    raise AssertionError("AOF rewrite did not finish")


def base_file(d):
    return [f for f in glob.glob(os.path.join(d, "appendonlydir", "*")) if ".base." in f]


def _id(b):
    ms, seq = b.split(b"-")
    return int(ms), int(seq)


def aof_form_expected(before, sent):
    """The one field the AOF way cannot keep: placeholders for trimmed
    entries that a tracked iid or a pending entry still names are removed
    with XDELEX (the only deletion both hosts know once the stream is a
    module stream on 7.0), which raises max-deleted-entry-id to the highest
    of them. Such IDs are below the first entry, where the tombstone mark
    does not change consumer-group lag. Returns `before` with that change."""
    out = {}
    for k, st in before.items():
        st = dict(st, info=dict(st["info"]))
        first = st["info"][b"recorded-first-entry-id"]
        named = {s[4] for s in sent if s[0] == k}
        for g in st["groups"]:
            named.update(p[0] for p in g[4])
        live = {e[0] for e in st["entries"]}
        lead = [i for i in named if i not in live and st["entries"]
                and _id(i) < _id(first)]
        md = st["info"][b"max-deleted-entry-id"]
        if lead and max(map(_id, lead)) > _id(md):
            st["info"][b"max-deleted-entry-id"] = max(lead, key=_id)
        out[k] = st
    return out


def host_xdelex_expected(before, sent):
    """The AOF way on a host whose own XDELEX its AOF loader would run on a
    module stream (Redis 8.2/8.4: native_aof Form::AofHostXdelex): the
    placeholders go before XCFGSET, exactly (max-deleted-entry-id is kept),
    and the records naming deleted entries are left out (README, "What does
    not move"). Returns (`before` with those records gone, the (key, pid,
    iid) left out)."""
    out, gone = {}, set()
    for k, st in before.items():
        st = dict(st, info=dict(st["info"]))
        live = {e[0] for e in st["entries"]}
        mine = [x for x in sent if x[0] == k]
        lost = {(x[0], x[1], x[2]) for x in mine if x[4] not in live}
        gone |= lost
        st["info"][b"iids-tracked"] -= len(lost)
        st["info"][b"pids-tracked"] = len({x[1] for x in mine if (x[0], x[1], x[2]) not in lost})
        out[k] = st
    return out, gone


def assert_same(before, after):
    for k in before:
        for part in before[k]:
            assert after[k][part] == before[k][part], (k, part, before[k][part], after[k][part])


def test_native_rewrite_replays_on_863_and_on_70(server_factory):
    b86 = native86_binary()
    aof = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"]
    m = server_factory(extra=aof, module_args={"idmp.aof-rewrite-native": "yes"})
    c = client(m)
    sent = populate(c)
    before = db_state(c, KEYS)
    c.execute_command("BGREWRITEAOF")
    wait_rewrite(c)
    [base] = base_file(m.dir)
    with open(base, "rb") as f:
        cmds = parse_aof(f.read())
    names = {a[0].upper() for a in cmds}
    assert names <= NATIVE_86, names - NATIVE_86
    host_xdelex = "XDELEX" in str(info_idmp(c)["idmp_host_native_features"])
    assert b"XIDMPRECORD" in names and b"XCLAIM" in names
    assert (b"XDELEX" in names) != host_xdelex, names
    c.close()
    m.stop()
    copy = tempfile.mkdtemp(prefix="idmp-migrate-aof-")
    shutil.copytree(os.path.join(m.dir, "appendonlydir"), os.path.join(copy, "appendonlydir"))

    if host_xdelex:
        expected, gone = host_xdelex_expected(before, sent)
        assert gone, "the workload has no record of a deleted entry"
    else:
        expected, gone = aof_form_expected(before, sent), set()
        assert expected != before, "the workload has no placeholder for a trimmed entry"

    def assert_retries(c):
        bad = {(b[0], b[1], b[2]) for b in retries(c, sent)}
        assert bad == gone, (sorted(bad - gone)[:5], sorted(gone - bad)[:5])

    # the host with the module: module streams again, the same state
    m.start()
    c = client(m)
    assert info_idmp(c)["idmp_module_streams"] == 4, m.log_tail()
    assert_same(expected, db_state(c, KEYS))
    assert_retries(c)
    c.close()
    m.stop()

    # 8.6.3 without the module, on a copy of the AOF as the rewrite left it
    n = server_factory(binary=b86, module=False, extra=aof, workdir=copy, start=False)
    try:
        n.start()
        c = client(n)
        assert_same(expected, db_state(c, KEYS))
        assert_retries(c)
    finally:
        n.stop()
        shutil.rmtree(copy, ignore_errors=True)


def test_preamble_aof_on_863_with_the_module(server_factory):
    require_863_reads_host_rdb()
    b86 = native86_binary()
    aof = ["--appendonly", "yes", "--aof-use-rdb-preamble", "yes"]
    m = server_factory(extra=aof)
    c = client(m)
    sent = populate(c)
    c.execute_command("BGREWRITEAOF")
    wait_rewrite(c)
    # an AOF tail of module commands after the preamble
    for i in range(10):
        fields = ("tail", str(i))
        id_ = c.execute_command("XADD", "s1", "IDMP", "p-tail", "t%d" % i, "*", *fields)
        sent.append(("s1", "p-tail", "t%d" % i, fields, id_))
    c.execute_command("XREADGROUP", "GROUP", "g1", "tailreader", "COUNT", "2", "STREAMS", "s1", ">")
    c.execute_command("XADD", "s4", "IDMP", "p4", "i4", "*", "f", "v")
    sent.append(("s4", "p4", "i4", ("f", "v"),
                 c.execute_command("XRANGE", "s4", "-", "+")[0][0]))
    keys = KEYS + ["s4"]
    before = db_state(c, keys)
    c.close()
    m.stop()

    n = server_factory(binary=b86, extra=aof, workdir=m.dir, start=False)
    n.start()
    c = client(n)
    info = info_idmp(c)
    assert info["idmp_migration_failures"] == 0, n.log_tail()
    assert info["idmp_module_streams"] == 0
    assert_same(before, db_state(c, keys))
    assert not retries(c, sent)
    c.close()
    n.stop()
    # the conversion reached 8.6.3's own AOF: it replays (with the module).
    # s2, s3 and empty come back native from it; s1 is converted again when
    # the replayed tail's first idmp.xadd reaches it (a conversion inside the
    # AOF loader is not propagated: the loader writes nothing), the rest stays.
    n.start()
    c = client(n)
    assert info_idmp(c)["idmp_migrated_streams"] == 1, n.log_tail()
    assert_same(before, db_state(c, keys))
    c.execute_command("BGREWRITEAOF")
    wait_rewrite(c)
    c.close()
    n.stop()
    # after the rewrite, 8.6.3 starts without the module
    w = server_factory(binary=b86, module=False, extra=aof, workdir=m.dir, start=False)
    w.start()
    c = client(w)
    assert_same(before, db_state(c, keys))
    assert not retries(c, sent)
