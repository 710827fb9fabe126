"""Issue 13: the filter's permission pre-check, answered from a cache
(src/server/acl.rs `denied_natively`, src/server/aclcache.rs).

On Redis 7.2+ and Valkey the filter asks, before routing a command, whether
the host would deny the native command (keys included): a denied call stays
unrouted and the host denies it in its own words. A full check costs about half
as much as a native XLEN, so a client allowed a command whose user no
argument can deny (keys `~*`, every database, no selectors, no rule for a
first argument) is answered from a cache until anything that may change
permissions passes the filter (ACL, AUTH, HELLO, RESET, MODULE, another
module's command, EXEC of a transaction that queued one of those).

Each step runs on the module's server (module streams) and on native Redis
8.6.3; replies and ACL LOG entries must be equal. INFO idmp's
`acl_prechecks_cached` says whether the cache answered.
"""

import pytest

from resp import OK, Err, Simple
from test_acl_users import acl_log
from test_nameidx import info


def cached(c):
    return info(c)["acl_prechecks_cached"]


@pytest.fixture
def mod(server_factory):
    s = server_factory()
    with s.raw() as c:
        i = info(c)
        if not (i["host_acl_categories"] and i["host_filter_client_id"]):
            pytest.skip("no filter pre-check on this host (Redis 7.0: the module "
                        "command checks by itself)")
    return s


def steps(srv, on_module):
    """Runs the scenario; returns the replies and the ACL LOG, and on the
    module's server asserts when the cache answers."""
    out = []
    with srv.raw() as admin, srv.raw() as c, srv.raw() as probe:
        admin.call("FLUSHALL")
        admin.call("ACL", "DELUSER", "u", "v")
        assert admin.call("ACL", "LOG", "RESET") == OK
        assert admin.call("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*") == OK
        assert admin.call("ACL", "SETUSER", "v", "on", ">pw", "+@all", "-xlen", "~*") == OK
        assert admin.call("XADD", "n", "1-1", "f", "v") == b"1-1"
        assert isinstance(admin.call("XADD", "n", "IDMP", "p", "i", "*", "f", "v"), bytes)
        # a1: a module stream too (a missing key is left to the host, unchecked)
        assert admin.call("XADD", "a1", "2-1", "f", "v") == b"2-1"
        assert c.call("AUTH", "u", "pw") == OK

        def run(*cmd, hits=None):
            before = cached(probe) if on_module else 0
            reply = c.call(*cmd)
            out.append(reply)
            if on_module and hits is not None:
                assert cached(probe) - before == hits, (cmd, reply)
            return reply

        run("XLEN", "n", hits=0)  # full check, remembered
        run("XLEN", "n", hits=1)
        run("TYPE", "n", hits=0)
        run("TYPE", "n", hits=1)
        run("XRANGE", "n", "-", "+", "COUNT", "1", hits=0)
        run("XLEN", "n", hits=1)
        # revoked: the next call is checked in full, and denied natively
        assert admin.call("ACL", "SETUSER", "u", "-xlen") == OK
        assert isinstance(run("XLEN", "n", hits=0), Err)
        assert isinstance(run("XLEN", "n", hits=0), Err)
        run("TYPE", "n", hits=0)
        # keys restricted: never answered from the cache
        assert admin.call("ACL", "SETUSER", "u", "+xlen", "resetkeys", "~a*") == OK
        run("XLEN", "a1", hits=0)
        run("XLEN", "a1", hits=0)
        assert isinstance(run("XLEN", "n", hits=0), Err)
        assert admin.call("ACL", "SETUSER", "u", "~*") == OK
        run("XLEN", "n", hits=0)
        run("XLEN", "n", hits=1)
        # a selector allows the command for some keys only, a rule for a
        # first argument with one argument only: never answered from the
        # cache, each call denied or allowed as natively
        assert admin.call("ACL", "SETUSER", "u", "-xlen", "(+xlen ~a*)") == OK
        run("XLEN", "a1", hits=0)
        assert isinstance(run("XLEN", "n", hits=0), Err)
        run("XLEN", "a1", hits=0)
        assert admin.call("ACL", "SETUSER", "u", "clearselectors", "-xlen", "+xlen|a1") == OK
        run("XLEN", "a1", hits=0)
        run("XLEN", "a1", hits=0)
        assert isinstance(run("XLEN", "n", hits=0), Err)
        assert isinstance(run("XLEN", "n", hits=0), Err)
        assert admin.call("ACL", "SETUSER", "u", "+xlen") == OK
        run("XLEN", "n", hits=0)
        run("XLEN", "n", hits=1)
        # another user by AUTH, then back by HELLO
        assert c.call("AUTH", "v", "pw") == OK
        assert isinstance(run("XLEN", "n", hits=0), Err)
        run("TYPE", "n", hits=0)
        run("TYPE", "n", hits=1)
        assert isinstance(run("XLEN", "n", hits=0), Err)
        assert isinstance(c.call("HELLO", "2", "AUTH", "u", "pw"), list)
        run("XLEN", "n", hits=0)
        run("XLEN", "n", hits=1)
        # a permission change queued in a transaction, seen at its EXEC
        assert admin.call("MULTI") == OK
        assert admin.call("ACL", "SETUSER", "u", "-type") == Simple(b"QUEUED")
        run("TYPE", "n")  # checked in full: the queued change was seen
        assert admin.call("EXEC") == [OK]
        assert isinstance(run("TYPE", "n", hits=0), Err)
        out.append(acl_log(admin))
    return out


