#!/usr/bin/env python3
"""make bench: module streams against native streams, side by side (issue 5).

One redis-server 7.0.15 with the module loaded serves both kinds of stream: a
native stream is created after `CONFIG SET idmp.capture-new-streams no`, a module
stream after `... yes` (each is checked with OBJECT ENCODING: "stream" for a
native stream, "raw" for a module value). Every workload runs native (A) and module
(B) alternately, A B A B ..., ROUNDS rounds each, with redis-benchmark, or with
bench/loadgen.rs where redis-benchmark cannot express the workload. It prints one
table of medians and B/A ratios and writes the same as JSON to target/bench/.

Environment: BENCH_QUICK=1 for a ~1-minute smoke run (smaller counts, 3 rounds),
BENCH_PORT (default 7600; the bench uses PORT .. PORT+3), BENCH_MODULE,
BENCH_LOADGEN, BENCH_OUT. BENCH_ONLY=persist runs only the SAVE / RDB load
section (at full size unless BENCH_QUICK is set; its table is only printed).
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ONLY = os.environ.get("BENCH_ONLY", "")
PORT = int(os.environ.get("BENCH_PORT", "7600"))
MODULE = os.environ.get("BENCH_MODULE", os.path.join(ROOT, "target/release/libredis_idmp.so"))
LOADGEN = os.environ.get("BENCH_LOADGEN", os.path.join(ROOT, "target/bench/loadgen"))
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "target/bench"))
RUNDIR = os.path.join(OUT, "run")

ROUNDS = 3 if QUICK else 5
# Request counts of the redis-benchmark workloads: the numbers in the code times
# SCALE (full: runs of about 1 s on the machine of the README when it is quiet).
SCALE = 0.05 if QUICK else 0.6
MEM_ENTRIES = 100_000 if QUICK else 1_000_000
BIG_PRODUCERS = 10_000 if QUICK else 100_000
IID_MEM_COUNT = 10_000 if QUICK else 50_000
PREFILL_SECS = 4 if QUICK else 10  # time budget of a scale case's prefill
RUN_SECS = 1 if QUICK else 1.5  # cap of one loadgen run
RAND = "2000000000"  # redis-benchmark -r: __rand_int__ is 12 digits, random() % RAND

T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def n(count):
    """A request count scaled for quick mode, a multiple of 50 clients x P16."""
    return max(800, round(count * SCALE / 800) * 800)


# --------------------------------------------------------------------------
# servers


def no_retry():
    # redis-py retries a refused connection with backoff (seconds): the start
    # and stop timings need the plain answer.
    return Retry(NoBackoff(), 0)


class Server:
    """A redis-server we start and stop by PID (127.0.0.1 only)."""

    def __init__(self, name, port, module=True, capture=True):
        self.name, self.port, self.module, self.capture = name, port, module, capture
        self.dir = os.path.join(RUNDIR, name)
        self.logfile = os.path.join(self.dir, "server.log")
        self.proc = None
        os.makedirs(self.dir, exist_ok=True)

    def start(self):
        """Starts the server (loading dump.rdb if present); returns the seconds to
        the first PONG."""
        try:
            redis.Redis(port=self.port, socket_connect_timeout=0.2, retry=no_retry()).ping()
            raise SystemExit(f"port {self.port} is in use by another server: set BENCH_PORT")
        except redis.ConnectionError:
            pass
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", self.dir, "--logfile", self.logfile]
        if self.module:
            args += ["--loadmodule", MODULE]
            if not self.capture:
                args += ["capture-new-streams", "no"]
        t = time.perf_counter()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.r = redis.Redis(port=self.port, decode_responses=True, retry=no_retry())
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"redis-server {self.name} exited; see {self.logfile}")
            try:
                self.r.ping()
                return time.perf_counter() - t
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.005)
            except redis.ResponseError as e:  # LOADING on older clients
                if "LOADING" not in str(e):
                    raise
                time.sleep(0.005)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.r.shutdown(nosave=True)
        except (redis.ConnectionError, redis.ResponseError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def last_load_secs(self):
        """The 'DB loaded from disk: X seconds' of the last start, from the log."""
        with open(self.logfile, errors="replace") as f:
            found = re.findall(r"DB loaded from disk: ([0-9.]+) seconds", f.read())
        return float(found[-1]) if found else None


def is_module_stream(r, key):
    # XINFO STREAM shows the idmp-* fields on both kinds; OBJECT ENCODING tells
    # them apart: "stream" for a native stream, "raw" for a module value.
    enc = r.object("ENCODING", key)
    if enc not in ("stream", "raw"):
        raise SystemExit(f"{key}: unexpected encoding {enc}")
    return enc == "raw"


def make_stream(r, key, kind, fields=("f", "v")):
    """Deletes key and creates it as a native or module stream with one entry."""
    r.execute_command("CONFIG", "SET", "idmp.capture-new-streams", "yes" if kind == "module" else "no")
    r.delete(key)
    r.execute_command("XADD", key, "*", *fields)
    r.execute_command("CONFIG", "SET", "idmp.capture-new-streams", "yes")
    if is_module_stream(r, key) != (kind == "module"):
        raise SystemExit(f"{key} was not created as a {kind} stream")


def check_kind(r, key, kind):
    if is_module_stream(r, key) != (kind == "module"):
        raise SystemExit(f"{key} is no longer a {kind} stream")


# --------------------------------------------------------------------------
# load tools


def redis_benchmark(port, count, pipeline, cmd, clients=50, rand=None):
    args = ["redis-benchmark", "-p", str(port), "-n", str(count), "-P", str(pipeline),
            "-c", str(clients), "--csv"]
    if rand:
        args += ["-r", rand]
    out = subprocess.run(args + cmd, capture_output=True, text=True, timeout=300)
    for line in out.stdout.splitlines():
        cells = [c.strip('"') for c in line.split('","')]
        if len(cells) >= 2 and cells[0] != "test":
            try:
                return float(cells[1])
            except ValueError:
                pass
    raise SystemExit(f"redis-benchmark gave no result: {out.stdout!r} {out.stderr!r}")


def loadgen(port, key, mode, count, producers=1, start=0, conns=8, pipeline=16, max_secs=0.0,
            full=False):
    """Runs bench/loadgen; returns its rate (or its whole JSON result if full)."""
    args = [LOADGEN, "--port", str(port), "--key", key, "--mode", mode, "--requests", str(count),
            "--producers", str(producers), "--start", str(start), "--conns", str(conns),
            "--pipeline", str(pipeline), "--max-secs", str(max_secs)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"loadgen failed: {out.stderr}")
    res = json.loads(out.stdout)
    if res["errors"]:
        raise SystemExit(f"loadgen: {res['errors']} error replies, first: {res['first_error']}")
    return res if full else res["rps"]


# --------------------------------------------------------------------------
# results

RESULTS = []
SKIPPED = []


def ratio(a, b):
    return b / a if a else None


def verdict(r, bar, higher_better):
    if bar is None or r is None:
        return None
    return r >= bar if higher_better else r <= bar


def add(section, name, unit, a_runs, b_runs, c_runs=None, bar=None, higher_better=True,
        a_label="native", b_label="module", note="", ratio_of=None, no_ratio=False):
    """Records one line: medians of A, B (and C), B/A or B against ratio_of,
    and B/C. A is the native stream on the module's server, B the module
    stream, C a native stream on a server without the module."""
    a_med = statistics.median(a_runs) if a_runs else None
    b_med = statistics.median(b_runs)
    c_med = statistics.median(c_runs) if c_runs else None
    r = None if no_ratio else ratio(ratio_of if ratio_of is not None else a_med, b_med)
    rc = None if no_ratio else ratio(c_med, b_med)
    line = dict(section=section, name=name, unit=unit, a_label=a_label, b_label=b_label,
                a_runs=a_runs, b_runs=b_runs, c_runs=c_runs or [], a_median=a_med, b_median=b_med,
                c_median=c_med, ratio=r, ratio_c=rc,
                bar=None if bar is None else (">=" if higher_better else "<=") + f" {bar}",
                meets_bar=verdict(r, bar, higher_better), meets_bar_c=verdict(rc, bar, higher_better),
                note=note)
    RESULTS.append(line)
    log(f"{name}: A {fmt(a_med)} B {fmt(b_med)} C {fmt(c_med)} {unit}: B/A {fmt(r, 3)} B/C {fmt(rc, 3)}")
    return line


def fmt(v, digits=None):
    if v is None:
        return "-"
    if abs(v) < 0.0005:
        v = 0.0  # no "-0.000"
    if digits is not None:
        return f"{v:.{digits}f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}"


def alternate(rounds, *runs):
    """A B A B ... (or A B C A B C ...): one list of measurements per arm."""
    out = [[] for _ in runs]
    for _ in range(rounds):
        for res, run in zip(out, runs):
            res.append(run())
    return out


# --------------------------------------------------------------------------
# workloads


def fresh_stream(srv, key, kind):
    """A one-entry stream: native or module on the module server, plain native
    on the server without it."""
    if srv.module:
        make_stream(srv.r, key, kind)
    else:
        srv.r.delete(key)
        srv.r.execute_command("XADD", key, "*", "f", "v")


def bench_xadd(s, plain):
    """XADD * with one small field, P1 and P16; IDMP; IDMPAUTO. Arms: A native
    stream on s, B module stream on s, C native stream on the server without
    the module."""

    def xadd_run(srv, kind, count, pipeline, cmd, rand=None, expect=None, prep=None):
        key = cmd[1]

        def run():
            fresh_stream(srv, key, kind)
            if prep:
                prep(srv.r, key)
            rps = redis_benchmark(srv.port, count, pipeline, cmd, rand=rand)
            length = srv.r.xlen(key)
            want = 1 + count if expect is None else expect
            if abs(length - want) > max(2, want // 1000):
                raise SystemExit(f"{' '.join(cmd)}: XLEN {length}, expected about {want}: errors?")
            check_kind(srv.r, key, kind)
            return rps
        return run

    def three(count, pipeline, b_cmd, rand=None, expect=None, prep=None, value="v"):
        return alternate(
            ROUNDS,
            xadd_run(s, "native", count, pipeline, ["XADD", "bn", "*", "f", value], rand=rand),
            xadd_run(s, "module", count, pipeline, b_cmd, rand=rand, expect=expect, prep=prep),
            xadd_run(plain, "native", count, pipeline, ["XADD", "bc", "*", "f", value], rand=rand))

    for pipeline, count in ((1, n(28_000)), (16, n(160_000))):
        a, b, c = three(count, pipeline, ["XADD", "bm", "*", "f", "v"])
        add("XADD", f"XADD * 1 field, P{pipeline}", "ops/s", a, b, c, bar=0.97)

    count = n(144_000)
    a, b, c = three(count, 16, ["XADD", "bm", "IDMP", "p1", "iid-__rand_int__", "*", "f", "v"], rand=RAND)
    add("XADD", "XADD IDMP fresh 16 B iid, P16", "ops/s", a, b, c, bar=0.95, b_label="module IDMP",
        note="A, C: plain native XADD; iid = 'iid-' + random 12 digits")
    a, b, c = three(n(160_000), 16, ["XADD", "bm", "IDMP", "p1", "dup", "*", "f", "v"], expect=2,
                    prep=fill_dup_stream)
    add("XADD", "XADD IDMP duplicates only, P16", "ops/s", a, b, c, b_label="module IDMP dup",
        note="A, C: plain native XADD; every B request answers the recorded ID")

    for size, count in ((16, n(144_000)), (1024, n(64_000))):
        value = "v" * (size - 12) + "__rand_int__"
        a, b, c = three(count, 16, ["XADD", "bm", "IDMPAUTO", "p1", "*", "f", value], rand=RAND,
                        value=value)
        add("XADD", f"XADD IDMPAUTO {size} B value, P16", "ops/s", a, b, c,
            bar=0.90 if size == 16 else None, b_label="module IDMPAUTO",
            note="A, C: plain native XADD of the same random value")
    s.r.delete("bn", "bm")
    plain.r.delete("bc")


def fill_dup_stream(r, key):
    # The duplicates workload needs the (p1, dup) pair recorded first.
    r.execute_command("XADD", key, "IDMP", "p1", "dup", "*", "f", "v")


def bench_reads(s, plain):
    r = s.r
    for srv, key, kind in ((s, "rn", "native"), (s, "rm", "module"), (plain, "rc", "native")):
        fresh_stream(srv, key, kind)
        pipe = srv.r.pipeline(transaction=False)
        for i in range(999):
            pipe.execute_command("XADD", key, "*", "f", "v", "g", str(i))
        pipe.execute()
        assert srv.r.xlen(key) == 1000

    def read_run(srv, cmd, key, count, expect):
        argv = [key if c == "KEY" else c for c in cmd]

        def run():
            got = srv.r.execute_command(*argv)
            if expect(got) is False:
                raise SystemExit(f"{cmd} on {key} answered {str(got)[:200]}")
            return redis_benchmark(srv.port, count, 16, argv)
        return run

    def three(cmd, count, expect):
        return alternate(ROUNDS, read_run(s, cmd, "rn", count, expect), read_run(s, cmd, "rm", count, expect),
                         read_run(plain, cmd, "rc", count, expect))

    work = [
        ("XRANGE - + COUNT 10", ["XRANGE", "KEY", "-", "+", "COUNT", "10"], n(56_000), lambda g: len(g) == 10),
        ("XRANGE - + COUNT 100", ["XRANGE", "KEY", "-", "+", "COUNT", "100"], n(8_000), lambda g: len(g) == 100),
        ("XREVRANGE + - COUNT 10", ["XREVRANGE", "KEY", "+", "-", "COUNT", "10"], n(56_000), lambda g: len(g) == 10),
        ("XREVRANGE + - COUNT 100", ["XREVRANGE", "KEY", "+", "-", "COUNT", "100"], n(8_000), lambda g: len(g) == 100),
        ("XLEN", ["XLEN", "KEY"], n(240_000), lambda g: g == 1000),
    ]
    for name, cmd, count, expect in work:
        a, b, c = three(cmd, count, expect)
        add("read", name + ", P16", "ops/s", a, b, c, bar=1.0, note="1000-entry stream")

    # XREAD and consumer groups only where the module serves them.
    try:
        r.execute_command("XREAD", "COUNT", "10", "STREAMS", "rm", "0-0")
        xread = True
    except redis.ResponseError as e:
        xread = False
        SKIPPED.append(dict(name="XREAD COUNT 10",
                            reason=f"the module does not serve XREAD on module streams yet ({e})"))
    if xread:
        a, b, c = three(["XREAD", "COUNT", "10", "STREAMS", "KEY", "0-0"], n(80_000), lambda g: True)
        add("read", "XREAD COUNT 10, P16", "ops/s", a, b, c, bar=1.0, note="1000-entry stream")
    try:
        r.execute_command("XGROUP", "CREATE", "rm", "g", "0")
        groups = True
    except redis.ResponseError as e:
        groups = False
        SKIPPED.append(dict(name="XREADGROUP + XACK cycle",
                            reason=f"the module does not serve consumer groups on module streams yet ({e})"))
    if groups:
        def cycle(srv, key):
            def run():
                srv.r.execute_command("XGROUP", "DESTROY", key, "g")
                srv.r.execute_command("XGROUP", "CREATE", key, "g", "0")
                return loadgen(srv.port, key, "group", 10_000_000, max_secs=RUN_SECS)
            return run

        a, b, c = alternate(ROUNDS, cycle(s, "rn"), cycle(s, "rm"), cycle(plain, "rc"))
        check_kind(r, "rm", "module")
        add("read", "XREADGROUP COUNT 10 + XACK cycle", "cycles/s", a, b, c,
            note=f"loadgen, 8 connections, no pipelining, runs of {RUN_SECS} s; 1000-entry stream read "
                 "over and over (XGROUP SETID 0 when read through); no bar in issue 5")
    r.delete("rn", "rm")
    plain.r.delete("rc")


def bench_scale(s):
    """XADD IDMP with counter iids (always fresh) over 1 .. 100,000 producers."""
    r, p = s.r, s.port
    count = n(200_000)
    cases = [(1, 10), (1000, 10), (BIG_PRODUCERS, 10), (1, 10_000)]
    base = None
    for producers, maxsize in cases:
        make_stream(r, "sn", "native")
        make_stream(r, "sm", "module")
        r.execute_command("XCFGSET", "sm", "IDMP-DURATION", "86400", "IDMP-MAXSIZE", str(maxsize))
        # Steady state first: every producer holding maxsize iids (request g goes
        # to producer g % producers, so the producers fill up evenly). The
        # prefill has a time budget: if it runs out, the state it reached is
        # what is measured, and the note says so.
        prefill = producers * maxsize
        t = time.perf_counter()
        loadgen(p, "sm", "idmp", prefill, producers=producers, conns=4, pipeline=64,
                max_secs=PREFILL_SECS)
        info = r.xinfo_stream("sm")
        log(f"scale: prefill {producers:,} x {maxsize:,} in {time.perf_counter() - t:.1f}s: "
            f"{info['pids-tracked']:,} pids, {info['iids-tracked']:,} iids tracked")
        cursor = [prefill]

        def run_b():
            rps = loadgen(p, "sm", "idmp", count, producers=producers, start=cursor[0],
                          max_secs=RUN_SECS)
            cursor[0] += count
            return rps

        a, b = alternate(ROUNDS, lambda: loadgen(p, "sn", "plain", count, max_secs=RUN_SECS), run_b)
        info = r.xinfo_stream("sm")
        if info["iids-duplicates"] != 0:
            raise SystemExit(f"scale case {producers}x{maxsize}: {info}")
        check_kind(r, "sn", "native")
        label = f"{producers:,} producer{'s' if producers != 1 else ''} x {maxsize:,} iids"
        note = (f"loadgen P16 x 8 conns, counter iids, runs capped at {RUN_SECS} s; A: plain native "
                f"XADD; tracked at the end: {info['pids-tracked']:,} pids, {info['iids-tracked']:,} iids")
        if info["iids-tracked"] < prefill:
            note += f" (the {PREFILL_SECS} s prefill budget ran out before {prefill:,})"
        if maxsize == 10_000:
            note += "; 100,000 iids per producer asked, IDMP-MAXSIZE is capped at 10,000"
        line = add("scale", f"XADD IDMP {label}", "ops/s", a, b, b_label="module IDMP", note=note)
        if base is None:
            base = line
        else:
            # flatness: the module's rate against the 1-producer case
            add("scale", f"flat: {label} / 1 x 10", "ops/s", [], b, bar=0.90,
                a_label="module 1x10", b_label="module IDMP", ratio_of=base["b_median"],
                note="module rate of this case over the 1-producer case")
        r.delete("sn", "sm")


def used_memory(r):
    return int(r.info("memory")["used_memory"])


def fill(srv, key, kind, fields, count):
    """A stream of `count` entries filled with redis-benchmark; returns a dict:
    usage (MEMORY USAGE), delta (used_memory delta), secs, len (XLEN), before."""
    r = srv.r
    r.flushall()
    before = used_memory(r)
    make_stream(r, key, kind, [x.replace("__rand_int__", "0" * 12) for x in fields])
    t = time.perf_counter()
    redis_benchmark(srv.port, count - 1, 64, ["XADD", key, "*", *fields], rand=RAND)
    secs = time.perf_counter() - t
    # redis-benchmark sends whole pipelines, so it may add a few more than asked
    length = r.xlen(key)
    if not count <= length <= count + 64 * 50:
        raise SystemExit(f"fill {key}: XLEN {length}, expected about {count}")
    check_kind(r, key, kind)
    usage = int(r.execute_command("MEMORY", "USAGE", key, "SAMPLES", "0"))
    return dict(usage=usage, delta=used_memory(r) - before, secs=secs, len=length, before=before)


def flush_and_measure(srv, f):
    """FLUSHALL; adds to f what it did not give back (left: memory the writes
    allocated that no key holds, i.e. a leak) and what the stream held."""
    srv.r.flushall()
    f["left"] = used_memory(srv.r) - f["before"]
    f["held"] = f["delta"] - f["left"]
    return f


def bench_memory(sn, sm):
    """Bytes per entry for two shapes."""
    shapes = [
        ("one small field", ["f", "v-__rand_int__"]),
        ("five 20 B fields", [x for i in range(1, 6) for x in (f"f{i}", "v" * 8 + "__rand_int__")]),
    ]
    count = MEM_ENTRIES
    for label, fields in shapes:
        a = flush_and_measure(sn, fill(sn, "mem", "native", fields, count))
        b = flush_and_measure(sm, fill(sm, "mem", "module", fields, count))
        note = f"{a['len']:,} native and {b['len']:,} module entries, one fill each (deterministic)"
        for what, key in (("MEMORY USAGE", "usage"), ("used_memory delta", "delta"),
                          ("used_memory freed by FLUSHALL", "held")):
            extra = "; the module's MEMORY USAGE is its own mem_usage estimate" if key == "usage" else ""
            add("memory", f"{what} / entry, {label}", "B", [a[key] / a["len"]], [b[key] / b["len"]],
                bar=1.0, higher_better=False, note=note + extra)
        add("memory", f"used_memory not freed by FLUSHALL / XADD, {label}", "B",
            [a["left"] / a["len"]], [b["left"] / b["len"]],
            no_ratio=True,
            note="what the writes allocated that FLUSHALL did not give back (a leak); no bar")
        log(f"fill {label}: native {a['secs']:.1f}s module {b['secs']:.1f}s")


def bench_persist(sn, sm):
    """SAVE and restart (RDB load) of 1M entries of one small field, A B A B on
    two servers that each hold only that stream."""
    count = MEM_ENTRIES
    fields = ["f", "v-__rand_int__"]
    lengths = {sn.name: fill(sn, "mem", "native", fields, count)["len"],
               sm.name: fill(sm, "mem", "module", fields, count)["len"]}

    def save(srv):
        def run():
            t = time.perf_counter()
            srv.r.save()
            return time.perf_counter() - t
        return run

    a, b = alternate(ROUNDS, save(sn), save(sm))
    rdb = [os.path.getsize(os.path.join(x.dir, "dump.rdb")) for x in (sn, sm)]
    add("persist", f"SAVE {count:,} entries (one small field)", "s", a, b, bar=1.2, higher_better=False,
        note=f"RDB {rdb[0]:,} B native, {rdb[1]:,} B module")

    def restart(srv):
        def run():
            srv.stop()
            ping = srv.start()
            if srv.r.xlen("mem") != lengths[srv.name]:
                raise SystemExit(f"{srv.name}: stream not loaded back")
            load = srv.last_load_secs()
            return load if load is not None else ping
        return run

    a, b = alternate(ROUNDS, restart(sn), restart(sm))
    add("persist", f"restart: RDB load of {count:,} entries", "s", a, b, bar=1.2, higher_better=False,
        note="'DB loaded from disk' of the server log")
    check_kind(sn.r, "mem", "native")
    check_kind(sm.r, "mem", "module")
    sn.r.flushall()
    sm.r.flushall()


def bench_iid_memory(srv):
    """Bytes per tracked 16-byte iid: the same entries with and without IDMP."""
    r = srv.r
    count, maxsize = IID_MEM_COUNT, 100
    producers = count // maxsize
    res = {}
    for mode in ("plain", "idmp"):
        r.flushall()
        before = used_memory(r)
        make_stream(r, "iid", "module")
        r.execute_command("XCFGSET", "iid", "IDMP-DURATION", "86400", "IDMP-MAXSIZE", str(maxsize))
        loadgen(srv.port, "iid", mode, count, producers=producers, conns=4, pipeline=64)
        f = dict(usage=int(r.execute_command("MEMORY", "USAGE", "iid", "SAMPLES", "0")),
                 delta=used_memory(r) - before, before=before,
                 tracked=r.xinfo_stream("iid")["iids-tracked"])
        res[mode] = flush_and_measure(srv, f)
    tracked = res["idmp"]["tracked"]
    if tracked != count:
        raise SystemExit(f"iid memory: {tracked} iids tracked, expected {count}")
    note = (f"{count:,} iids of 16 B ({producers:,} producers of 9 B x {maxsize}): module stream with "
            f"IDMP minus the same entries without; not freed by FLUSHALL: {res['plain']['left']:,} B "
            f"without, {res['idmp']['left']:,} B with IDMP")
    for what, key in (("MEMORY USAGE", "usage"), ("used_memory delta", "delta"),
                      ("used_memory freed by FLUSHALL", "held")):
        add("memory", f"{what} / tracked iid", "B", [], [(res["idmp"][key] - res["plain"][key]) / tracked],
            bar=64, higher_better=False, a_label="-", ratio_of=1.0, note=note + "; the ratio is the bytes")


# --------------------------------------------------------------------------
# report


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    rv = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return dict(nproc=os.cpu_count(), cpu=cpu, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                loadavg_start=open("/proc/loadavg").read().split()[:3], redis=rv, commit=commit)


LEGEND = ("A: native stream on the server with the module loaded (capture-new-streams no); "
          "B: module stream on the same server (or the module case named); "
          "C: native stream on a server without the module. "
          "Throughput in ops/s (higher is better), memory in bytes and times in seconds (lower is better). "
          "'vs A' / 'vs C': issue 5's bar applied to B/A and B/C.")


def table():
    rows = [("workload", "B", "A median", "B median", "C median", "unit", "B/A", "B/C", "bar", "vs A", "vs C")]
    marks = {True: "ok", False: "MISS", None: ""}
    for x in RESULTS:
        rows.append((x["name"], x["b_label"], fmt(x["a_median"]), fmt(x["b_median"]), fmt(x["c_median"]),
                     x["unit"], fmt(x["ratio"], 3), fmt(x["ratio_c"], 3), x["bar"] or "",
                     marks[x["meets_bar"]], marks[x["meets_bar_c"]]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for i, row in enumerate(rows):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        if i == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out.append("")
    for sk in SKIPPED:
        out.append(f"skipped: {sk['name']}: {sk['reason']}")
    return "\n".join(out)


def main():
    if not os.path.exists(MODULE):
        raise SystemExit(f"{MODULE} missing: cargo build --release")
    if not ONLY and not os.path.exists(LOADGEN):
        raise SystemExit(f"{LOADGEN} missing: rustc -O bench/loadgen.rs -o {LOADGEN}")
    shutil.rmtree(RUNDIR, ignore_errors=True)
    os.makedirs(RUNDIR)
    if ONLY == "persist":
        sn = Server("persist-native", PORT + 1, capture=False)
        sm = Server("persist-module", PORT + 2)
        try:
            sn.start()
            sm.start()
            bench_persist(sn, sm)
        finally:
            sn.stop()
            sm.stop()
        print(table())
        return
    if ONLY:
        raise SystemExit(f"BENCH_ONLY={ONLY}: only 'persist' is supported")
    info = machine()
    log(f"mode {'quick' if QUICK else 'full'}, {ROUNDS} rounds, machine {info}")
    main_srv = Server("main", PORT)
    sn = Server("persist-native", PORT + 1, capture=False)
    sm = Server("persist-module", PORT + 2)
    plain = Server("no-module", PORT + 3, module=False)
    servers = [main_srv, sn, sm, plain]
    try:
        for x in servers:
            x.start()
        bench_xadd(main_srv, plain)
        bench_reads(main_srv, plain)
        plain.stop()
        bench_scale(main_srv)
        bench_iid_memory(main_srv)
        main_srv.stop()
        bench_memory(sn, sm)
        bench_persist(sn, sm)
    finally:
        for x in servers:
            x.stop()
    info["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    info["seconds"] = round(time.time() - T0, 1)
    text = table()
    head = (f"redis-idmp bench ({'quick' if QUICK else 'full'}, {ROUNDS} rounds A B (C) A B (C) ..., "
            f"medians): {info['date']}, nproc {info['nproc']}, {info['cpu']}, {info['redis']}, commit "
            f"{info['commit']}, load avg {' '.join(info['loadavg_start'])} -> "
            f"{' '.join(info['loadavg_end'])}, {info['seconds']} s")
    text = head + "\n\n" + LEGEND + "\n\n" + text
    print(text)
    os.makedirs(OUT, exist_ok=True)
    name = "bench-quick.json" if QUICK else "bench.json"
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(dict(mode="quick" if QUICK else "full", rounds=ROUNDS, machine=info, legend=LEGEND,
                       results=RESULTS, skipped=SKIPPED), f, indent=1)
    with open(os.path.join(OUT, name.replace(".json", ".md")), "w") as f:
        f.write(text + "\n")
    print(f"written: {os.path.join(OUT, name)}")


if __name__ == "__main__":
    main()
