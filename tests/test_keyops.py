"""Issue 3 point 4 / SPEC 8-9: key operations keep the IDMP state intact and
independent: DUMP/RESTORE (same server and another server), COPY (deep copy),
RENAME, MOVE, SWAPDB, FLUSHDB, EXPIRE/PERSIST, UNLINK. RESTORE of corrupt or
truncated payloads (rebuilt with a valid CRC-64 so they reach the module's loader)
answers an error and the server stays up."""

import random
import time

import pytest

from resp import OK, Err
from pworkload import (Workload, crc64, cut_at_opcode, db_state, diff_states, key_state,
                       meta, module_opcode_offsets, reseal, retry, split_dump)
from util import parse_id


def _setup(c, seed=401, nops=250, groups=False):
    w = Workload(seed, volatile=False, groups=groups)
    w.setup(c)
    w.run(c, nops, sleep_for_expiry=False)
    # a tracked iid whose entry is deleted (the first whose entry is still live)
    assert any(c.call("XDEL", t[0], t[3]) == 1 for t in w.tracked())
    return w


def _renamed(tracked, old, new):
    return [(new if k == old else k, p, i, s) for k, p, i, s in tracked if k == old]


def _same_but_name(a, b):
    assert diff_states({"k": a}, {"k": b}) == []


def _retry_ok(c, tracked):
    assert tracked
    bad = retry(c, tracked)
    assert bad == [], bad[:10]


def test_crc64_is_redis_crc64(nraw):
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    nraw.call("SET", "k", "x" * 100)
    value, ver = split_dump(nraw.call("DUMP", "k"))
    assert reseal(value, ver) == nraw.call("DUMP", "k")