def test_cached_pre_checks_follow_permission_changes(mod, oracle86_srv):
    assert steps(mod, True) == steps(oracle86_srv, False)


def db_limited_user(mod, rules=("+@all", "~*"), db=0):
    """An admin client and a client of user `w` (`rules`, limited to
    database 0 by Valkey 9's database ACLs) that selected database `db`
    before it authenticated; in database 0 a module stream `n` and a native
    stream `nat` of one entry each."""
    admin, c = mod.raw(), mod.raw()
    got = admin.call("ACL", "SETUSER", "w", "reset", "on", ">pw", *rules, "db=0")
    if isinstance(got, Err):
        admin.close()
        c.close()
        pytest.skip("no database ACLs on this host (Valkey 9+ has them)")
    assert admin.call("CONFIG", "SET", "idmp.capture-new-streams", "no") == OK
    assert isinstance(admin.call("XADD", "nat", "*", "f", "v"), bytes)
    assert admin.call("CONFIG", "SET", "idmp.capture-new-streams", "yes") == OK
    assert isinstance(admin.call("XADD", "n", "IDMP", "p", "i", "*", "f", "v"), bytes)
    assert admin.call("OBJECT", "ENCODING", "n") == b"raw"
    assert admin.call("OBJECT", "ENCODING", "nat") == b"stream"
    assert admin.call("ACL", "LOG", "RESET") == OK
    assert c.call("SELECT", str(db)) == OK
    assert c.call("AUTH", "w", "pw") == OK
    return admin, c


def test_a_user_limited_to_some_databases_is_not_cached(mod):
    """The decision could depend on the client's database: never cached."""
    admin, c = db_limited_user(mod)
    with admin, c:
        before = cached(admin)
        for _ in range(3):
            c.call("XLEN", "n")
        assert cached(admin) == before


def test_a_user_limited_to_some_databases_reads_and_writes_a_module_stream(mod):
    """The module API's permission check knows no database and denies such a
    user everything (Valkey 9.1): the host is asked instead (ACL DRYRUN in
    the client's database). Before, the filter left the call to the host,
    whose XLEN answered WRONGTYPE on a module stream."""
    admin, c = db_limited_user(mod)
    with admin, c:
        first = admin.call("XRANGE", "n", "-", "+")[0][0]
        assert c.call("XLEN", "n") == 1
        assert c.call("XLEN", "nat") == 1
        assert c.call("TYPE", "n") == Simple(b"stream")
        assert c.call("XADD", "n", "IDMP", "p", "i", "*", "f", "v") == first
        fresh = c.call("XADD", "n", "IDMP", "p", "j", "*", "f", "v")
        assert isinstance(fresh, bytes) and fresh != first
        assert [e[0] for e in c.call("XRANGE", "n", "-", "+")] == [first, fresh]
        assert c.call("MULTI") == OK
        assert c.call("XLEN", "n") == Simple(b"QUEUED")
        assert c.call("EXEC") == [2]
        assert acl_log(admin) == []


ALL = (["XLEN"], ["TYPE"], ["XRANGE", "-", "+"], ["XADD", "IDMP", "p", "k", "*", "f", "v"])


@pytest.mark.parametrize("rules, db, cmds", [
    (("+@all", "~*"), 1, ALL),  # a database the user may not use
    (("+@all", "-xlen", "-type", "~*"), 0, ALL[:2]),  # commands it may not run
    (("+@all", "~a*"), 0, ALL),  # keys it may not use
])
def test_a_user_limited_to_some_databases_is_denied_as_on_a_native_stream(mod, rules, db, cmds):
    """Each denial of the module stream `n` is the host's own for the native
    stream `nat`: the same reply and the same ACL LOG entry (its object the
    key's name where the key is denied)."""
    admin, c = db_limited_user(mod, rules, db)
    with admin, c:
        for cmd in cmds:
            assert admin.call("ACL", "LOG", "RESET") == OK
            on_module = c.call(cmd[0], "n", *cmd[1:])
            log_module = acl_log(admin)
            assert admin.call("ACL", "LOG", "RESET") == OK
            native_cmd = cmd if cmd[0] != "XADD" else ["XADD", "*", "f", "v"]
            on_native = c.call(native_cmd[0], "nat", *native_cmd[1:])
            log_native = acl_log(admin)
            assert isinstance(on_native, Err), (cmd, on_native)
            assert on_module == on_native, cmd
            for e in log_native:
                if e[b"object"] == b"nat":
                    e[b"object"] = b"n"
            assert log_module == log_native, cmd
