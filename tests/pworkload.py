"""Helpers for the persistence / replication tests (issue 3, SPEC section 8).

- ``Workload``: a seeded random workload over several module streams (XADD with and
  without IDMP/IDMPAUTO, duplicates, MAXLEN/MINID trims, XDEL, XSETID, XCFGSET,
  XIDMPRECORD, expiry with a 1-second duration) with a small model of which
  ``(pid, iid)`` pairs are tracked, so that every pair a client was told about can
  be retried later and must answer its original ID.
- ``key_state`` / ``db_state``: everything observable about a stream (XINFO STREAM
  FULL with every entry, DEBUG DIGEST-VALUE, TYPE, OBJECT ENCODING, TTL).
- Redis' CRC-64 for rebuilding DUMP payloads, AOF helpers, SIGKILL.
"""

import collections
import glob
import os
import random
import time

from resp import OK, Err, Simple
from util import idmpauto_iid, pairs, parse_id

# Fields that describe the node layout, not the content: a rebuilt stream (AOF
# rewrite replays live entries only, as native Redis does) may pack differently.
LAYOUT = {b"radix-tree-keys", b"radix-tree-nodes"}

# The XINFO STREAM fields issue 3 asks to be equal after every restart / rewrite.
META = [b"length", b"last-generated-id", b"max-deleted-entry-id", b"entries-added",
        b"recorded-first-entry-id", b"idmp-duration", b"idmp-maxsize", b"pids-tracked",
        b"iids-tracked", b"iids-added", b"iids-duplicates"]

VOLATILE_DURATION = 1   # seconds: the stream used for expiry during the workload


def ok(reply, what=""):
    assert reply == OK, (what, reply)


def not_err(reply, what=""):
    assert not isinstance(reply, Err), (what, reply)
    return reply


def id_str(ms, seq):
    return "%d-%d" % (ms, seq)


