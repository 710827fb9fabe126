"""Issue 3 crash test: a producer sends ``XADD s IDMP p <n> * n <n>`` for n = 1..N
to a server with ``appendonly yes`` and ``appendfsync always``; the server is killed
with SIGKILL at random moments (at least five times) and restarted; the producer
resends every message it has no reply for. At the end the stream holds exactly one
entry per n, in order, each with the ID the producer was told. Bounded: a few
thousand messages, under a minute. The figures (restarts, messages, resends,
duplicates caught) are printed (``pytest -s``)."""

import random
import threading
import time

import pytest

from resp import ConnectionDropped, Err, RespClient, encode_command
from server import HOST
from pworkload import kill9, meta, wait_rewrite

N = 5000
KILLS = 15
# messages in flight at once: one at a time, or a pipeline whose unanswered tail is resent
PIPELINE = {"plain": 1, "rewrites": 1, "pipelined": 40}
TIME_LIMIT = 60.0
# mode "rewrites": a BGREWRITEAOF is started when the producer reaches each of these
REWRITE_AT = (600, 1400, 2200, 3000, 3800, 4400)


def _ahead(k, thresholds, done):
    """Pacing: the producer, about to send message k, may run at most one
    threshold ahead of the thread that acts at them (kills, rewrites), so the
    kills and rewrites all happen during the run however fast the server is;
    the moment of each kill relative to the requests stays random."""
    return sum(1 for t in thresholds if t < k) - 1 > done


def _connect(srv, deadline, failures):
    while time.time() < deadline and not failures:
        try:
            return RespClient(HOST, srv.port, timeout=10)
        except OSError:
            time.sleep(0.005)
    raise AssertionError("could not reconnect (restarter: %r)\nlog:\n%s"
                         % (failures, srv.log_tail()))


