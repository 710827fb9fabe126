"""The `INFO idmp` section: module version and git revision, module streams,
iids tracked, duplicates answered, iids expired and evicted, native streams
converted and native commands forwarded, kept exact across DEL, COPY,
DEBUG RELOAD, RESTORE and FLUSHALL."""

import time

import pytest


def idmp_info(c):
    info = c.info("idmp")
    return {k[len("idmp_"):]: v for k, v in info.items() if k.startswith("idmp_")}


def settled(c, streams=0):
    """INFO idmp once a background flush has freed every module stream but
    `streams` (up to 5 s)."""
    for _ in range(250):
        i = idmp_info(c)
        if i["module_streams"] == streams:
            return i
        time.sleep(0.02)
    return idmp_info(c)


@pytest.fixture
def fresh(server_factory):
    s = server_factory(module_args={"idmp.capture-new-streams": "no"})
    with s.client() as c:
        yield s, c


def test_version_and_revision(fresh):
    _, c = fresh
    info = idmp_info(c)
    assert isinstance(info["version"], str) and info["version"].count(".") == 2
    assert len(str(info["git_revision"])) >= 7


def test_counters_follow_the_streams(fresh):
    _, c = fresh
    i = idmp_info(c)
    assert [i[k] for k in ("module_streams", "iids_tracked", "duplicates_answered",
                           "iids_expired", "iids_evicted")] == [0, 0, 0, 0, 0]
    c.xadd("a", {"f": "v"})  # a native stream (capture off): the host's XADD
    i = idmp_info(c)
    assert (i["commands_left_to_host"], i["native_commands_forwarded"]) == (1, 0)
    c.execute_command("XADD", "a", "MAXLEN", "5", "*", "f", "v")  # routed, forwarded
    assert idmp_info(c)["native_commands_forwarded"] == 1
    for key in ("m1", "m2"):
        for iid in ("i1", "i2", "i3"):
            c.execute_command("XADD", key, "IDMP", "p", iid, "*", "f", "v")
    c.execute_command("XADD", "m1", "IDMP", "p", "i1", "*", "f", "v")
    c.execute_command("XADD", "m1", "IDMPAUTO", "q", "*", "f", "v")
    c.execute_command("XADD", "m1", "IDMPAUTO", "q", "*", "f", "v")
    i = idmp_info(c)
    assert (i["module_streams"], i["iids_tracked"], i["duplicates_answered"]) == (2, 7, 2)
    # Conversion of the native stream.
    c.execute_command("XCFGSET", "a", "IDMP-MAXSIZE", "2")
    i = idmp_info(c)
    assert (i["module_streams"], i["native_streams_converted"]) == (3, 1)
    # maxsize: 2 of 3 kept.
    for iid in ("x", "y", "z"):
        c.execute_command("XADD", "a", "IDMP", "p", iid, "*", "f", "v")
    i = idmp_info(c)
    assert (i["iids_tracked"], i["iids_evicted"]) == (9, 1)
    # XCFGSET with new values forgets the stream's iids.
    c.execute_command("XCFGSET", "m2", "IDMP-DURATION", "1")
    assert idmp_info(c)["iids_tracked"] == 6
    c.execute_command("XADD", "m2", "IDMP", "p", "old", "*", "f", "v")
    time.sleep(1.1)
    # The next command on the stream reclaims what expired.
    c.execute_command("XADD", "m2", "IDMP", "p", "new", "*", "f", "v")
    i = idmp_info(c)
    assert (i["iids_tracked"], i["iids_expired"]) == (7, 1)
    # COPY, DEL, DEBUG RELOAD, RESTORE, FLUSHALL.
    c.copy("m1", "m1copy")  # m1: p's 3 iids and q's 1
    i = idmp_info(c)
    assert (i["module_streams"], i["iids_tracked"]) == (4, 11)
    c.delete("m1")
    i = idmp_info(c)
    assert (i["module_streams"], i["iids_tracked"]) == (3, 7)
    c.execute_command("DEBUG", "RELOAD")
    # Valkey 8+ frees the dataset DEBUG RELOAD replaces on its lazy-free
    # thread (lazyfree-lazy-user-flush): until it has, INFO counts the old
    # streams too (seen as (6, 14) with the machine loaded).
    i = settled(c, 3)
    assert (i["module_streams"], i["iids_tracked"]) == (3, 7)
    dump = c.dump("m1copy")
    c.restore("m1copy", 0, dump, replace=True)
    c.restore("m1again", 0, dump)
    i = idmp_info(c)
    assert (i["module_streams"], i["iids_tracked"]) == (4, 11)
    assert i["duplicates_answered"] == 2
    c.flushall()  # lazy on hosts with lazyfree-lazy-user-flush (Valkey 8+)
    i = settled(c)
    assert (i["module_streams"], i["iids_tracked"]) == (0, 0)
    assert (i["iids_expired"], i["iids_evicted"], i["native_streams_converted"]) == (1, 1, 1)


def test_async_flush_and_unlink(fresh):
    _, c = fresh
    for k in range(50):
        c.execute_command("XADD", "s%d" % k, "IDMP", "p", "i", "*", "f", "v")
    c.unlink("s0", "s1")
    assert idmp_info(c)["module_streams"] == 48
    c.flushall(asynchronous=True)
    i = settled(c)
    assert (i["module_streams"], i["iids_tracked"]) == (0, 0)