class Workload:
    """A random workload; ``tracked()`` answers what must still be a duplicate.

    Keys: ``keys`` ordinary module streams (durations >= 60 s, never expire during
    a test) and ``volatile`` (duration 1 s: expiry happens during the workload; its
    pairs are not retried because their fate depends on the clock).
    """

    def __init__(self, seed, nkeys=4, prefix="s", volatile=True, groups=False):
        self.rnd = random.Random(seed)
        # consumer groups, consumers and PELs (XGROUP, XREADGROUP, XACK, XCLAIM,
        # XAUTOCLAIM) mixed into the workload
        self.groups = groups
        self.group_names = collections.defaultdict(list)   # key -> group names
        self.keys = ["%s:%d" % (prefix, i) for i in range(nkeys)]
        self.volatile = "%s:vol" % prefix if volatile else None
        self.all_keys = self.keys + ([self.volatile] if volatile else [])
        # key -> {"dur", "max", "prod": pid -> OrderedDict(iid -> id)}
        self.model = {}
        self.ids = collections.defaultdict(list)   # key -> IDs ever added
        self.last_answer = None                    # (key, pid, iid, id) of the last IDMP add
        self.ops = collections.Counter()
        self.n = 0

    # -- model ---------------------------------------------------------------

    def _m(self, key):
        return self.model.setdefault(
            key, {"dur": 100, "max": 100, "prod": collections.OrderedDict()})

    def _record(self, key, pid, iid, sid):
        m = self._m(key)
        prod = m["prod"].setdefault(pid, collections.OrderedDict())
        prod[iid] = sid
        while len(prod) > m["max"]:
            prod.popitem(last=False)

    def _lookup(self, key, pid, iid):
        prod = self._m(key)["prod"].get(pid)
        return None if prod is None else prod.get(iid)

    def tracked(self, include_volatile=False):
        """[(key, pid, iid, id)] of every pair the model says is tracked."""
        out = []
        for key, m in self.model.items():
            if key == self.volatile and not include_volatile:
                continue
            for pid, prod in m["prod"].items():
                for iid, sid in prod.items():
                    out.append((key, pid, iid, sid))
        return out

    # -- operations ----------------------------------------------------------

    def setup(self, c):
        """Create every key (module streams) and give them distinct settings."""
        for i, k in enumerate(self.keys):
            not_err(c.call("XADD", k, "1-%d" % (i + 1), "init", k), k)
            self.ids[k].append(b"1-%d" % (i + 1))
            self._m(k)
        ok(c.call("XCFGSET", self.keys[0], "IDMP-DURATION", "600", "IDMP-MAXSIZE", "7"))
        self._m(self.keys[0]).update(dur=600, max=7)
        if len(self.keys) > 1:
            ok(c.call("XCFGSET", self.keys[1], "IDMP-MAXSIZE", "1000"))
            self._m(self.keys[1]).update(max=1000)
        if self.volatile:
            not_err(c.call("XADD", self.volatile, "1-1", "init", "v"))
            self.ids[self.volatile].append(b"1-1")
            ok(c.call("XCFGSET", self.volatile, "IDMP-DURATION", str(VOLATILE_DURATION)))
            self._m(self.volatile).update(dur=VOLATILE_DURATION)

    def _fields(self):
        r = self.rnd
        n = r.choice([1, 1, 2, 3])
        out = []
        for _ in range(n):
            out += [r.choice(["f", "g", "h", "body", ""]),
                    r.choice(["v", "", "x" * r.randint(1, 300), str(r.randint(0, 10**6)),
                              self._blob()])]
        return out

    def _blob(self):
        r = self.rnd
        b = bytes(r.randrange(256) for _ in range(r.randint(1, 8)))
        # never a lone "*" or "~": the AOF checks look for unresolved arguments
        return b + b"." if b in (b"*", b"~") else b

    def _trim_opts(self, key):
        r = self.rnd
        x = r.random()
        if x < 0.75:
            return []
        if x < 0.9 or not self.ids[key]:
            return ["MAXLEN", r.choice(["=", "~"]), str(r.randint(5, 80))]
        # MINID at one of the key's recent IDs
        return ["MINID", r.choice(["=", "~"]), r.choice(self.ids[key][-40:])]

    def _xinfo(self, c, key):
        return dict(pairs(not_err(c.call("XINFO", "STREAM", key), key)))

    def _group_step(self, c, key):
        r = self.rnd
        names = self.group_names[key]
        x = r.random()
        if not names or (x < 0.08 and len(names) < 3):
            g = "g%d" % len(names)
            start = r.choice(["0", "$"] + self.ids[key][-5:])
            ok(c.call("XGROUP", "CREATE", key, g, start), (key, g, start))
            names.append(g)
            return "xgroup-create"
        g = r.choice(names)
        consumer = "c%d" % r.randint(1, 3)
        if x < 0.5:
            got = c.call("XREADGROUP", "GROUP", g, consumer, "COUNT", str(r.randint(1, 6)),
                         "STREAMS", key, r.choice([">", ">", ">", "0"]))
            assert not (isinstance(got, Err) and got.value.startswith(b"NOGROUP")), \
                "consumer group %s of %s was lost: %r" % (g, key, got)
            not_err(got)
            return "xreadgroup"
        pending = not_err(c.call("XPENDING", key, g, "-", "+", "20"))
        ids = [p[0] for p in pending]
        if x < 0.65:
            if ids:
                not_err(c.call("XACK", key, g, *r.sample(ids, r.randint(1, len(ids)))))
            return "xack"
        if x < 0.78:
            if ids:
                not_err(c.call("XCLAIM", key, g, consumer, "0",
                               *r.sample(ids, r.randint(1, min(3, len(ids))))))
            return "xclaim"
        if x < 0.85:
            not_err(c.call("XAUTOCLAIM", key, g, consumer, "0", "0-0", "COUNT", "3"))
            return "xautoclaim"
        if x < 0.92:
            not_err(c.call("XGROUP", "CREATECONSUMER", key, g, "c%d" % r.randint(4, 6)))
            return "xgroup-createconsumer"
        if x < 0.96:
            not_err(c.call("XGROUP", "DELCONSUMER", key, g, "c%d" % r.randint(1, 6)))
            return "xgroup-delconsumer"
        ok(c.call("XGROUP", "SETID", key, g, r.choice(["0", "$"] + self.ids[key][-5:])))
        return "xgroup-setid"

    def step(self, c, key=None):
        r = self.rnd
        key = key or r.choice(self.all_keys)
        vol = key == self.volatile
        x = r.random()
        self.n += 1
        if self.groups and x < 0.12:
            self.ops[self._group_step(c, key)] += 1
            return
        x = r.random()
        if x < 0.18:
            op = "xadd"
            sid = not_err(c.call("XADD", key, *self._trim_opts(key), "*", *self._fields()))
            self.ids[key].append(sid)
        elif x < 0.48:
            op = "idmp-fresh"
            pid = r.choice(["p1", "p2", "p3", b"\x00bin\xff", "pid-" + "y" * 40])
            iid = "m%d" % self.n
            opts = self._trim_opts(key)
            sid = not_err(c.call("XADD", key, "IDMP", pid, iid, *opts, "*", *self._fields()))
            assert isinstance(sid, bytes), sid
            self.ids[key].append(sid)
            self._record(key, pid, iid, sid)
            self.last_answer = (key, pid, iid, sid)
        elif x < 0.58:
            op = "idmpauto"
            pid = r.choice(["a1", "a2"])
            fields = self._fields()
            sid = not_err(c.call("XADD", key, "IDMPAUTO", pid, *self._trim_opts(key), "*", *fields))
            iid = idmpauto_iid(fields)
            known = self._lookup(key, pid, iid)
            if known is not None and not vol:
                assert sid == known, ("IDMPAUTO duplicate", key, sid, known)
            elif known is None or sid != known:
                self.ids[key].append(sid)
                self._record(key, pid, iid, sid)
        elif x < 0.70:
            op = "duplicate"
            cand = [t for t in self.tracked(include_volatile=True) if t[0] == key]
            if not cand:
                return self.step(c, key)
            _, pid, iid, sid = r.choice(cand)
            got = c.call("XADD", key, "IDMP", pid, iid, *self._trim_opts(key), "*", "dup", "x")
            if vol:
                not_err(got)
                if got != sid:   # expired meanwhile: a fresh add
                    self.ids[key].append(got)
                    self._record(key, pid, iid, got)
            else:
                assert got == sid, ("duplicate answered another ID", key, pid, iid, got, sid)
        elif x < 0.76:
            op = "xdel"
            if self.ids[key]:
                c.call("XDEL", key, r.choice(self.ids[key]))
        elif x < 0.80:
            op = "xtrim"
            if r.random() < 0.5:
                not_err(c.call("XTRIM", key, "MAXLEN", r.choice(["=", "~"]), str(r.randint(3, 60))))
            else:
                live = [e[0] for e in c.call("XRANGE", key, "-", "+", "COUNT", "10")]
                if live:
                    not_err(c.call("XTRIM", key, "MINID", r.choice(["=", "~"]), r.choice(live)))
        elif x < 0.83:
            op = "xsetid"
            info = self._xinfo(c, key)
            ms, seq = parse_id(info[b"last-generated-id"])
            md = info[b"max-deleted-entry-id"]
            ok(c.call("XSETID", key, id_str(ms + r.randint(0, 50), seq + 1),
                      "ENTRIESADDED", str(info[b"entries-added"] + r.randint(0, 5)),
                      "MAXDELETEDID", md))
        elif x < 0.87:
            op = "xcfgset"
            m = self._m(key)
            same = r.random() < 0.75   # mostly the current values: nothing is cleared
            if same:
                ok(c.call("XCFGSET", key, "IDMP-MAXSIZE", str(m["max"])))
                new = {}
            elif vol:
                new = {"max": r.choice([m["max"], 50, 100])}
                ok(c.call("XCFGSET", key, "IDMP-MAXSIZE", str(new["max"])))
            else:
                new = {"dur": r.choice([m["dur"], m["dur"], 300, 86400]),
                       "max": r.choice([m["max"], m["max"], 5, 100, 1000])}
                ok(c.call("XCFGSET", key, "IDMP-DURATION", str(new["dur"]),
                          "IDMP-MAXSIZE", str(new["max"])))
            if any(m[k] != v for k, v in new.items()):
                m["prod"].clear()
            m.update(new)
        else:
            op = "xidmprecord"
            live = [e[0] for e in c.call("XREVRANGE", key, "+", "-", "COUNT", "20")]
            if not live:
                return self.step(c, key)
            sid = r.choice(live)
            pid = r.choice(["p1", "r1"])
            iid = "rec%d" % self.n
            ok(c.call("XIDMPRECORD", key, pid, iid, sid), (key, sid))
            self._record(key, pid, iid, sid)
        self.ops[op] += 1

    def run(self, c, nops, sleep_for_expiry=True, settle=True):
        """``nops`` random steps; halfway, wait for the 1-second iids to expire and
        re-add some of them; at the end (``settle``) wait for them to expire again."""
        for i in range(nops):
            if sleep_for_expiry and self.volatile and i == nops // 2:
                time.sleep(VOLATILE_DURATION + 0.2)
                # expired pairs: fresh again, each gives a new entry
                for key, pid, iid, sid in self.tracked(include_volatile=True):
                    if key == self.volatile and self.rnd.random() < 0.5:
                        got = not_err(c.call("XADD", key, "IDMP", pid, iid, "*", "again", "1"))
                        assert got != sid, "an iid of a 1-second stream outlived its duration"
                        self.ids[key].append(got)
                        self._record(key, pid, iid, got)
                        self.ops["expired-readd"] += 1
            self.step(c)
        if self.volatile and settle:
            # let every 1-second iid expire, so that a snapshot taken now does not
            # depend on how long a restart / sync takes afterwards
            time.sleep(VOLATILE_DURATION + 0.2)
        return self