@pytest.mark.parametrize("mode", ["plain", "rewrites", "pipelined"])
def test_sigkill_producer_exactly_once(server_factory, mode):
    extra = ["--appendonly", "yes", "--appendfsync", "always"]
    if mode == "rewrites":
        # AOF rewrites (module emitter, no preamble) keep happening during the run
        extra += ["--aof-use-rdb-preamble", "no", "--auto-aof-rewrite-percentage", "10",
                  "--auto-aof-rewrite-min-size", "32kb"]
    else:
        extra += ["--auto-aof-rewrite-percentage", "0"]
    srv = server_factory(extra=extra)
    rnd = random.Random({"plain": 5150, "rewrites": 5151, "pipelined": 5152}[mode])
    thresholds = sorted(rnd.sample(range(100, N - 100), KILLS))
    progress = [0]
    stop = threading.Event()
    restarts = [0]
    failures = []

    def killer():
        try:
            for t in thresholds:
                while progress[0] < t and not stop.is_set():
                    time.sleep(0.001)
                if stop.is_set():
                    return
                time.sleep(rnd.random() * 0.02)   # a random moment, mostly mid-request
                kill9(srv)
                srv.start(timeout=30)
                restarts[0] += 1
        except Exception as e:   # reported by the main thread
            failures.append(e)

    rewrites_done = [0]

    def finished_rewrites():
        with open(srv.logfile, "rb") as f:
            return f.read().count(b"Background AOF rewrite finished successfully")

    def rewriter():
        # A rewrite at each threshold, while the producer goes on, started
        # again until one finishes: a kill may take the server down mid-rewrite
        # (and with it the rewrite), and the producer waits for the rewrite of
        # its threshold, so that rewrites finish during the run however fast
        # the server is.
        try:
            for t in REWRITE_AT:
                while progress[0] < t and not stop.is_set():
                    time.sleep(0.001)
                before = finished_rewrites()
                while not stop.is_set() and finished_rewrites() == before:
                    try:
                        with RespClient(HOST, srv.port, timeout=10) as cl:
                            info = cl.call("INFO", "persistence")
                            if isinstance(info, bytes) and b"aof_rewrite_in_progress:0" in info \
                                    and b"aof_rewrite_scheduled:0" in info \
                                    and finished_rewrites() == before:
                                cl.call("BGREWRITEAOF")
                    except (OSError, ConnectionDropped):
                        pass
                    time.sleep(0.005)
                rewrites_done[0] += 1
        except Exception as e:   # reported by the main thread
            failures.append(e)

    th = threading.Thread(target=killer, daemon=True)
    threads = [th]
    if mode == "rewrites":
        threads.append(threading.Thread(target=rewriter, daemon=True))
    t0 = time.time()
    deadline = t0 + TIME_LIMIT * 2
    for t in threads:
        t.start()
    told = {}
    resends = loading = 0
    c = None
    n = 1                      # first message without an answer
    sent_before = set()        # messages sent at least once
    batch = PIPELINE[mode]
    try:
        while n <= N:
            assert time.time() < deadline, "producer stuck at n=%d" % n
            assert not failures, failures
            todo = list(range(n, min(N, n + batch - 1) + 1))
            if _ahead(todo[-1], thresholds, restarts[0]) or (
                    mode == "rewrites" and _ahead(todo[-1], REWRITE_AT, rewrites_done[0])):
                time.sleep(0.001)
                continue
            try:
                if c is None:
                    c = _connect(srv, deadline, failures)
                resends += sum(1 for k in todo if k in sent_before)
                sent_before.update(todo)
                c.send_raw(b"".join(
                    encode_command(["XADD", "s", "IDMP", "p", str(k), "*", "n", str(k)])
                    for k in todo))
                for k in todo:
                    r = c.read()
                    if isinstance(r, Err) and r.value.startswith(b"LOADING"):
                        loading += 1
                        raise ConnectionDropped("loading")
                    assert isinstance(r, bytes), (k, r)
                    told[k] = r
                    n = k + 1
                    progress[0] = n
            except (OSError, ConnectionDropped):
                if c is not None:
                    try:
                        c.close()
                    except OSError:
                        pass
                c = None
                time.sleep(0.002)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        if c is not None:
            c.close()
    elapsed = time.time() - t0
    assert not failures, failures

    def check(cl):
        entries = cl.call("XRANGE", "s", "-", "+")
        ns = [int(dict(zip(e[1][0::2], e[1][1::2]))[b"n"]) for e in entries]
        assert len(ns) == len(set(ns)), "duplicated messages: %d entries for %d distinct n" % (
            len(ns), len(set(ns)))
        assert ns == list(range(1, N + 1)), "missing or out of order (first bad index %s)" % next(
            (i for i, x in enumerate(ns) if x != i + 1), None)
        wrong = [(i + 1, e[0], told[i + 1]) for i, e in enumerate(entries) if e[0] != told[i + 1]]
        assert wrong == [], "entries whose ID differs from the one the producer was told: %r" % (
            wrong[:5],)
        return meta(cl, "s")

    with srv.raw() as cl:
        if mode == "rewrites":
            wait_rewrite(cl)
        m = check(cl)
    dups = m[b"iids-duplicates"]
    rewrites = finished_rewrites()
    print("\ncrash test (%s): %d messages, %d SIGKILL restarts, %d resends, "
          "%d duplicates caught (iids-duplicates), %d LOADING answers, %d AOF rewrites, %.1f s"
          % (mode, N, restarts[0], resends, dups, loading, rewrites, elapsed), flush=True)
    if mode == "rewrites":
        assert rewrites >= 3, rewrites
    assert restarts[0] >= 5
    assert m[b"length"] == N and m[b"entries-added"] == N, m
    assert m[b"iids-added"] == N, m
    assert dups <= resends, (dups, resends)
    # one more clean restart: still the same
    srv.restart()
    with srv.raw() as cl:
        assert check(cl) == m
        # the last message retried after everything: still a duplicate
        assert cl.call("XADD", "s", "IDMP", "p", str(N), "*", "n", "again") == told[N]
    assert elapsed < TIME_LIMIT, "took %.1f s" % elapsed
