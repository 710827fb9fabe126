"""Model-based test of SPEC sections 2, 4, 5 and 7: a seeded random mix of
XADD IDMP/IDMPAUTO (with and without trimming), XDEL, XTRIM, XCFGSET and
XIDMPRECORD against a module stream, checked step by step against a small Python
model of the IDMP state (pid -> iids in insertion order, FIFO capacity, counters).
Durations stay far above the test's run time, so nothing expires."""

import random
from collections import OrderedDict

import pytest

from resp import OK, Err
from util import idmpauto_iid, pairs, parse_id

ERR_GONE = Err(b"ERR No such message in stream")
ERR_OTHER = Err(b"ERR IID already exists for this producer with a different stream ID")

PIDS = [b"p1", b"p2", b"p3", b"\x00bin", b"*"]
IIDS = [b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"\xff", b"*"]
CONTENTS = [[b"f", b"v"], [b"f", b"w"], [b"a", b"bc"], [b"ab", b"c"], [b"f", b"v", b"f", b"v"],
            [b"x", b"1", b"y", b"2"], [b"y", b"2", b"x", b"1"], [b"", b""]]


class Model:
    def __init__(self):
        self.duration, self.maxsize = 100, 100
        self.producers = {}
        self.added = self.dups = 0

    def lookup(self, pid, iid):
        return self.producers.get(pid, {}).get(iid)

    def record(self, pid, iid, sid):
        prod = self.producers.setdefault(pid, OrderedDict())
        prod[iid] = sid
        while len(prod) > self.maxsize:
            prod.popitem(last=False)

    def configure(self, duration, maxsize):
        new = (duration if duration is not None else self.duration,
               maxsize if maxsize is not None else self.maxsize)
        if new != (self.duration, self.maxsize):
            self.duration, self.maxsize = new
            self.producers = {}

    def counters(self):
        held = [p for p in self.producers.values() if p]
        return (len(held), sum(len(p) for p in held), self.added, self.dups)


def server_counters(c):
    d = dict(pairs(c.call("XINFO", "STREAM", "s")))
    return (d[b"pids-tracked"], d[b"iids-tracked"], d[b"iids-added"],
            d[b"iids-duplicates"]), (d[b"idmp-duration"], d[b"idmp-maxsize"])


def live_ids(c):
    return [e[0] for e in c.call("XRANGE", "s", "-", "+")]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_idmp_model(raw, seed):
    run_model(raw, seed, 1200)


def run_model(raw, seed, steps, reload=True):
    rnd = random.Random(seed)
    m = Model()
    raw.call("XADD", "s", "1-1", "init", "x")
    live = [b"1-1"]
    last = b"1-1"
    history = []
    for step in range(steps):
        x = rnd.random()
        if x < 0.5:
            pid = rnd.choice(PIDS)
            trim = []
            if rnd.random() < 0.2:
                trim = ["MAXLEN", rnd.choice(["=", "~"]), str(rnd.randint(0, 30))]
            if rnd.random() < 0.5:
                iid = rnd.choice(IIDS)
                fields = [b"n", str(step).encode()]
                argv = ["XADD", "s", "IDMP", pid, iid] + trim + ["*"] + fields
            else:
                fields = rnd.choice(CONTENTS)
                iid = idmpauto_iid(fields)
                argv = ["XADD", "s"] + trim + ["IDMPAUTO", pid, "*"] + fields
            known = m.lookup(pid, iid)
            reply = raw.call(*argv)
            if known is not None:
                want_len = len(live)
                assert reply == known, (step, argv, history[-5:])
                m.dups += 1
                assert len(live_ids(raw)) == want_len, "a duplicate must not trim"
            else:
                assert isinstance(reply, bytes) and parse_id(reply) > parse_id(last), \
                    (step, argv, reply)
                last = reply
                m.record(pid, iid, reply)
                m.added += 1
        elif x < 0.6:
            if live:
                assert raw.call("XDEL", "s", rnd.choice(live)) == 1
            argv = ["XDEL"]
        elif x < 0.65:
            argv = ["XTRIM", "s", "MAXLEN", str(rnd.randint(0, 20))]
            raw.call(*argv)
        elif x < 0.75:
            argv = ["XCFGSET", "s"]
            dur = maxs = None
            # each option at most once (a repeat is an error, as on 8.6.3)
            for opt in rnd.sample(["d", "m"], rnd.randint(1, 2)):
                if opt == "d":
                    dur = rnd.choice([m.duration, m.duration, 100, 200, 86400])
                    argv += [rnd.choice(["IDMP-DURATION", "DURATION", "idmp-duration"]),
                             str(dur)]
                else:
                    maxs = rnd.choice([m.maxsize, m.maxsize, 1, 2, 3, 5, 100])
                    argv += [rnd.choice(["IDMP-MAXSIZE", "MAXSIZE"]), str(maxs)]
            assert raw.call(*argv) == OK, argv
            m.configure(dur, maxs)
        elif x < 0.9:
            pid, iid = rnd.choice(PIDS), rnd.choice(IIDS)
            candidates = live + [last, b"1-1"]
            sid = rnd.choice(candidates)
            argv = ["XIDMPRECORD", "s", pid, iid, sid]
            reply = raw.call(*argv)
            known = m.lookup(pid, iid)
            if sid not in live:
                # 8.6.3 checks the entry before the pair
                assert reply == ERR_GONE, (step, argv, known, reply)
            elif known is not None:
                want = OK if known == sid else ERR_OTHER
                assert reply == want, (step, argv, known, reply)
            else:
                assert reply == OK, (step, argv, reply)
                m.record(pid, iid, sid)
                m.added += 1  # a recorded mapping counts, as on 8.6.3
        else:
            argv = ["DEBUG", "RELOAD"] if reload and rnd.random() < 0.1 else ["XLEN", "s"]
            raw.call(*argv)
        history.append(argv)
        live = live_ids(raw)
        got, settings = server_counters(raw)
        assert settings == (m.duration, m.maxsize), (step, argv)
        assert got == m.counters(), (step, argv, history[-6:])
    return m


AOF = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--appendfsync", "always"]


def _wait_rewrite(c):
    import time
    deadline = time.time() + 30
    while time.time() < deadline:
        info = c.call("INFO", "persistence").decode()
        if "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info:
            return
        time.sleep(0.05)
    raise AssertionError("AOF rewrite did not finish")


@pytest.mark.parametrize("how", ["aof-replay", "aof-rewrite", "rdb"])
def test_idmp_model_survives_restart(server_factory, how):
    """The model's state after a random sequence comes back from the AOF (every
    write propagated exactly), from a rewritten AOF and from an RDB."""
    srv = server_factory(extra=AOF if how.startswith("aof") else None)
    with srv.raw() as c:
        m = run_model(c, 77, 600, reload=False)
        entries = c.call("XRANGE", "s", "-", "+")
        if how == "aof-rewrite":
            c.call("BGREWRITEAOF")
            _wait_rewrite(c)
        elif how == "rdb":
            assert c.call("SAVE") == OK
    srv.restart()
    with srv.raw() as c:
        got, settings = server_counters(c)
        assert settings == (m.duration, m.maxsize)
        assert got == m.counters()
        assert c.call("XRANGE", "s", "-", "+") == entries
        for pid, prod in m.producers.items():
            for iid, sid in prod.items():
                assert c.call("XADD", "s", "IDMP", pid, iid, "*", "z", "z") == sid, (pid, iid)