def retry(c, tracked):
    """Retry every tracked pair; returns the list of mismatches (empty = all good)."""
    bad = []
    for key, pid, iid, sid in tracked:
        got = c.call("XADD", key, "IDMP", pid, iid, "*", "retry", "1")
        if got != sid:
            bad.append((key, pid, iid, sid, got))
    return bad


# -- state snapshots --------------------------------------------------------------

# Consumer times a rebuilt stream cannot have natively: Redis 7.0's own AOF rewrite
# and replicas set a consumer's seen-time when they replay XCLAIM / CREATECONSUMER.
CONSUMER_TIMES = frozenset({b"seen-time", b"active-time"})


def _mask(v, names):
    """A copy of a nested XINFO reply with the values after ``names`` replaced."""
    if not isinstance(v, list):
        return v
    out = []
    skip = False
    for x in v:
        if skip:
            out.append("<masked>")
            skip = False
            continue
        if isinstance(x, bytes) and x in names:
            skip = True
        out.append(_mask(x, names))
    return out


def key_state(c, key, mask=frozenset()):
    """Everything observable about one stream key, layout fields excepted (and the
    fields named in ``mask`` wherever they appear, e.g. CONSUMER_TIMES)."""
    full = not_err(c.call("XINFO", "STREAM", key, "FULL", "COUNT", "0"), key)
    ttl = c.call("PTTL", key)
    return {
        "type": c.call("TYPE", key),
        "module": c.call("OBJECT", "ENCODING", key) != b"stream",
        "full": [(f, _mask(v, mask)) for f, v in pairs(full) if f not in LAYOUT],
        "digest": c.call("DEBUG", "DIGEST-VALUE", key),
        "has-ttl": ttl > 0 if isinstance(ttl, int) else ttl,
    }


