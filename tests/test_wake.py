"""Blocked readers woken by changes to their keys (src/server/wake.rs),
each scenario run on the module server and on native Redis 8.6.3 (the
authority), whose answers must be equal.

A blocked XREADGROUP answers the group error when its key is deleted,
expires, is renamed or moved away, and WRONGTYPE when another type
overwrites it; it is served when a stream with its group takes the key's
place. On module streams the module learns of these through its type's
`unlink2` (Redis 7.0) or the host's wake-up of deleted keys (Redis 7.2+,
Valkey); on native streams (a server that does not capture new streams)
through key events (7.0) or the host. Then the cost side: waiting on a
module stream must not subscribe the module to the key events of every
write (which costs each `SET` about 30 %).
"""

import pytest

from resp import Err, encode_command
from server import RedisServer
from util import wait_blocked

NO_CAPTURE = {"idmp.capture-new-streams": "no"}


@pytest.fixture(scope="module")
def native_streams():
    """A module server whose new streams are the host's own."""
    s = RedisServer(module=True, module_args=NO_CAPTURE)
    s.start()
    yield s
    s.cleanup()


def info_field(c, name):
    for line in c.call("INFO", "idmp").decode().splitlines():
        if line.startswith("idmp_" + name + ":"):
            return line.split(":", 1)[1]
    raise AssertionError("no %s in INFO idmp" % name)


def key_type(c, key):
    return c.call("TYPE", key).value.decode()


# What changes the waited key `s` (database 9, entry 1-1, group g at $).
# Each returns nothing; the reader's answer is compared.
CHANGES = {
    "del": [["DEL", "s"]],
    "unlink": [["UNLINK", "s"]],
    "set": [["SET", "s", "v"]],
    "rename-away": [["RENAME", "s", "t"]],
    "move": [["MOVE", "s", "3"]],
    "restore-replace-string": "restore",
    "sort-store": [["RPUSH", "l", "2", "1"], ["SORT", "l", "STORE", "s"]],
    "zunionstore": [["ZADD", "z", "1", "m"], ["ZUNIONSTORE", "s", "1", "z"]],
    "hash-renamed-onto": [["HSET", "h", "f", "v"], ["RENAME", "h", "s"]],
    "expire": [["PEXPIRE", "s", "30"]],
    # A stream with the group takes the key's place: served.
    "rename-onto": [["XADD", "t", "5-1", "a", "1"],
                    ["XGROUP", "CREATE", "t", "g", "0"],
                    ["RENAME", "t", "s"]],
    # Deleted and brought back with the group in one transaction: the
    # reader is re-run after EXEC and served.
    "multi-recreate": [["MULTI"], ["DEL", "s"], ["XADD", "s", "5-1", "a", "1"],
                       ["XGROUP", "CREATE", "s", "g", "0"], ["EXEC"]],
    # Deleted, then brought back by the next commands of one pipeline: the
    # reader is answered right after DEL, before the stream returns.
    "pipeline-recreate": "pipeline",
    # A change that leaves the stream alone: the reader keeps waiting.
    "expire-later": [["PEXPIRE", "s", "100000"]],
}


def run_change(c, how):
    change = CHANGES[how]
    if change == "restore":
        c.call("SET", "str", "x")
        dump = c.call("DUMP", "str")
        c.call("RESTORE", "s", "0", dump, "REPLACE")
    elif change == "pipeline":
        c.send_raw(b"".join(
            encode_command(a) for a in (["DEL", "s"], ["XADD", "s", "5-1", "a", "1"],
                                   ["XGROUP", "CREATE", "s", "g", "0"])))
        for _ in range(3):
            c.read()
    else:
        for a in change:
            c.call(*a)


def scenario(s, how):
    c = s.raw()
    try:
        c.call("FLUSHALL")
        c.call("SELECT", "9")
        c.call("XADD", "s", "1-1", "f", "v")
        c.call("XGROUP", "CREATE", "s", "g", "$")
        kind = key_type(c, "s")
        with s.raw() as rd:
            rd.call("SELECT", "9")
            rd.send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "3000",
                    "STREAMS", "s", ">")
            wait_blocked(c)
            run_change(c, how)
            r = rd.read()
        return kind, (r.text if isinstance(r, Err) else r)
    finally:
        c.close()


@pytest.mark.parametrize("how", sorted(CHANGES))
def test_xreadgroup_on_a_module_stream_answers_as_native(srv, oracle86_srv, how):
    kind, mine = scenario(srv, how)
    assert kind == "stream"
    _, native = scenario(oracle86_srv, how)
    assert mine == native


@pytest.mark.parametrize("how", sorted(CHANGES))
def test_xreadgroup_on_a_native_stream_answers_as_native(native_streams, oracle86_srv, how):
    mine = scenario(native_streams, how)[1]
    assert mine == scenario(oracle86_srv, how)[1]


def test_expected_answers_are_what_the_scenarios_mean(oracle86_srv):
    # The comparisons above are only as good as the scenarios: check what
    # 8.6.3 answers, so that a scenario that never woke the reader (all
    # timeouts, equal on both sides) cannot pass unnoticed.
    answers = {how: scenario(oracle86_srv, how)[1] for how in
               ("del", "set", "rename-onto", "multi-recreate", "pipeline-recreate",
                "expire-later")}
    assert answers["del"].startswith("NOGROUP")
    assert answers["set"].startswith("WRONGTYPE")
    assert answers["rename-onto"] == [[b"s", [[b"5-1", [b"a", b"1"]]]]]
    assert answers["multi-recreate"] == [[b"s", [[b"5-1", [b"a", b"1"]]]]]
    assert answers["pipeline-recreate"].startswith("NOGROUP")
    assert answers["expire-later"] is None


def test_waiting_on_a_module_stream_costs_other_writes_nothing(server_factory):
    # Every key event the module hears costs each write a module context;
    # a reader blocked on a module stream needs none, on any host.
    s = server_factory()
    c = s.raw()
    c.call("XADD", "s", "1-1", "f", "v")
    c.call("XGROUP", "CREATE", "s", "g", "$")
    with s.raw() as rd:
        rd.send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
        wait_blocked(c)
        c.call("SET", "k", "v")
        c.call("DEL", "s")
        assert rd.read().text.startswith("NOGROUP")
    assert info_field(c, "key_events_subscribed") == "0"
    c.close()


def test_waiting_on_a_native_stream_subscribes_only_where_the_host_cannot_wake(
        server_factory):
    s = server_factory(module_args=NO_CAPTURE)
    c = s.raw()
    c.call("XADD", "s", "1-1", "f", "v")
    c.call("XGROUP", "CREATE", "s", "g", "$")
    assert key_type(c, "s") == "stream"
    with s.raw() as rd:
        rd.send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
        wait_blocked(c)
        c.call("DEL", "s")
        assert rd.read().text.startswith("NOGROUP")
    host_wakes = info_field(c, "host_unblock_deleted") == "1"
    assert info_field(c, "key_events_subscribed") == ("0" if host_wakes else "1")
    c.close()
