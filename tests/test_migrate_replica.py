"""Issue 15, the way out without downtime: a native Redis 8.6.3 replica with
the module in migration mode replicates from a Redis 7.0 master with the
module (the full sync, whose module streams it converts when loading ends,
then the master's command stream, whose module-internal names it translates
into native commands), serves reads equal to the master's, and after
REPLICAOF NO ONE answers every retried (pid, iid) with its original ID."""

import time

import redis

from migrate_util import (Retrier, client, db_state, info_idmp, native86_binary,
                          populate, require_863_reads_host_rdb, retries)

KEYS = ["s1", "s2", "s3", "empty", "new"]


def wait_link(c, timeout=20):
    deadline = time.time() + timeout
    info = ""
    while time.time() < deadline:
        info = c.execute_command("INFO", "replication").decode()
        if "master_link_status:up" in info and "master_sync_in_progress:0" in info:
            return
        time.sleep(0.05)
    raise AssertionError("replica link not up:\n" + info)


def wait_offset(master, replica, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        mo = int([l for l in master.execute_command("INFO", "replication").decode().splitlines()
                  if l.startswith("master_repl_offset:")][0].split(":")[1])
        ro = int([l for l in replica.execute_command("INFO", "replication").decode().splitlines()
                  if l.startswith("slave_repl_offset:")][0].split(":")[1])
        if ro >= mo:
            return
        time.sleep(0.05)
    raise AssertionError("replica behind")


def test_replica_on_863_then_promotion(server_factory):
    b86 = native86_binary()
    m = server_factory(extra=["--repl-diskless-sync-delay", "0"])
    mc = client(m)
    sent = populate(mc, keys=("s1", "s2", "s3"), n=50)
    producer = Retrier(m.port, sent)
    producer.start()
    r = server_factory(binary=b86, extra=["--replicaof", "127.0.0.1", str(m.port)])
    # retries reach the master while the replica syncs
    assert not retries(mc, sent)
    rc = client(r)
    wait_link(rc)
    info = info_idmp(rc)
    assert info["idmp_migration_mode"] == 1
    assert info["idmp_migrated_streams"] == 4, r.log_tail()
    assert info["idmp_migration_failures"] == 0
    # the master's command stream: every kind of write a module stream propagates
    for i in range(30):
        k = "s%d" % (1 + i % 3)
        fields = ("after", str(i))
        id_ = mc.execute_command("XADD", k, "IDMP", "p-live", "live-%d" % i, "*", *fields)
        sent.append((k, "p-live", "live-%d" % i, fields, id_))
    assert not retries(mc, sent)                               # idmp.idmpcounters
    id_ = mc.execute_command("XADD", "new", "IDMP", "pn", "in", "MAXLEN", "=", "5", "*", "f", "v")
    sent.append(("new", "pn", "in", ("f", "v"), id_))           # IDMPCFG, trimming
    mc.execute_command("XADD", "s1", "MAXLEN", "~", "1", "*", "f", "v")   # exact trim
    mc.execute_command("XREADGROUP", "GROUP", "g1", "carol", "COUNT", "4", "STREAMS", "s1", ">")
    mc.execute_command("XREADGROUP", "GROUP", "g1", "carol", "STREAMS", "s2", "0")
    mc.execute_command("XACK", "s2", "g1", sent[60][4])
    mc.execute_command("XCLAIM", "s3", "g1", "dave", "0", sent[110][4])
    mc.execute_command("XGROUP", "CREATECONSUMER", "s3", "g2", "erin")
    mc.execute_command("XGROUP", "DELCONSUMER", "s3", "g2", "idle-consumer")
    mc.execute_command("XGROUP", "SETID", "s3", "g2", "0", "ENTRIESREAD", "0")
    mc.execute_command("XDEL", "s3", sent[115][4])
    mc.execute_command("XTRIM", "s2", "MAXLEN", "=", "40")
    mc.execute_command("XIDMPRECORD", "s3", "p-rec", "i-rec", sent[120][4])
    sent.append(("s3", "p-rec", "i-rec", ("x", "y"), sent[120][4]))
    mc.execute_command("XCFGSET", "empty", "IDMP-DURATION", "500")
    mc.execute_command("XSETID", "empty", "999999999999999-0")
    wait_offset(mc, rc)
    master_state = db_state(mc, KEYS)
    replica_state = db_state(rc, KEYS)
    for k in KEYS:
        for part in master_state[k]:
            assert replica_state[k][part] == master_state[k][part], \
                (k, part, master_state[k][part], replica_state[k][part])
    assert rc.execute_command("OBJECT", "ENCODING", "new") == b"stream"
    # no command of the master's stream failed on the replica
    with open(r.logfile, encoding="utf-8", errors="replace") as f:
        log = f.read()
    assert "sending an error to its master" not in log, log[-3000:]
    assert "mismatch" not in log.lower()
    # failover: the replica takes the producers
    assert rc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    producer.sent = list(sent)
    producer.port = r.port
    m.stop()
    time.sleep(0.3)
    assert producer.finish() == []
    assert producer.ports_answered == {m.port, r.port}
    bad = retries(rc, sent)
    assert not bad, bad[:5]
    assert db_state(rc, KEYS) == replica_state


def test_conversion_on_an_863_master_reaches_its_replica(server_factory):
    """A conversion on 8.6.3 (here: a module stream arriving by RESTORE) is
    propagated as native commands: a replica *without* the module ends with
    the same native stream."""
    require_863_reads_host_rdb()  # the DUMP payload is the host's
    b86 = native86_binary()
    m = server_factory()
    c = client(m)
    sent = populate(c)
    dump = c.execute_command("DUMP", "s2")
    before = db_state(c, ["s2"])
    n = server_factory(binary=b86, extra=["--repl-diskless-sync-delay", "0"])
    nc = client(n)
    r = server_factory(binary=b86, module=False,
                       extra=["--replicaof", "127.0.0.1", str(n.port)])
    rc = client(r)
    wait_link(rc)
    assert nc.execute_command("RESTORE", "s2", "0", dump) == b"OK"
    wait_offset(nc, rc)
    assert info_idmp(nc)["idmp_migrated_streams"] == 1
    assert db_state(nc, ["s2"]) == before
    assert db_state(rc, ["s2"]) == before
    assert nc.execute_command("DEBUG", "DIGEST-VALUE", "s2") == \
        rc.execute_command("DEBUG", "DIGEST-VALUE", "s2")
    assert rc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert not retries(rc, [s for s in sent if s[0] == "s2"])


def test_translators_refuse_clients(server_factory):
    """The translators exist for the master link and the AOF loader only: a
    client cannot write through them (its ACL would not be checked)."""
    n = server_factory(binary=native86_binary())
    c = client(n)
    try:
        c.execute_command("idmp.xadd", "s", "5-1", "f", "v")
        raise AssertionError("idmp.xadd accepted from a client")
    except redis.ResponseError as e:
        assert "accepted only from a master or the AOF" in str(e), e
    assert c.execute_command("EXISTS", "s") == 0