def test_dump_restore_same_server(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        w = _setup(c)
        k = w.keys[0]
        before = key_state(c, k)
        payload = c.call("DUMP", k)
        assert isinstance(payload, bytes)
        assert c.call("RESTORE", "copy", "0", payload) == OK
        _same_but_name(before, key_state(c, "copy"))
        # over the original, after it changed
        c.call("XADD", k, "IDMP", "p1", "later", "*", "f", "v")
        assert c.call("RESTORE", k, "0", payload, "REPLACE") == OK
        _same_but_name(before, key_state(c, k))
        _retry_ok(c, [t for t in w.tracked() if t[0] == k])
        _retry_ok(c, _renamed(w.tracked(), k, "copy"))
        # RESTORE with a TTL keeps the state too
        assert c.call("RESTORE", "ttl", "100000", payload) == OK
        assert 0 < c.call("PTTL", "ttl") <= 100000
        assert key_state(c, "ttl")["full"] == before["full"]
        # (DEBUG DIGEST-VALUE mixes in "!!expire!!" when the key has a TTL)
        assert c.call("PERSIST", "ttl") == 1
        assert key_state(c, "ttl")["digest"] == before["digest"]


@pytest.mark.parametrize("groups", [False, True])
def test_dump_restore_into_another_server(server_factory, groups):
    a = server_factory()
    b = server_factory()
    with a.raw() as ca, b.raw() as cb:
        w = _setup(ca, seed=402 + 100 * groups, groups=groups)
        before = db_state(ca, w.all_keys)
        for k in w.all_keys:
            assert cb.call("RESTORE", k, "0", ca.call("DUMP", k)) == OK, k
        assert diff_states(before, db_state(cb, w.all_keys)) == []
        _retry_ok(cb, w.tracked())
        # b changed, a did not
        assert diff_states(before, db_state(ca, w.all_keys)) == []


def test_copy_is_deep_and_independent(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        w = _setup(c, seed=403)
        k = w.keys[1]
        orig = key_state(c, k)
        assert c.call("COPY", k, "cp") == 1
        assert c.call("COPY", k, "cpdb", "DB", "1") == 1
        _same_but_name(orig, key_state(c, "cp"))
        tracked = [t for t in w.tracked() if t[0] == k]
        # writes to the copy ...
        x = c.call("XADD", "cp", "IDMP", "newp", "newi", "*", "f", "copy")
        assert isinstance(x, bytes)
        c.call("XDEL", "cp", tracked[-1][3])
        assert c.call("XCFGSET", "cp", "IDMP-MAXSIZE", "2") == OK
        assert meta(c, "cp")[b"iids-tracked"] == 0
        # ... do not show in the original
        _same_but_name(orig, key_state(c, k))
        _retry_ok(c, tracked)
        # (IDs of two keys may coincide: a fresh add is recognised by its entry)
        added = meta(c, k)[b"iids-added"]
        y = c.call("XADD", k, "IDMP", "newp", "newi", "*", "f", "orig")
        assert c.call("XRANGE", k, y, y) == [[y, [b"f", b"orig"]]]
        assert meta(c, k)[b"iids-added"] == added + 1
        # and writes to the original do not show in the other copy
        assert c.call("SELECT", "1") == OK
        _same_but_name(orig, key_state(c, "cpdb"))
        _retry_ok(c, _renamed(w.tracked(), k, "cpdb"))
        z = c.call("XADD", "cpdb", "IDMP", "newp", "newi", "*", "f", "db1")
        assert c.call("XRANGE", "cpdb", z, z) == [[z, [b"f", b"db1"]]]


def test_rename_keeps_state_and_old_name_is_fresh(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        w = _setup(c, seed=404)
        k = w.keys[2]
        before = key_state(c, k)
        assert c.call("RENAME", k, "renamed") == OK
        assert c.call("EXISTS", k) == 0
        _same_but_name(before, key_state(c, "renamed"))
        _retry_ok(c, _renamed(w.tracked(), k, "renamed"))
        # a new stream under the old name knows none of it
        t = [x for x in w.tracked() if x[0] == k][0]
        got = c.call("XADD", k, "IDMP", t[1], t[2], "*", "f", "new")
        assert c.call("XRANGE", k, "-", "+") == [[got, [b"f", b"new"]]]
        assert meta(c, k)[b"iids-added"] == 1
        # RENAME over an existing stream replaces it
        assert c.call("RENAME", "renamed", k) == OK
        _retry_ok(c, [x for x in w.tracked() if x[0] == k])


def test_move_and_swapdb(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        w = _setup(c, seed=405)
        k0, k1 = w.keys[0], w.keys[1]
        s0, s1 = key_state(c, k0), key_state(c, k1)
        assert c.call("MOVE", k0, "3") == 1
        assert c.call("EXISTS", k0) == 0
        assert c.call("SWAPDB", "0", "3") == OK
        # db 0 now holds the moved key, db 3 holds the rest
        assert c.call("EXISTS", k1) == 0
        _same_but_name(s0, key_state(c, k0))
        _retry_ok(c, [t for t in w.tracked() if t[0] == k0])
        assert c.call("SELECT", "3") == OK
        _same_but_name(s1, key_state(c, k1))
        _retry_ok(c, [t for t in w.tracked() if t[0] == k1])
        assert c.call("EXISTS", k0) == 0


def test_flushdb_forgets_only_its_db(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        a = c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        assert c.call("COPY", "s", "s", "DB", "1") == 1
        assert c.call("FLUSHDB") == OK
        assert c.call("EXISTS", "s") == 0
        # (IDs of two keys may coincide: a fresh add is recognised by its entry)
        b = c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "new")
        assert c.call("XRANGE", "s", "-", "+") == [[b, [b"f", b"new"]]]
        m = meta(c, "s")
        assert (m[b"iids-added"], m[b"iids-duplicates"], m[b"iids-tracked"]) == (1, 0, 1)
        assert c.call("SELECT", "1") == OK
        assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == a
        m = meta(c, "s")
        assert (m[b"length"], m[b"iids-added"], m[b"iids-duplicates"]) == (1, 1, 1)
        assert c.call("FLUSHDB", "ASYNC") == OK
        assert c.call("EXISTS", "s") == 0
        assert c.call("SELECT", "0") == OK
        assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == b


def test_expire_persist_keep_state(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        w = _setup(c, seed=406)
        k = w.keys[3]
        before = key_state(c, k)
        assert c.call("EXPIRE", k, "1000") == 1
        assert c.call("PERSIST", k) == 1
        assert c.call("PTTL", k) == -1
        assert key_state(c, k) == before
        _retry_ok(c, [t for t in w.tracked() if t[0] == k])
        # expiry of the key itself forgets everything
        a = c.call("XADD", "short", "IDMP", "p", "i", "*", "f", "v")
        assert c.call("PEXPIRE", "short", "100") == 1
        time.sleep(0.3)
        assert c.call("EXISTS", "short") == 0
        b = c.call("XADD", "short", "IDMP", "p", "i", "*", "f", "new")
        assert c.call("XRANGE", "short", "-", "+") == [[b, [b"f", b"new"]]]
        assert isinstance(a, bytes) and meta(c, "short")[b"iids-added"] == 1


def test_unlink_and_del(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        # big enough for UNLINK to consider freeing in the background
        for i in range(2000):
            c.call("XADD", "big", "IDMP", "p%d" % (i % 10), "i%d" % i, "*", "f", "v" * 50)
        c.call("XADD", "small", "IDMP", "p", "i", "*", "f", "v")
        keep = key_state(c, "small")
        assert c.call("UNLINK", "big") == 1
        assert c.call("DEL", "small") == 1
        a = c.call("XADD", "big", "IDMP", "p0", "i0", "*", "f", "v")
        assert isinstance(a, bytes)
        assert meta(c, "big")[b"iids-added"] == 1
        assert meta(c, "big")[b"length"] == 1
        # a new millisecond, so that the new entry's ID differs from the old one
        time.sleep(0.002)
        b = c.call("XADD", "small", "IDMP", "p", "i", "*", "f", "v")
        assert key_state(c, "small") != keep and isinstance(b, bytes)
    assert srv.alive(), srv.log_tail()


# -- corrupt payloads -----------------------------------------------------------------

def _small_stream(c):
    c.call("XADD", "src", "1-1", "a", "1")
    assert c.call("XCFGSET", "src", "IDMP-DURATION", "500", "IDMP-MAXSIZE", "3") == OK
    for i in range(5):
        c.call("XADD", "src", "IDMP", "p%d" % (i % 2), "i%d" % i, "*", "f", "v%d" % i)
    c.call("XADD", "src", "IDMP", "p0", "i0", "*", "f", "v")   # duplicate
    c.call("XDEL", "src", "1-1")
    c.call("XADD", "src", "IDMPAUTO", "auto", "*", "x", "y")
    return c.call("DUMP", "src")


def _usable(c, key):
    """A key RESTORE accepted must work with every command, without crashing."""
    for cmd in (("XINFO", "STREAM", key, "FULL"), ("XRANGE", key, "-", "+"),
                ("XREVRANGE", key, "+", "-"), ("XLEN", key),
                ("DEBUG", "DIGEST-VALUE", key), ("MEMORY", "USAGE", key),
                ("XADD", key, "IDMP", "p0", "i0", "*", "f", "v"),
                ("XADD", key, "*", "f", "v"), ("XTRIM", key, "MAXLEN", "1"),
                ("DUMP", key)):
        c.call(*cmd)


def _check_restore(c, srv, key, payload):
    reply = c.call("RESTORE", key, "0", payload)
    assert reply == OK or isinstance(reply, Err), reply
    if isinstance(reply, Err):
        assert c.call("EXISTS", key) == 0, "a failed RESTORE left a key behind"
    else:
        _usable(c, key)
    assert c.call("PING").value == b"PONG", srv.log_tail()
    return reply


def test_restore_every_truncation_is_an_error(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        value, ver = split_dump(_small_stream(c))
        assert value[0] == 7, value[:4]          # RDB_TYPE_MODULE_2
        errors = loaded = 0
        for n in range(1, len(value)):
            r = _check_restore(c, srv, "t%d" % n, reseal(value[:n], ver))
            if isinstance(r, Err):
                errors += 1
            else:
                loaded += 1
        # RESTORE reads the footer as data too, so a cut the 10 footer bytes happen
        # to complete can load; everything else must be refused
        print("\ntruncations of a %d-byte value: %d refused, %d loaded" % (
            len(value), errors, loaded))
        assert loaded <= 3, (errors, loaded)
        # cut the CRC / version off: refused before the module sees it
        payload = reseal(value, ver)
        for n in range(len(payload) - 10, len(payload)):
            assert isinstance(c.call("RESTORE", "c%d" % n, "0", payload[:n]), Err)
    assert srv.alive(), srv.log_tail()


def test_restore_short_module_value_is_an_error(server_factory):
    """The module data cut after every opcode, properly terminated (so only the module
    can tell it is short): every one is refused."""
    srv = server_factory()
    with srv.raw() as c:
        value, ver = split_dump(_small_stream(c))
        starts, _ = module_opcode_offsets(value)
        loaded = []
        for k in range(len(starts)):
            r = _check_restore(c, srv, "o%d" % k, reseal(cut_at_opcode(value, k), ver))
            if not isinstance(r, Err):
                loaded.append(k)
        assert loaded == [], "short values accepted (cut after these opcodes of %d): %r" % (
            len(starts), loaded)
        # the complete value still loads
        assert c.call("RESTORE", "whole", "0", reseal(value, ver)) == OK
    assert srv.alive(), srv.log_tail()


def test_restore_bit_flips_never_crash(server_factory):
    srv = server_factory()
    rnd = random.Random(405)
    with srv.raw() as c:
        value, ver = split_dump(_small_stream(c))
        n_err = 0
        # every byte after the module id, inverted
        for pos in range(10, len(value)):
            v = bytearray(value)
            v[pos] ^= 0xFF
            if isinstance(_check_restore(c, srv, "x%d" % pos, reseal(bytes(v), ver)), Err):
                n_err += 1
        # random single-bit flips and multi-byte damage
        for i in range(300):
            v = bytearray(value)
            for _ in range(rnd.choice([1, 1, 2, 5])):
                pos = rnd.randrange(10, len(v))
                v[pos] ^= 1 << rnd.randrange(8)
            if isinstance(_check_restore(c, srv, "r%d" % i, reseal(bytes(v), ver)), Err):
                n_err += 1
        # junk after a valid module value header
        for i in range(50):
            junk = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 200)))
            _check_restore(c, srv, "j%d" % i, reseal(value[:10] + junk, ver))
        print("\nbyte inversions and bit flips: %d of %d refused" % (
            n_err, len(value) - 10 + 300))
        assert n_err > 0
    assert srv.alive(), srv.log_tail()


def test_restore_module_payload_without_module(server_factory):
    """A server without the module refuses the payload and stays up."""
    srv = server_factory()
    plain = server_factory(module=False)
    with srv.raw() as c:
        payload = _small_stream(c)
    with plain.raw() as p:
        assert isinstance(p.call("RESTORE", "k", "0", payload), Err)
        assert p.call("EXISTS", "k") == 0
        assert p.call("PING").value == b"PONG"
    assert plain.alive()


def test_restored_ids_order(server_factory):
    """RESTORE keeps the ID order and last-generated-id: new adds go after it."""
    srv = server_factory()
    with srv.raw() as c:
        value = _small_stream(c)
        last = meta(c, "src")[b"last-generated-id"]
        assert c.call("RESTORE", "r", "0", value) == OK
        n = c.call("XADD", "r", "*", "f", "v")
        assert parse_id(n) > parse_id(last)
        assert c.call("XADD", "r", last, "f", "v") == Err(
            b"ERR The ID specified in XADD is equal or smaller than the target stream top item")
