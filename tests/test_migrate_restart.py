"""Issue 15, the way out by restart: an RDB written by Redis 7.0 with the
module is started by native Redis 8.6.3 with the same ``loadmodule`` line;
the module loads in migration mode and turns every module stream into a
native one when loading ends. After a SAVE, 8.6.3 starts without the module
and nothing is missing; a producer retrying the same (pid, iid) across the
move is answered with the original ID every time."""

import pytest

from migrate_util import (client, db_state, info_idmp, native86_binary, populate,
                          retries)

KEYS = ["s1", "s2", "s3", "empty"]


def test_restart_with_the_module_then_without(server_factory):
    b86 = native86_binary()
    m = server_factory()  # Redis 7.0.15 with the module
    c = client(m)
    sent = populate(c)
    assert c.execute_command("TYPE", "s1") == b"stream"
    before = db_state(c, KEYS)
    assert not retries(c, sent), "retries on 7.0 itself"
    before_retry = db_state(c, KEYS)
    assert {k: v["info"] for k, v in before.items()} == \
        {k: v["info"] for k, v in before_retry.items()}
    assert c.execute_command("SAVE") == b"OK"
    c.close()
    m.stop()

    # 1. the same configuration on native 8.6.3
    n = server_factory(binary=b86, workdir=m.dir, start=False)
    n.start()
    c = client(n)
    info = info_idmp(c)
    assert info["idmp_migration_mode"] == 1
    assert info["idmp_migrated_streams"] == 4, n.log_tail()
    assert info["idmp_migration_failures"] == 0, n.log_tail()
    assert info["idmp_module_streams"] == 0
    # the module routes nothing: the host's own XADD, no idmp.* twin
    assert c.execute_command("COMMAND", "INFO", "idmp.xrange") == [None]
    for k in KEYS:
        assert c.execute_command("OBJECT", "ENCODING", k) == b"stream"
    assert c.execute_command("GET", "plain-string") == b"v"
    assert c.execute_command("HGETALL", "plain-hash") == [b"f", b"v"]
    after = db_state(c, KEYS)
    for k in KEYS:
        for part in before[k]:
            assert after[k][part] == before[k][part], (k, part, before[k][part], after[k][part])
    assert not retries(c, sent), "retries after the move"
    assert db_state(c, KEYS) == before, "a retry changed something"
    digests = {k: c.execute_command("DEBUG", "DIGEST-VALUE", k) for k in KEYS}
    assert c.execute_command("SAVE") == b"OK"
    c.close()
    n.stop()

    # 2. without the module
    w = server_factory(binary=b86, module=False, workdir=m.dir, start=False)
    w.start()
    c = client(w)
    assert db_state(c, KEYS) == before
    assert {k: c.execute_command("DEBUG", "DIGEST-VALUE", k) for k in KEYS} == digests
    assert not retries(c, sent), "retries on 8.6.3 without the module"
    c.execute_command("XADD", "s1", "IDMP", "p-new", "i-new", "*", "f", "v")
    assert c.execute_command("XADD", "s1", "IDMP", "p-new", "i-new", "*", "f", "v") \
        == c.execute_command("XREVRANGE", "s1", "+", "-", "COUNT", "1")[0][0]
