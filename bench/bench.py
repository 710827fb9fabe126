#!/usr/bin/env python3
"""make bench: the host with the module against the host without it (issues 5, 13).

Three servers of the same host binary run side by side: C without the module,
A with the module and native streams (capture-new-streams no), B with the module
and module streams (each stream is checked with OBJECT ENCODING: "stream" for a
native stream, "raw" for a module value). Every workload runs C, A, B in turn,
ROUNDS rounds (the order reversed every other round: C A B, B A C, ...), with
redis-benchmark, or with bench/loadgen.rs where redis-benchmark cannot express
the workload; every row prints the medians and B/C and A/C, each the median of
the rounds' own ratios (min-max and the ratio of the medians in the JSON). Where native Redis 8.6.3 is built
(servers/get.sh redis-8.6.3), a fourth server runs its own XADD, IDMP and
IDMPAUTO in the same rounds, so the cost of IDMP over plain XADD can be compared
with native's own; otherwise the column says it is absent. It prints one table
and writes the same as JSON and Markdown to target/bench/.

Pinning: where the machine gives this process two CPUs or more, every server
runs on the first of them and every load tool (redis-benchmark, loadgen) on the
second, the same for every arm. Unpinned, the scheduler moves the server and the
client between the two cores of the README's machine and a workload's rate
moved by a third from round to round (XADD P16 on the host alone: 440k-778k
ops/s in six rounds; pinned 399k-441k, and B/C 1.15-1.22 instead of
1.04-1.21). BENCH_PIN=0 turns it off.

Environment: BENCH_QUICK=1 for a run of about a minute (smaller counts, 3 rounds),
BENCH_PORT (default 7600; the bench uses PORT .. PORT+5), BENCH_MODULE,
BENCH_LOADGEN, BENCH_OUT, BENCH_NATIVE86 (the 8.6.3 binary). BENCH_ONLY=persist runs only the SAVE / RDB load
section (at full size unless BENCH_QUICK is set; its table is only printed).
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
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

ROUNDS = 3 if QUICK else 7
# Request counts of the redis-benchmark workloads: the numbers in the code times
# SCALE (full: runs of about 1 s on the machine of the README when it is quiet).
SCALE = 0.25 if QUICK else 0.6
MEM_ENTRIES = 100_000 if QUICK else 1_000_000
BIG_PRODUCERS = 10_000 if QUICK else 100_000
IID_MEM_COUNT = 10_000 if QUICK else 50_000
PREFILL_SECS = 4 if QUICK else 10  # time budget of a scale case's prefill
RUN_SECS = 1 if QUICK else 1.5  # cap of one loadgen run
# CPUs of the servers and of the load tools (see the docstring); None: unpinned.
_CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
PIN = (os.environ.get("BENCH_PIN", "1") != "0") and len(_CPUS) >= 2
SERVER_CPU = _CPUS[0] if PIN else None
CLIENT_CPU = _CPUS[1] if PIN else None


def pinned(cpu):
    """A preexec_fn that runs the child on `cpu` (None: anywhere)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


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

    def __init__(self, name, port, module=True, capture=True, binary="redis-server"):
        self.name, self.port, self.module, self.capture = name, port, module, capture
        self.binary = binary
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
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", self.dir, "--logfile", self.logfile]
        if self.module:
            args += ["--loadmodule", MODULE]
            if not self.capture:
                args += ["capture-new-streams", "no"]
        t = time.perf_counter()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=pinned(SERVER_CPU))
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
    out = subprocess.run(args + cmd, capture_output=True, text=True, timeout=300,
                         preexec_fn=pinned(CLIENT_CPU))
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
    out = subprocess.run(args, capture_output=True, text=True, timeout=600,
                         preexec_fn=pinned(CLIENT_CPU))
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


def paired(num, den):
    """The median of the rounds' own ratios num_i / den_i, or None unless both
    arms ran once per round. The runs of one round are seconds apart, the
    rounds up to minutes, and this VM's speed drifts at both scales (a row's
    five C runs read 911k to 1,440k ops/s): a ratio of medians can set C's
    median from a fast round against B's from a slow one, a round's own
    ratio cannot. Reversing the order every other round (alternate) cancels
    what drift remains inside the rounds, to first order."""
    if not num or not den or len(num) != len(den) or not all(den):
        return None
    return statistics.median(n / d for n, d in zip(num, den))


