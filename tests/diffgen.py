"""Random stream command sequences for the differential harness (SPEC "Differential
testing"), and the reply normalisation that makes replies of different servers
comparable (radix-tree-* and the IDMP fields dropped, clock-dependent times masked).

Commands are argv lists whose key positions hold the markers ``KEY`` (the stream
under test), ``MISSING`` (a key that never exists) and ``STR`` (a string key);
``bind`` substitutes the names of one target.
"""

import random

from resp import Err, RMap
from util import IDMP_FIELDS, pairs

KEY, MISSING, STR = object(), object(), object()

DROP_FIELDS = set(IDMP_FIELDS) | {b"radix-tree-keys", b"radix-tree-nodes"}


def bind(argv, names):
    """Replace the key markers by this target's key names."""
    out = []
    for a in argv:
        if a is KEY:
            out.append(names["key"])
        elif a is MISSING:
            out.append(names["missing"])
        elif a is STR:
            out.append(names["str"])
        else:
            out.append(a)
    return out


def show(argv):
    parts = []
    for a in argv:
        if a is KEY:
            parts.append("<KEY>")
        elif a is MISSING:
            parts.append("<MISSING>")
        elif a is STR:
            parts.append("<STR>")
        else:
            parts.append(repr(a))
    return " ".join(parts)


def _fmt(ms, seq):
    return "%d-%d" % (ms, seq)


def _parse(b):
    try:
        ms, seq = b.split(b"-")
        return int(ms), int(seq)
    except (ValueError, AttributeError):
        return None


