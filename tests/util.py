"""Small helpers shared by the test files."""

import struct
import time

import xxhash

from resp import Err, RMap

IDMP_FIELDS = [
    b"idmp-duration", b"idmp-maxsize", b"pids-tracked",
    b"iids-tracked", b"iids-added", b"iids-duplicates",
]

# XINFO STREAM field order required by SPEC section 6.
XINFO_FIELDS = [
    b"length", b"radix-tree-keys", b"radix-tree-nodes", b"last-generated-id",
    b"max-deleted-entry-id", b"entries-added", b"recorded-first-entry-id",
] + IDMP_FIELDS + [b"groups", b"first-entry", b"last-entry"]

XINFO_FULL_FIELDS = XINFO_FIELDS[:13] + [b"entries", b"groups"]

WRONGTYPE = Err(b"WRONGTYPE Operation against a key holding the wrong kind of value")
ERR_INVALID_ID = Err(b"ERR Invalid stream ID specified as stream command argument")
ERR_NO_SUCH_KEY = Err(b"ERR no such key")
ERR_MULTI = Err(b"ERR syntax error, IDMP/IDMPAUTO specified multiple times")
ERR_EMPTY_PID = Err(b"ERR syntax error, IDMP requires a non-empty producer ID")
ERR_EMPTY_IID = Err(b"ERR syntax error, IDMP requires a non-empty idempotent ID")
ERR_AUTO_EMPTY_PID = Err(b"ERR syntax error, IDMPAUTO requires a non-empty producer ID")
ERR_AUTO_ONLY = Err(b"ERR syntax error, IDMP/IDMPAUTO can be used only with auto-generated IDs")
ERR_EXHAUSTED = Err(
    b"ERR The stream has exhausted the last possible ID, unable to add more items")


def arity_err(cmd):
    return Err(b"ERR wrong number of arguments for '%s' command" % cmd.encode())


def pairs(flat):
    """A RESP2 flat [k, v, k, v] list (or an RMap) as an ordered list of pairs."""
    if isinstance(flat, RMap):
        return list(flat)
    assert isinstance(flat, list), "expected an array reply, got %r" % (flat,)
    assert len(flat) % 2 == 0, "odd-length field list %r" % (flat,)
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def xinfo(c, key):
    """XINFO STREAM as a dict (raw client); asserts the reply is not an error."""
    reply = c.call("XINFO", "STREAM", key)
    assert not isinstance(reply, Err), reply
    return dict(pairs(reply))


def idmp_counters(c, key):
    """The six IDMP fields of XINFO STREAM, by short name."""
    d = xinfo(c, key)
    return {k.decode(): d.get(k) for k in IDMP_FIELDS}


def counters(c, key):
    """(pids-tracked, iids-tracked, iids-added, iids-duplicates)."""
    d = xinfo(c, key)
    return (d.get(b"pids-tracked"), d.get(b"iids-tracked"),
            d.get(b"iids-added"), d.get(b"iids-duplicates"))


def _pair_ambiguous(buf, flen):
    """8.6.3's pair input ``f || le64(len f) || v`` read at another split."""
    return any(k != flen and buf[k:k + 8] == struct.pack("<Q", k)
               for k in range(len(buf) - 7))


def idmpauto_iid(fields):
    """SPEC section 3: the IDMPAUTO iid of a flat [f, v, f, v, ...] list, as
    native Redis 8.6.3 derives it (XXH3-128 of ``f || le64(len f) || v`` per
    pair, wrapping sums and XORs of the halves, combined with a rotation),
    except for a pair whose input reads at two splits: the module appends
    ``le64(len v)`` to it (README, "Known differences")."""
    assert len(fields) % 2 == 0
    m = (1 << 64) - 1
    sum_lo = sum_hi = xor_lo = xor_hi = 0
    for i in range(0, len(fields), 2):
        f, v = fields[i], fields[i + 1]
        f = f.encode() if isinstance(f, str) else f
        v = v.encode() if isinstance(v, str) else v
        buf = f + struct.pack("<Q", len(f)) + v
        if _pair_ambiguous(buf, len(f)):
            buf += struct.pack("<Q", len(v))
        d = xxhash.xxh3_128_intdigest(buf)
        lo, hi = d & m, d >> 64
        sum_lo, sum_hi = (sum_lo + lo) & m, (sum_hi + hi) & m
        xor_lo ^= lo
        xor_hi ^= hi

    def rotl1(x):
        return ((x << 1) | (x >> 63)) & m

    return struct.pack("<QQ", sum_lo ^ rotl1(xor_hi), sum_hi ^ rotl1(xor_lo))


def parse_id(b):
    ms, seq = b.split(b"-")
    return int(ms), int(seq)


def full_as_70(full):
    """A native XINFO STREAM FULL reply (RESP2, flat) with its ``groups`` as Redis
    7.0 shows them (``full_groups_as_70``)."""
    out = []
    for k, v in pairs(full):
        out += [k, full_groups_as_70(v) if k == b"groups" else v]
    return out


def full_groups_as_70(groups):
    """The ``groups`` of an XINFO STREAM FULL (RESP2) as Redis 7.0 shows them:
    without the consumers' ``active-time`` (Redis 7.2+), for comparisons with a
    Redis 7.0 host's own native streams."""
    out = []
    for g in groups:
        ng = []
        for k, v in pairs(g):
            if k == b"consumers":
                v = [[x for ck, cv in pairs(c) if ck != b"active-time" for x in (ck, cv)]
                     for c in v]
            ng += [k, v]
        out.append(ng)
    return out


def wait_blocked(c, n=1, timeout=3.0):
    """Waits until n clients are blocked (so a write cannot overtake the read)."""
    deadline = time.time() + timeout
    info = ""
    while time.time() < deadline:
        info = c.call("INFO", "clients").decode()
        if "blocked_clients:%d\r" % n in info:
            return
        time.sleep(0.01)
    raise AssertionError("reader did not block:\n" + info)
