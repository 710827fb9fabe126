"""Issue 13: which clients' commands the filter routes while transactions are
open (src/server/txn.rs).

A command queued after MULTI runs at EXEC, so the filter must not leave it to
the host on the strength of what the key is when it is queued. Redis 7.0's
filter cannot tell clients apart: after any MULTI every client's stream
commands are routed until the cron finds no client in a transaction. Where
the filter names its client (Redis 7.2+, Valkey), only the clients that sent
MULTI are routed, each until the cron finds it out of its transaction.

The module's server runs with capture of new streams off, so that native
streams and missing keys are left to the host. The scenarios whose replies
do not depend on the module's INFO also run on native Redis 8.6.3, and the
replies must be equal.
"""

import time

import pytest

from resp import OK, Err, Simple
from server import module_path
from test_nameidx import NO_CAPTURE, info, is_left, settle_multi

QUEUED = Simple(b"QUEUED")


@pytest.fixture
def mod(server_factory):
    s = server_factory(module_args=NO_CAPTURE)
    settle_multi(s.raw())
    return s


def per_client(c):
    """Whether this host lists clients in transactions one by one."""
    return info(c)["host_filter_client_id"] == 1


def converted_while_queued(s):
    """c1 queues commands on a native stream `n` and a missing key `m`;
    meanwhile c2 turns `n` into a module stream and creates `m` as one
    (XADD IDMP); then c1 runs EXEC. Returns what c1 and c2 saw. (`n`'s last
    ID lies in the future, so that its new IDs are the same everywhere.)"""
    with s.raw() as c1, s.raw() as c2:
        c2.call("FLUSHALL")
        c2.call("XADD", "n", "99999999999999-0", "f", "v")
        assert c1.call("MULTI") == OK
        for cmd in (("XLEN", "n"), ("TYPE", "n"), ("XRANGE", "n", "-", "+"),
                    ("XADD", "n", "*", "f", "v"), ("XLEN", "n"),
                    ("XREVRANGE", "n", "+", "-", "COUNT", "1"),
                    ("XREAD", "COUNT", "5", "STREAMS", "n", "0"),
                    ("TYPE", "m"), ("XLEN", "m")):
            assert c1.call(*cmd) == QUEUED, cmd
        out = [c2.call("XADD", "n", "IDMP", "p", "i", "*", "g", "w")]
        assert isinstance(c2.call("XADD", "m", "IDMP", "p", "i", "*", "g", "w"), bytes)
        out.append(c1.call("EXEC"))
        out.append(c2.call("XINFO", "STREAM", "n"))
        return out


def test_a_stream_converted_between_queueing_and_exec(mod, oracle86_srv):
    got = converted_while_queued(mod)
    assert got == converted_while_queued(oracle86_srv)
    assert got[1][:2] == [2, Simple(b"stream")] and got[1][4] == 3, got


def test_other_clients_keep_the_host_path_during_a_transaction(mod):
    with mod.raw() as c1, mod.raw() as c2:
        c2.call("XADD", "n", "*", "f", "v")
        assert c1.call("MULTI") == OK
        assert c1.call("XLEN", "n") == QUEUED
        i = info(c2)
        assert i["left_to_host_suspended"] == 1
        if per_client(c2):
            # only c1 is routed
            assert (i["left_to_host_suspended_all"], i["left_to_host_suspended_clients"]) == (0, 1)
            assert is_left(c2, "XLEN", "n") == (True, 1)
            assert is_left(c2, "TYPE", "n") == (True, Simple(b"stream"))
        else:
            # Redis 7.0: every client is routed
            assert i["left_to_host_suspended_all"] == 1
            assert is_left(c2, "XLEN", "n") == (False, 1)
        assert c1.call("EXEC") == [1]
        settle_multi(c1)
        assert is_left(c1, "XLEN", "n") == (True, 1)
        assert is_left(c2, "XLEN", "n") == (True, 1)