def db_state(c, keys, mask=frozenset()):
    return {k: key_state(c, k, mask) for k in keys}


def meta(c, key):
    d = dict(pairs(not_err(c.call("XINFO", "STREAM", key), key)))
    return {k: d.get(k) for k in META}


def _groups_summary(ga, gb):
    """Short descriptions of two XINFO STREAM FULL ``groups`` values: the groups
    only one side has, and for common groups the first differing field."""
    def by_name(g):
        if not isinstance(g, list):
            return {}
        return {dict(pairs(x)).get(b"name"): dict(pairs(x)) for x in g if isinstance(x, list)}
    a, b = by_name(ga), by_name(gb)
    sa, sb = [], []
    for name in sorted(set(a) | set(b), key=repr):
        if name not in b:
            sa.append("group %r (only here)" % name)
        elif name not in a:
            sb.append("group %r (only here)" % name)
        elif a[name] != b[name]:
            f = next(f for f in a[name] if a[name][f] != b[name].get(f))
            sa.append("group %r %s=%s" % (name, f.decode(), repr(a[name][f])[:200]))
            sb.append("group %r %s=%s" % (name, f.decode(), repr(b[name].get(f))[:200]))
    return sa, sb


def diff_states(a, b):
    """A readable list of differences between two db_state results."""
    out = []
    for k in sorted(set(a) | set(b), key=str):
        if a.get(k) == b.get(k):
            continue
        sa, sb = a.get(k), b.get(k)
        if sa is None or sb is None:
            out.append((k, "missing", sa is None, sb is None))
            continue
        for part in sa:
            if sa[part] == sb.get(part):
                continue
            if part == "full":
                da, dbb = dict(sa["full"]), dict(sb["full"])
                for f in da:
                    if da[f] != dbb.get(f):
                        va, vb = da[f], dbb.get(f)
                        if f == b"entries":
                            va = "%d entries" % len(va) if isinstance(va, list) else va
                            vb = "%d entries" % len(vb) if isinstance(vb, list) else vb
                        elif f == b"groups":
                            va, vb = _groups_summary(va, vb)
                        out.append((k, f.decode(), va, vb))
                if [f for f, _ in sa["full"]] != [f for f, _ in sb["full"]]:
                    out.append((k, "field-order", [f for f, _ in sa["full"]],
                                [f for f, _ in sb["full"]]))
            else:
                out.append((k, part, sa[part], sb.get(part)))
    return out