def verdict(r, bar, higher_better):
    if bar is None or r is None:
        return None
    return r >= bar if higher_better else r <= bar


def add(section, name, unit, a_runs, b_runs, c_runs=None, bar=None, higher_better=True,
        a_label="native", b_label="module", note="", ratio_of=None, no_ratio=False, d_runs=None,
        d_base=None, bar_a=None):
    """Records one line: medians (and min-max) of A, B, C and native 8.6.3 (D).
    A: native stream on the server with the module, B: module stream on the
    server with the module, C: native stream on the server without it; B/C and
    A/C against the bars (bar for B/C, bar_a for A/C). Lines without C (scale,
    memory) keep B/A, or B against ratio_of. d_base: 8.6.3's plain XADD median,
    for its own IDMP cost (D / d_base)."""
    med = lambda runs: statistics.median(runs) if runs else None
    a_med, b_med, c_med, d_med = med(a_runs), med(b_runs), med(c_runs), med(d_runs)
    # Of the medians (kept in the JSON), and per round (printed, see paired).
    r_med = None if no_ratio else ratio(ratio_of if ratio_of is not None else a_med, b_med)
    rc_med = None if no_ratio else ratio(c_med, b_med)
    rac_med = None if no_ratio else ratio(c_med, a_med)
    pick = lambda pair, of_medians: of_medians if pair is None else pair
    r = None if no_ratio else (r_med if ratio_of is not None else pick(paired(b_runs, a_runs), r_med))
    rc = None if no_ratio else pick(paired(b_runs, c_runs), rc_med)
    rac = None if no_ratio else pick(paired(a_runs, c_runs), rac_med)
    rd = ratio(d_base, d_med) if d_base and d_med else None
    line = dict(section=section, name=name, unit=unit, a_label=a_label, b_label=b_label,
                a_runs=a_runs, b_runs=b_runs, c_runs=c_runs or [], d_runs=d_runs or [],
                a_median=a_med, b_median=b_med, c_median=c_med, d_median=d_med,
                minmax={k: [min(v), max(v)] for k, v in
                        (("a", a_runs), ("b", b_runs), ("c", c_runs), ("d", d_runs)) if v},
                ratio=r, ratio_c=rc, ratio_ac=rac, ratio_d=rd,
                ratio_of_medians=r_med, ratio_c_of_medians=rc_med, ratio_ac_of_medians=rac_med,
                round_ratios_c=[b / c for b, c in zip(b_runs, c_runs or []) if c],
                round_ratios_ac=[a / c for a, c in zip(a_runs, c_runs or []) if c],
                bar=None if bar is None else (">=" if higher_better else "<=") + f" {bar}",
                bar_a=None if bar_a is None else f">= {bar_a}",
                meets_bar=verdict(r, bar, higher_better), meets_bar_c=verdict(rc, bar, higher_better),
                meets_bar_a=verdict(rac, bar_a, True), note=note)
    RESULTS.append(line)
    log(f"{name}: C {fmt(c_med)} A {fmt(a_med)} B {fmt(b_med)} 8.6.3 {fmt(d_med)} {unit}: "
        f"B/C {fmt(rc, 3)} A/C {fmt(rac, 3)} B/A {fmt(r, 3)}")
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
    """A B, B A, A B, ... (A B C, C B A, ...): one list of measurements per
    arm, in round order. Every other round runs the arms in reverse, so an arm
    is not always the one measured first (or last) after a change of pace."""
    out = [[] for _ in runs]
    for i in range(rounds):
        order = list(zip(out, runs))
        for res, run in (order if i % 2 == 0 else reversed(order)):
            res.append(run())
    return out


# --------------------------------------------------------------------------
# workloads


def fresh_stream(srv, key, kind):
    """A one-entry stream: native or module on the module server B (which
    captures new streams), native on A (which does not) and on C and 8.6.3."""
    if srv.module and srv.capture:
        make_stream(srv.r, key, kind)
    else:
        srv.r.delete(key)
        srv.r.execute_command("XADD", key, "*", "f", "v")
        if srv.module:
            check_kind(srv.r, key, "native")