def test_the_cron_ends_a_transaction_not_the_exec_it_filters(server_factory):
    """An EXEC the server postpones (a paused server): the client stays in
    its transaction, and listed, until the EXEC runs. A refused EXEC (it
    aborts the transaction) and a refused MULTI end it."""
    s = server_factory(module_args=NO_CAPTURE)
    with s.raw() as admin, s.raw() as c:
        settle_multi(admin)
        if not per_client(admin):
            pytest.skip("Redis 7.0's filter does not name its client")
        assert c.call("MULTI") == OK
        assert c.call("XADD", "n", "1-1", "f", "v") == QUEUED
        assert admin.call("CLIENT", "PAUSE", "1500", "WRITE") == OK
        c.send("EXEC")
        time.sleep(0.6)  # several cron ticks
        assert info(admin)["left_to_host_suspended_clients"] == 1
        assert c.read() == [b"1-1"]  # once the pause ends
        settle_multi(admin)
        assert is_left(c, "XLEN", "n") == (True, 1)
        # refused by the ACL: EXEC (which aborts the transaction), MULTI
        assert admin.call("ACL", "SETUSER", "u", "on", ">pw", "+@all", "-exec", "~*") == OK
        settle_multi(admin)  # (ACL SETUSER may be queued in somebody's MULTI)
        assert c.call("AUTH", "u", "pw") == OK
        assert c.call("MULTI") == OK
        assert c.call("XLEN", "n") == QUEUED
        got = c.call("EXEC")
        assert isinstance(got, Err) and got.value.startswith(b"EXECABORT"), got
        settle_multi(admin)
        assert admin.call("ACL", "SETUSER", "u", "-multi") == OK
        settle_multi(admin)
        got = c.call("MULTI")
        assert isinstance(got, Err) and got.value.startswith(b"NOPERM"), got
        settle_multi(admin)
        assert is_left(c, "XLEN", "n") == (True, 1)


def test_clients_gone_or_many(mod):
    with mod.raw() as c:
        if not per_client(c):
            pytest.skip("Redis 7.0's filter does not name its client")
        gone = mod.raw()
        assert gone.call("MULTI") == OK
        assert info(c)["left_to_host_suspended_clients"] == 1
        gone.close()
        settle_multi(c)
        # past 64 clients in transactions, every client is routed
        many = [mod.raw() for _ in range(65)]
        try:
            for m in many:
                assert m.call("MULTI") == OK
            i = info(c)
            assert i["left_to_host_suspended_all"] == 1, i
            assert is_left(c, "XLEN", "n") == (False, 0)
            for m in many:
                assert m.call("EXEC") == []
        finally:
            for m in many:
                m.close()
        settle_multi(c)
        assert info(c)["left_to_host_suspended_all"] == 0
        assert is_left(c, "XLEN", "n") == (True, 0)


def test_a_transaction_open_when_the_module_loads(server_factory, oracle86_srv):
    """A client in MULTI before MODULE LOAD queues its commands after it:
    its MULTI never passed the filter, so the module asks CLIENT LIST."""
    s = server_factory(module=False, extra=["--enable-module-command", "yes"])

    def scenario(srv, load):
        with srv.raw() as c1, srv.raw() as c2:
            c2.call("FLUSHALL")
            assert c1.call("MULTI") == OK
            if load:
                assert c2.call("MODULE", "LOAD", module_path(),
                               "capture-new-streams", "no") == OK
                i = info(c2)
                assert i["left_to_host_suspended_all"] == 1, i
            for cmd in (("XLEN", "k"), ("TYPE", "k"), ("XADD", "k", "*", "g", "w"),
                        ("XLEN", "k")):
                assert c1.call(*cmd) == QUEUED
            assert isinstance(c2.call("XADD", "k", "IDMP", "p", "i", "*", "f", "v"), bytes)
            got = c1.call("EXEC")
            assert isinstance(got[2], bytes), got
            return got[:2] + got[3:]

    got = scenario(s, True)
    assert got == scenario(oracle86_srv, False) == [1, Simple(b"stream"), 2], got