class Gen:
    """A seeded generator; ``observe`` feeds back the oracle's replies."""

    def __init__(self, seed, groups=False, reads=False, big=False, reload=False):
        self.rnd = random.Random(seed)
        self.reload = reload   # occasional DEBUG RELOAD of every server
        self.big = big   # long streams: rare trimming with large thresholds
        self.groups = groups
        self.reads = reads or groups
        self.last = (0, 0)
        self.ids = []            # IDs ever added (may be deleted since)
        self.group_names = []
        self.consumers = ["alice", "bob", "carol"]

    # -- pieces -------------------------------------------------------------

    def some_id(self):
        r = self.rnd
        if self.ids and r.random() < 0.7:
            return _fmt(*r.choice(self.ids))
        ms = r.randint(0, self.last[0] + 3)
        return _fmt(ms, r.randint(0, 5))

    def new_id(self):
        r = self.rnd
        x = r.random()
        ms, seq = self.last
        if x < 0.72:
            nms = ms + r.choice([0, 0, 1, 1, 2, 5])
            nseq = seq + r.randint(1, 3) if nms == ms else r.randint(0, 3)
            return _fmt(nms, nseq)
        if x < 0.82:
            return "%d-*" % (ms + r.choice([0, 1, 3]))
        if x < 0.87:
            return "%d" % (ms + r.randint(1, 3))
        if x < 0.94:
            return _fmt(*self.last) if r.random() < 0.5 else self.some_id()
        return r.choice(["0-0", "0-*", "abc", "-", "+", "1-2-3", "(5", "$", "0", "-1",
                         "18446744073709551616-0", "5-18446744073709551616"])

    def bound(self, side):
        r = self.rnd
        x = r.random()
        if x < 0.25:
            return "-" if side == "start" else "+"
        if x < 0.35:
            return "+" if side == "start" else "-"
        if x < 0.7:
            return self.some_id()
        if x < 0.85:
            return "(" + self.some_id()
        if x < 0.93:
            return str(r.randint(0, self.last[0] + 2))
        return r.choice(["(-", "(+", "abc", "", "(", "((1", "1-", "-1", "(0-0",
                         "(18446744073709551615-18446744073709551615"])

    def count_opt(self):
        r = self.rnd
        if r.random() < 0.5:
            return []
        return ["COUNT", str(r.choice([0, 1, 2, 3, 5, 10, 100, -1]))]

    def fields(self):
        r = self.rnd
        n = r.choice([1, 1, 1, 2, 2, 3, 5])
        names = ["f", "g", "name", "", "n\x00ul", "x" * 20]
        out = []
        for _ in range(n):
            out.append(r.choice(names))
            kind = r.random()
            if kind < 0.4:
                out.append(str(r.randint(-1000, 100000)))
            elif kind < 0.7:
                out.append("v" * r.randint(0, 12))
            elif kind < 0.9:
                out.append(bytes(r.randint(0, 255) for _ in range(r.randint(0, 16))))
            else:
                out.append("L" * r.randint(100, 700))
        return out

    def trim_opts(self, xtrim=False):
        r = self.rnd
        out = []
        if r.random() < 0.5:
            out += ["MAXLEN"]
            approx = r.choice([None, "=", "~", "~"])
            if approx:
                out.append(approx)
            if self.big:
                n = len(self.ids)
                out.append(str(r.choice([n // 2, n - 20, n - 100, 300, 500, 1000, 90, 101])))
            else:
                out.append(str(r.choice([0, 1, 2, 3, 5, 8, 10, 20, 50, 200, -1])))
        else:
            out += ["MINID"]
            approx = r.choice([None, "=", "~", "~"])
            if approx:
                out.append(approx)
            out.append(self.some_id() if r.random() < 0.95 else "abc")
        if r.random() < 0.3:
            out += ["LIMIT", str(r.choice([0, 1, 2, 5, 100, 250, -1]))]
        if r.random() < 0.03:
            out += r.choice([["MAXLEN", "1"], ["MINID", "1"], ["FOO"]])
        return out

    # -- commands -------------------------------------------------------------

    def xadd(self):
        r = self.rnd
        argv = ["XADD", KEY]
        if r.random() < 0.1:
            argv.append("NOMKSTREAM")
        if r.random() < (0.04 if self.big else 0.3):
            argv += self.trim_opts()
        argv.append(self.new_id())
        argv += self.fields()
        if r.random() < 0.02:
            argv.pop()  # odd field count
        return argv

    def op(self):
        r = self.rnd
        weights = [
            ("xadd", 40), ("xrange", 10), ("xrevrange", 8), ("xlen", 3), ("xdel", 6),
            ("xtrim", 6), ("xsetid", 4), ("xinfo", 5), ("other_key", 3),
        ]
        if self.big:
            weights = [(n, {"xadd": 120, "xtrim": 2, "xsetid": 1}.get(n, w))
                       for n, w in weights]
        if self.reads:
            weights += [("xread", 6)]
        if self.reload:
            weights += [("reload", 1.5)]
        if self.groups:
            weights += [("xgroup", 6), ("xreadgroup", 10), ("xack", 5), ("xpending", 5),
                        ("xclaim", 4), ("xautoclaim", 4), ("xinfo_groups", 3)]
        total = sum(w for _, w in weights)
        x = r.uniform(0, total)
        for name, w in weights:
            x -= w
            if x <= 0:
                break
        return getattr(self, "op_" + name)()

    def op_xadd(self):
        return self.xadd()

    def op_reload(self):
        return ["DEBUG", "RELOAD"]

    def op_xrange(self):
        return ["XRANGE", KEY, self.bound("start"), self.bound("end")] + self.count_opt()

    def op_xrevrange(self):
        return ["XREVRANGE", KEY, self.bound("end"), self.bound("start")] + self.count_opt()

    def op_xlen(self):
        return ["XLEN", KEY]

    def op_xdel(self):
        r = self.rnd
        ids = [self.some_id() for _ in range(r.choice([1, 1, 2, 3]))]
        if r.random() < 0.1:
            ids.append(ids[0])
        if r.random() < 0.05:
            ids.append(r.choice(["abc", "-", "+", "1-*", "*"]))
        return ["XDEL", KEY] + ids

    def op_xtrim(self):
        r = self.rnd
        if r.random() < 0.05:
            return ["XTRIM", KEY] + r.choice([[], ["LIMIT", "5"], ["MAXLEN"], ["BOGUS", "1"]])
        return ["XTRIM", KEY] + self.trim_opts(xtrim=True)

    def op_xsetid(self):
        r = self.rnd
        x = r.random()
        ms, seq = self.last
        if x < 0.5:
            sid = _fmt(ms + r.randint(0, 3), seq + r.randint(0, 5))
        elif x < 0.8:
            sid = self.some_id()
        else:
            sid = r.choice(["abc", "0-0", "18446744073709551615-18446744073709551615", "5",
                            "-", "+", "$", "*"])
        argv = ["XSETID", KEY, sid]
        if r.random() < 0.3:
            argv += ["ENTRIESADDED", str(r.choice([0, 1, 5, 50, 1000, -1, len(self.ids),
                                                   len(self.ids) + 5]))]
        if r.random() < 0.3:
            argv += ["MAXDELETEDID", self.some_id() if r.random() < 0.9 else "abc"]
        if r.random() < 0.03:
            argv += ["BOGUS"]
        return argv

    def op_xinfo(self):
        r = self.rnd
        x = r.random()
        if x < 0.5:
            return ["XINFO", "STREAM", KEY]
        if x < 0.8:
            return ["XINFO", "STREAM", KEY, "FULL"]
        if x < 0.95:
            return ["XINFO", "STREAM", KEY, "FULL", "COUNT", str(r.choice([0, 1, 2, 5, -1]))]
        return r.choice([["XINFO", "STREAM", KEY, "BOGUS"], ["XINFO", "STREAM", KEY, "FULL",
                                                             "COUNT"]])

    def op_xread(self):
        r = self.rnd
        # ("+" is left out: Redis 7.4 made it mean "the last entry", which the
        # module may adopt for its own streams; test_routing pins the native case)
        start = r.choice(["0", "0-0", "$", self.some_id(), self.some_id(), "abc"])
        argv = ["XREAD"] + self.count_opt() + ["STREAMS", KEY]
        if r.random() < 0.2:
            argv.insert(-1, MISSING)
            return argv + [start, "0"]
        return argv + [start]

    def op_other_key(self):
        r = self.rnd
        k = r.choice([MISSING, STR])
        choices = [
            ["XADD", k, "NOMKSTREAM", "1-1", "f", "v"],
            ["XADD", k, "NOMKSTREAM", "MAXLEN", "1", "1-1", "f", "v"],
            ["XLEN", k], ["XRANGE", k, "-", "+"], ["XREVRANGE", k, "+", "-", "COUNT", "1"],
            ["XDEL", k, "1-1"], ["XTRIM", k, "MAXLEN", "0"], ["XSETID", k, "1-1"],
            ["XINFO", "STREAM", k], ["XINFO", "STREAM", k, "FULL"], ["TYPE", k],
        ]
        if self.reads:
            choices += [["XREAD", "STREAMS", k, "0"]]
        if self.groups:
            choices += [["XGROUP", "CREATE", k, "g", "0"], ["XPENDING", k, "g"],
                        ["XACK", k, "g", "1-1"], ["XINFO", "GROUPS", k]]
        return r.choice(choices)

    # -- consumer groups -----------------------------------------------------------

    def group(self):
        r = self.rnd
        if self.group_names and r.random() < 0.9:
            return r.choice(self.group_names)
        return r.choice(["g1", "g2", "g3", "nogroup"])

    def op_xgroup(self):
        r = self.rnd
        x = r.random()
        if x < 0.35:
            g = r.choice(["g1", "g2", "g3"])
            argv = ["XGROUP", "CREATE", KEY, g, r.choice(["0", "$", self.some_id(), "abc"])]
            if r.random() < 0.1:
                argv.append("MKSTREAM")
            if r.random() < 0.3:
                argv += ["ENTRIESREAD", str(r.choice([0, 1, 3, 10, -1, -5]))]
            return argv
        if x < 0.5:
            argv = ["XGROUP", "SETID", KEY, self.group(), r.choice(["0", "$", self.some_id()])]
            if r.random() < 0.3:
                argv += ["ENTRIESREAD", str(r.choice([0, 2, 7, -1, -3]))]
            return argv
        if x < 0.6:
            return ["XGROUP", "DESTROY", KEY, self.group()]
        if x < 0.8:
            return ["XGROUP", "CREATECONSUMER", KEY, self.group(), r.choice(self.consumers)]
        return ["XGROUP", "DELCONSUMER", KEY, self.group(), r.choice(self.consumers)]

    def op_xreadgroup(self):
        r = self.rnd
        argv = ["XREADGROUP", "GROUP", self.group(), r.choice(self.consumers)]
        argv += self.count_opt()
        if r.random() < 0.2:
            argv.append("NOACK")
        argv += ["STREAMS", KEY, r.choice([">", ">", ">", "0", self.some_id(), "$"])]
        return argv

    def op_xack(self):
        r = self.rnd
        return ["XACK", KEY, self.group()] + [self.some_id() for _ in range(r.randint(1, 3))]

    def op_xpending(self):
        r = self.rnd
        g = self.group()
        if r.random() < 0.4:
            return ["XPENDING", KEY, g]
        argv = ["XPENDING", KEY, g]
        if r.random() < 0.2:
            argv += ["IDLE", "0"]
        argv += [self.bound("start"), self.bound("end"), str(r.choice([1, 3, 10, 100, 0, -1]))]
        if r.random() < 0.4:
            argv.append(r.choice(self.consumers))
        return argv

    def op_xclaim(self):
        r = self.rnd
        argv = ["XCLAIM", KEY, self.group(), r.choice(self.consumers), "0"]
        argv += [self.some_id() for _ in range(r.randint(1, 3))]
        if r.random() < 0.4:
            argv.append("JUSTID")
        if r.random() < 0.2:
            argv.append("FORCE")
        if r.random() < 0.2:
            argv += ["RETRYCOUNT", str(r.randint(0, 5))]
        if r.random() < 0.1:
            argv += ["LASTID", self.some_id()]
        return argv

    def op_xautoclaim(self):
        r = self.rnd
        argv = ["XAUTOCLAIM", KEY, self.group(), r.choice(self.consumers), "0",
                r.choice(["0", "0-0", "-", self.some_id()])]
        if r.random() < 0.5:
            argv += ["COUNT", str(r.choice([1, 2, 5, 100, 0]))]
        if r.random() < 0.4:
            argv.append("JUSTID")
        return argv

    def op_xinfo_groups(self):
        r = self.rnd
        if r.random() < 0.5:
            return ["XINFO", "GROUPS", KEY]
        return ["XINFO", "CONSUMERS", KEY, self.group()]

    # -- feedback ---------------------------------------------------------------

    def observe(self, argv, reply):
        name = argv[0].upper()
        if name == "XADD" and isinstance(reply, bytes):
            p = _parse(reply)
            if p:
                self.last = p
                self.ids.append(p)
        elif name == "XSETID" and not isinstance(reply, Err) and argv[1] is KEY:
            p = _parse(argv[2].encode())
            if p:
                self.last = p
        elif name == "XGROUP" and argv[1] == "CREATE" and not isinstance(reply, Err):
            if argv[3] not in self.group_names:
                self.group_names.append(argv[3])
        elif name == "XGROUP" and argv[1] == "DESTROY" and reply == 1:
            if argv[3] in self.group_names:
                self.group_names.remove(argv[3])


# -- normalisation --------------------------------------------------------------------

def _mask_groups_full(groups):
    out = []
    for g in groups:
        ng = []
        for k, v in pairs(g):
            if k == b"pending" and isinstance(v, list):
                v = [[e[0], e[1], "T", e[3]] for e in v]
            elif k == b"consumers" and isinstance(v, list):
                cs = []
                for c in v:
                    nc = []
                    for ck, cv in pairs(c):
                        if ck in (b"seen-time", b"active-time"):
                            cv = "T"
                        elif ck == b"pending" and isinstance(cv, list):
                            cv = [[e[0], "T", e[2]] for e in cv]
                        nc.append((ck, cv))
                    cs.append(nc)
                v = cs
            ng.append((k, v))
        out.append(ng)
    return out


def normalize(argv, reply):
    """Make a reply comparable across servers (see the module docstring)."""
    if isinstance(reply, Err):
        return reply
    name = argv[0].upper()
    sub = argv[1].upper() if len(argv) > 1 and isinstance(argv[1], str) else ""
    if name == "XINFO" and sub == "STREAM":
        kind = RMap if isinstance(reply, RMap) else list
        fields = [(k, v) for k, v in pairs(reply) if k not in DROP_FIELDS]
        fields = [(k, _mask_groups_full(v) if k == b"groups" and isinstance(v, list) else v)
                  for k, v in fields]
        return (kind.__name__, fields)
    if name == "XINFO" and sub == "CONSUMERS":
        return [[(k, "T" if k in (b"idle", b"inactive") else v) for k, v in pairs(c)]
                for c in reply]
    if name == "XPENDING" and len(argv) > 3 and isinstance(reply, list):
        return [[e[0], e[1], "T", e[3]] if isinstance(e, list) and len(e) == 4 else e
                for e in reply]
    return reply