def bench_xadd(a_srv, b_srv, c_srv, d_srv):
    """XADD * with one small field, P1 and P16; IDMP; IDMPAUTO. Arms, in this
    order each round: C native stream without the module, A native stream with
    it, B module stream with it, and native 8.6.3 (D) when present: its plain
    XADD for the plain rows, its own IDMP/IDMPAUTO for the others."""

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
            if srv.module:
                check_kind(srv.r, key, kind)
            return rps
        return run

    def arms(count, pipeline, b_cmd, rand=None, expect=None, prep=None, value="v"):
        runs = [xadd_run(c_srv, "native", count, pipeline, ["XADD", "bc", "*", "f", value], rand=rand),
                xadd_run(a_srv, "native", count, pipeline, ["XADD", "bn", "*", "f", value], rand=rand),
                xadd_run(b_srv, "module", count, pipeline, b_cmd, rand=rand, expect=expect, prep=prep)]
        if d_srv:
            runs.append(xadd_run(d_srv, "native", count, pipeline, ["XADD", "bd", *b_cmd[2:]], rand=rand,
                                 expect=expect, prep=prep))
        out = alternate(ROUNDS, *runs)
        return out if d_srv else out + [None]

    d_plain = None
    for pipeline, count in ((1, n(28_000)), (16, n(160_000))):
        c, a, b, d = arms(count, pipeline, ["XADD", "bm", "*", "f", "v"])
        add("XADD", f"XADD * 1 field, P{pipeline}", "ops/s", a, b, c, bar=0.95, bar_a=0.95, d_runs=d)
        if pipeline == 16 and d:
            d_plain = statistics.median(d)

    count = n(144_000)
    c, a, b, d = arms(count, 16, ["XADD", "bm", "IDMP", "p1", "iid-__rand_int__", "*", "f", "v"], rand=RAND)
    add("XADD", "XADD IDMP fresh 16 B iid, P16", "ops/s", a, b, c, bar=0.90, bar_a=0.95,
        b_label="module IDMP", d_runs=d, d_base=d_plain,
        note="C, A: plain native XADD; iid = 'iid-' + random 12 digits; 8.6.3: its own IDMP, "
             "8.6.3 ratio = its IDMP / its plain XADD P16")
    c, a, b, d = arms(n(160_000), 16, ["XADD", "bm", "IDMP", "p1", "dup", "*", "f", "v"], expect=2,
                      prep=fill_dup_stream)
    add("XADD", "XADD IDMP duplicates only, P16", "ops/s", a, b, c, bar=1.0, bar_a=0.95,
        b_label="module IDMP dup", d_runs=d, d_base=d_plain,
        note="C, A: plain native XADD; every B request answers the recorded ID")

    for size, count in ((16, n(144_000)), (1024, n(64_000))):
        value = "v" * (size - 12) + "__rand_int__"
        c, a, b, d = arms(count, 16, ["XADD", "bm", "IDMPAUTO", "p1", "*", "f", value], rand=RAND,
                          value=value)
        add("XADD", f"XADD IDMPAUTO {size} B value, P16", "ops/s", a, b, c,
            bar=0.80 if size == 16 else None, bar_a=0.95, b_label="module IDMPAUTO", d_runs=d,
            d_base=d_plain, note="C, A: plain native XADD of the same random value")
    for srv, key in ((a_srv, "bn"), (b_srv, "bm"), (c_srv, "bc"), (d_srv, "bd")):
        if srv:
            srv.r.delete(key)