# -- DUMP payloads ------------------------------------------------------------------

def _crc64_table():
    poly = 0x95AC9329AC4BC9B5
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc64_table()


def crc64(data, crc=0):
    """Redis' CRC-64 (Jones polynomial, reflected, no final xor), table driven."""
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def split_dump(payload):
    """(value bytes, 2-byte RDB version) of a DUMP payload; checks its CRC."""
    assert len(payload) >= 10
    body, crc = payload[:-8], payload[-8:]
    assert crc64(body).to_bytes(8, "little") == crc, "DUMP CRC mismatch"
    return body[:-2], body[-2:]


def reseal(value, version):
    body = value + version
    return body + crc64(body).to_bytes(8, "little")


# -- AOF ------------------------------------------------------------------------------

def wait_rewrite(c, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = c.call("INFO", "persistence").decode()
        if "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info:
            status = [ln for ln in info.splitlines() if ln.startswith("aof_last_bgrewrite_status")]
            return status[0].split(":")[1].strip() if status else None
        time.sleep(0.05)
    raise AssertionError("AOF rewrite did not finish")


def wait_bgsave(c, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = c.call("INFO", "persistence").decode()
        if "rdb_bgsave_in_progress:0" in info:
            status = [ln for ln in info.splitlines() if ln.startswith("rdb_last_bgsave_status")]
            return status[0].split(":")[1].strip()
        time.sleep(0.05)
    raise AssertionError("BGSAVE did not finish")


def aof_files(srv):
    d = os.path.join(srv.dir, "appendonlydir")
    return sorted(glob.glob(os.path.join(d, "*")))


def base_aof(srv):
    """Bytes of the base AOF file of the current manifest."""
    d = os.path.join(srv.dir, "appendonlydir")
    man = glob.glob(os.path.join(d, "*.manifest"))
    assert man, os.listdir(d)
    with open(man[0], "rb") as f:
        lines = f.read().decode().splitlines()
    for ln in lines:
        parts = ln.split()
        if "type" in parts and parts[parts.index("type") + 1] == "b":
            name = parts[parts.index("file") + 1]
            with open(os.path.join(d, name), "rb") as f:
                return name, f.read()
    raise AssertionError("no base file in manifest: %r" % lines)


def parse_aof(data):
    """The commands of a RESP AOF (no RDB preamble) as lists of bytes."""
    cmds = []
    i = 0
    n = len(data)
    while i < n:
        assert data[i:i + 1] == b"*", ("not a RESP AOF at offset %d" % i, data[i:i + 20])
        j = data.index(b"\r\n", i)
        argc = int(data[i + 1:j])
        i = j + 2
        argv = []
        for _ in range(argc):
            assert data[i:i + 1] == b"$", data[i:i + 20]
            j = data.index(b"\r\n", i)
            ln = int(data[i + 1:j])
            i = j + 2
            argv.append(data[i:i + ln])
            i += ln + 2
        cmds.append(argv)
    return cmds


# -- processes ---------------------------------------------------------------------------

def kill9(srv):
    """SIGKILL a RedisServer started by the factory (by its own PID) and reap it."""
    p = srv.proc
    if p is None:
        return
    p.kill()
    p.wait(10)
    if p.stderr:
        p.stderr.close()
    srv.proc = None


def is_simple_ok(reply):
    return isinstance(reply, Simple) and reply.value == b"OK"


# -- the module value inside a DUMP / RDB: the opcode stream of the module API -----------

def _rdb_len(b, i):
    """(value, next offset, is-special-encoding) of an RDB length at b[i]."""
    t = b[i] >> 6
    if t == 0:
        return b[i] & 0x3F, i + 1, False
    if t == 1:
        return ((b[i] & 0x3F) << 8) | b[i + 1], i + 2, False
    if b[i] == 0x80:
        return int.from_bytes(b[i + 1:i + 5], "big"), i + 5, False
    if b[i] == 0x81:
        return int.from_bytes(b[i + 1:i + 9], "big"), i + 9, False
    if t == 3:
        return b[i] & 0x3F, i + 1, True
    raise ValueError("bad RDB length byte %#x at %d" % (b[i], i))


def _rdb_string_end(b, i):
    n, i, special = _rdb_len(b, i)
    if not special:
        return i + n
    if n in (0, 1, 2):              # int8 / int16 / int32
        return i + (1, 2, 4)[n]
    if n == 3:                      # LZF: compressed length, plain length, data
        clen, i, _ = _rdb_len(b, i)
        _, i, _ = _rdb_len(b, i)
        return i + clen
    raise ValueError("bad string encoding %d" % n)


def module_opcode_offsets(value):
    """Offsets (in a DUMP value: type byte 7, module id, data) where each opcode of the
    module's saved data starts, and the offset of the final EOF opcode."""
    assert value[0] == 7 and value[1] == 0x81, value[:4]
    i = 10
    starts = []
    while True:
        starts.append(i)
        op, j, _ = _rdb_len(value, i)
        if op == 0:                  # RDB_MODULE_OPCODE_EOF
            return starts[:-1], i
        if op in (1, 2):             # SINT / UINT
            _, j, _ = _rdb_len(value, j)
        elif op == 3:                # FLOAT
            j += 4
        elif op == 4:                # DOUBLE
            j += 8
        elif op == 5:                # STRING
            j = _rdb_string_end(value, j)
        else:
            raise ValueError("unknown module opcode %d at %d" % (op, i))
        i = j


def cut_at_opcode(value, k):
    """The value holding only the first k opcodes of the module data, properly
    terminated: Redis reads it without complaint, only the module can tell it is short."""
    starts, _ = module_opcode_offsets(value)
    return value[:starts[k]] + b"\x00"