def bench_keyops(a_srv, b_srv, c_srv):
    """Commands on other keys and other ways in (issue 13): TYPE and EXISTS of
    a one-entry stream, GET/SET of a string, XADD + DEL of a new one-entry
    stream, XADD inside MULTI/EXEC and inside EVAL."""
    def prep(srv, kind):
        fresh_stream(srv, "ko", kind)
        srv.r.set("str", "v")

    def rb(srv, kind, cmd, count, rand=None):
        def run():
            prep(srv, kind)
            return redis_benchmark(srv.port, count, 16, cmd, rand=rand)
        return run

    def lg(srv, kind, mode, count):
        def run():
            prep(srv, kind)
            rps = loadgen(srv.port, "ko", mode, count, max_secs=RUN_SECS)
            if srv.module:
                check_kind(srv.r, "ko", kind)
            return rps
        return run

    def rb_blocked(srv, kind, cmd, count, rand=None):
        """`cmd` while one client waits in XREADGROUP BLOCK 0 on the stream:
        what waking blocked readers costs every other write (wake.rs)."""
        def run():
            prep(srv, kind)
            srv.r.execute_command("XGROUP", "CREATE", "ko", "g", "$")
            reader = redis.Redis(port=srv.port)
            rid = reader.client_id()
            t = threading.Thread(target=lambda: reader.execute_command(
                "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "ko", ">"), daemon=True)
            t.start()
            deadline = time.time() + 10
            while srv.r.info("clients")["blocked_clients"] < 1:
                if time.time() > deadline:
                    raise RuntimeError(f"{srv.name}: the reader did not block")
                time.sleep(0.01)
            try:
                return redis_benchmark(srv.port, count, 16, cmd, rand=rand)
            finally:
                srv.r.execute_command("CLIENT", "UNBLOCK", rid)
                t.join(10)
                reader.close()
        return run

    def three(make):
        return alternate(ROUNDS, make(c_srv, "native"), make(a_srv, "native"), make(b_srv, "module"))

    script = "return redis.call('XADD', KEYS[1], '*', 'f', 'v')"
    work = [
        ("TYPE of a stream, P16", lambda s, k: rb(s, k, ["TYPE", "ko"], n(240_000))),
        ("EXISTS of a stream, P16", lambda s, k: rb(s, k, ["EXISTS", "ko"], n(240_000))),
        ("GET of a string, P16", lambda s, k: rb(s, k, ["GET", "str"], n(240_000))),
        ("SET of a string, P16", lambda s, k: rb(s, k, ["SET", "str", "__rand_int__"], n(240_000), RAND)),
        ("XADD inside EVAL, P16", lambda s, k: rb(s, k, ["EVAL", script, "1", "ko"], n(80_000))),
        ("XADD inside MULTI/EXEC, P16", lambda s, k: lg(s, k, "multi", 10_000_000)),
        ("XADD + DEL of a new stream, P16", lambda s, k: lg(s, k, "del", 10_000_000)),
        # Last: on Redis 7.0 A's reader (on a native stream) subscribes the
        # module to every key event for good (wake.rs).
        ("SET of a string, a reader blocked on the stream, P16",
         lambda s, k: rb_blocked(s, k, ["SET", "str", "__rand_int__"], n(240_000), RAND)),
    ]
    for name, make in work:
        c, a, b = three(make)
        note = ("loadgen, 8 connections x P16, runs capped at "
                f"{RUN_SECS} s" if "MULTI" in name or "DEL" in name else "redis-benchmark, 50 clients")
        add("keys", name, "ops/s", a, b, c, bar=0.95 if "XADD" in name else None, bar_a=0.95, note=note)
    for srv in (a_srv, b_srv, c_srv):
        srv.r.delete("ko", "str")


def fill_dup_stream(r, key):
    # The duplicates workload needs the (p1, dup) pair recorded first.
    r.execute_command("XADD", key, "IDMP", "p1", "dup", "*", "f", "v")


def bench_reads(a_srv, b_srv, c_srv):
    arms = ((c_srv, "rc", "native"), (a_srv, "rn", "native"), (b_srv, "rm", "module"))
    for srv, key, kind in arms:
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
        return alternate(ROUNDS, *(read_run(srv, cmd, key, count, expect) for srv, key, _ in arms))

    work = [
        ("XRANGE - + COUNT 10", ["XRANGE", "KEY", "-", "+", "COUNT", "10"], n(56_000), lambda g: len(g) == 10),
        ("XRANGE - + COUNT 100", ["XRANGE", "KEY", "-", "+", "COUNT", "100"], n(8_000), lambda g: len(g) == 100),
        ("XREVRANGE + - COUNT 10", ["XREVRANGE", "KEY", "+", "-", "COUNT", "10"], n(56_000), lambda g: len(g) == 10),
        ("XREVRANGE + - COUNT 100", ["XREVRANGE", "KEY", "+", "-", "COUNT", "100"], n(8_000), lambda g: len(g) == 100),
        ("XLEN", ["XLEN", "KEY"], n(240_000), lambda g: g == 1000),
        ("XREAD COUNT 10", ["XREAD", "COUNT", "10", "STREAMS", "KEY", "0-0"], n(80_000), lambda g: True),
    ]
    for name, cmd, count, expect in work:
        c, a, b = three(cmd, count, expect)
        add("read", name + ", P16", "ops/s", a, b, c, bar=0.95 if name == "XLEN" else 1.0, bar_a=0.95,
            note="1000-entry stream")

    def cycle(srv, key):
        def run():
            srv.r.execute_command("XGROUP", "DESTROY", key, "g")
            srv.r.execute_command("XGROUP", "CREATE", key, "g", "0")
            return loadgen(srv.port, key, "group", 10_000_000, max_secs=RUN_SECS)
        return run

    c, a, b = alternate(ROUNDS, *(cycle(srv, key) for srv, key, _ in arms))
    check_kind(b_srv.r, "rm", "module")
    check_kind(a_srv.r, "rn", "native")
    add("read", "XREADGROUP COUNT 10 + XACK cycle", "cycles/s", a, b, c, bar=0.95, bar_a=0.95,
        note=f"loadgen, 8 connections, no pipelining, runs of {RUN_SECS} s; 1000-entry stream read "
             "over and over (XGROUP SETID 0 when read through)")
    for srv, key, _ in arms:
        srv.r.delete(key)


def bench_scale(s, d_srv=None):
    """XADD IDMP with counter iids (always fresh) over 1 .. 100,000 producers;
    where native 8.6.3 runs (d_srv), the same on it, for its own flatness."""
    r, p = s.r, s.port
    count = n(200_000)
    cases = [(1, 10), (1000, 10), (BIG_PRODUCERS, 10), (1, 10_000)]
    base = None
    for producers, maxsize in cases:
        make_stream(r, "sn", "native")
        make_stream(r, "sm", "module")
        r.execute_command("XCFGSET", "sm", "IDMP-DURATION", "86400", "IDMP-MAXSIZE", str(maxsize))
        if d_srv:
            d_srv.r.delete("sd")
            d_srv.r.execute_command("XADD", "sd", "*", "f", "v")
            d_srv.r.execute_command("XCFGSET", "sd", "IDMP-DURATION", "86400", "IDMP-MAXSIZE",
                                    str(maxsize))
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
        if d_srv:
            loadgen(d_srv.port, "sd", "idmp", prefill, producers=producers, conns=4, pipeline=64,
                    max_secs=PREFILL_SECS)
        cursor = {"sm": prefill, "sd": prefill}

        def idmp_run(port, key):
            def run():
                rps = loadgen(port, key, "idmp", count, producers=producers, start=cursor[key],
                              max_secs=RUN_SECS)
                cursor[key] += count
                return rps
            return run

        runs = [lambda: loadgen(p, "sn", "plain", count, max_secs=RUN_SECS), idmp_run(p, "sm")]
        if d_srv:
            runs.append(idmp_run(d_srv.port, "sd"))
        a, b, *d = alternate(ROUNDS, *runs)
        d = d[0] if d else None
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
        if d_srv:
            dinfo = d_srv.r.xinfo_stream("sd")
            note += (f"; 8.6.3: the same IDMP on native Redis 8.6.3, tracked at the end: "
                     f"{dinfo['pids-tracked']:,} pids, {dinfo['iids-tracked']:,} iids")
        line = add("scale", f"XADD IDMP {label}", "ops/s", a, b, b_label="module IDMP", note=note,
                   d_runs=d)
        if base is None:
            base = line
        else:
            # flatness: the module's rate against the 1-producer case (and
            # 8.6.3's against its own, in the 8.6.3 ratio column). The cases
            # run minutes apart, and this machine's speed drifts by a third
            # over minutes: each rate is taken relative to the plain XADD (A)
            # measured in the same rounds, so the row is
            # (B_case / A_case) / (B_1x10 / A_1x10).
            drift = line["a_median"] / base["a_median"]
            add("scale", f"flat: {label} / 1 x 10", "ops/s", [], b, bar=0.90,
                a_label="module 1x10", b_label="module IDMP",
                ratio_of=base["b_median"] * drift, d_runs=d,
                d_base=base["d_median"] * drift if base["d_median"] else None,
                note="module rate of this case over the 1-producer case, each relative to the "
                     "plain XADD of its own rounds (drift of the machine's speed between cases: "
                     f"{drift:.3f}); 8.6.3 ratio: native 8.6.3's the same way")
        r.delete("sn", "sm")
        if d_srv:
            d_srv.r.delete("sd")


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
                loadavg_start=open("/proc/loadavg").read().split()[:3], redis=rv, commit=commit,
                pinning=(f"servers on CPU {SERVER_CPU}, load tools on CPU {CLIENT_CPU}" if PIN
                         else "none"))


LEGEND = ("C: native stream on the host without the module; "
          "A: native stream on the host with the module loaded (capture-new-streams no); "
          "B: module stream on the host with the module (or the module case named); "
          "8.6.3: native Redis 8.6.3's own command (plain XADD on the plain rows, its IDMP/IDMPAUTO on "
          "the others; '8.6.3 ratio' = that over its plain XADD P16, and on the flat rows its rate over its own 1-producer case). Rounds alternate C, A, B(, 8.6.3), "
          "the order reversed every other round; B/C, A/C and B/A are the medians of the rounds' own ratios. "
          "Throughput in ops/s (higher is better), memory in bytes and times in seconds (lower is better). "
          "Scale and memory rows have no C: their A is the named baseline on the module's server. "
          "'B/C ok' and 'A/C ok': issue 13's bars.")


def table():
    rows = [("workload", "B", "C median", "A median", "B median", "8.6.3 median", "unit", "B/C", "A/C",
             "B/A", "8.6.3 ratio", "bar B/C", "B/C ok", "A/C ok")]
    marks = {True: "ok", False: "MISS", None: ""}
    for x in RESULTS:
        rows.append((x["name"], x["b_label"], fmt(x["c_median"]), fmt(x["a_median"]), fmt(x["b_median"]),
                     fmt(x.get("d_median")), x["unit"], fmt(x["ratio_c"], 3), fmt(x.get("ratio_ac"), 3),
                     fmt(x["ratio"], 3), fmt(x.get("ratio_d"), 3), x["bar"] or "",
                     marks[x["meets_bar_c"] if x["c_median"] is not None else x["meets_bar"]],
                     marks[x.get("meets_bar_a")]))
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


def native_863():
    """The native Redis 8.6.3 binary servers/get.sh builds and caches, or None
    with the reason (the bench never starts that build itself)."""
    cache = os.environ.get("IDMP_CACHE", os.path.expanduser("~/.cache/redis-idmp"))
    path = os.environ.get("BENCH_NATIVE86",
                          os.path.join(cache, "servers", "redis-8.6.3", "src", "src", "redis-server"))
    if os.access(path, os.X_OK):
        return path, ""
    return None, f"{path} is absent (servers/get.sh redis-8.6.3 builds it)"


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
    b_srv = Server("B-module", PORT)
    sn = Server("persist-native", PORT + 1, capture=False)
    sm = Server("persist-module", PORT + 2)
    c_srv = Server("C-no-module", PORT + 3, module=False)
    a_srv = Server("A-module-native", PORT + 4, capture=False)
    d_bin, why = native_863()
    d_srv = Server("native-8.6.3", PORT + 5, module=False, binary=d_bin) if d_bin else None
    info["native_863"] = d_bin or f"absent: {why}"
    if not d_srv:
        SKIPPED.append(dict(name="8.6.3 column", reason=info["native_863"]))
    servers = [x for x in (b_srv, sn, sm, c_srv, a_srv, d_srv) if x]
    try:
        for x in servers:
            x.start()
        bench_xadd(a_srv, b_srv, c_srv, d_srv)
        bench_reads(a_srv, b_srv, c_srv)
        bench_keyops(a_srv, b_srv, c_srv)
        c_srv.stop()
        a_srv.stop()
        bench_scale(b_srv, d_srv)
        if d_srv:
            d_srv.stop()
        bench_iid_memory(b_srv)
        b_srv.stop()
        bench_memory(sn, sm)
        bench_persist(sn, sm)
    finally:
        for x in servers:
            x.stop()
    info["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    info["seconds"] = round(time.time() - T0, 1)
    text = table()
    head = (f"redis-idmp bench ({'quick' if QUICK else 'full'}, {ROUNDS} rounds C A B (8.6.3) ..., "
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
