"""Start and stop real redis-server processes for the integration suite.

Environment:
- ``REDIS_SERVER``: the server binary (default ``redis-server``).
- ``IDMP_MODULE``: the built module (default ``<repo>/target/release/libredis_idmp.so``).
- ``IDMP_TEST_PORTS``: port range for test servers, ``lo-hi`` (default ``7400-7999``).
- ``ORACLE86_SERVER``: the native Redis 8.6.3 binary (default: the build
  ``servers/get.sh redis-8.6.3`` caches), the oracle for module streams on every
  host (issue 12: native 8.6.3 is the authority on every reply).
"""

import functools
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from resp import RespClient

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"


def server_binary():
    return os.environ.get("REDIS_SERVER", "redis-server")


CACHE = os.environ.get("IDMP_CACHE", os.path.expanduser("~/.cache/redis-idmp"))
DEFAULT_ORACLE86 = os.path.join(CACHE, "servers", "redis-8.6.3", "src", "src", "redis-server")


def oracle86_binary():
    """The native Redis 8.6.3 binary: ``ORACLE86_SERVER``, else the build that
    ``servers/get.sh redis-8.6.3`` caches (run here once when the cache is
    missing); a clear failure when neither gives one, never another server."""
    path = os.environ.get("ORACLE86_SERVER", DEFAULT_ORACLE86)
    if "ORACLE86_SERVER" not in os.environ and not os.path.isfile(path):
        subprocess.run([os.path.join(REPO, "servers", "get.sh"), "redis-8.6.3"],
                       capture_output=True, timeout=1200, check=False)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("native Redis 8.6.3 not found at %s: run `servers/get.sh redis-8.6.3` "
                    "(it builds and caches it) or set ORACLE86_SERVER" % path)
    return path


@functools.lru_cache(maxsize=None)
def server_version(binary=None):
    """``(flavor, (major, minor, patch))`` of a server binary, from ``--version``:
    ``("redis", (7, 0, 15))``, ``("valkey", (9, 1, 2))``."""
    binary = binary or server_binary()
    out = subprocess.run([binary, "--version"], capture_output=True, check=True,
                         timeout=30).stdout.decode("utf-8", "replace")
    m = re.search(r"^(\w+) server v=(\d+)\.(\d+)\.(\d+)", out)
    assert m, "cannot parse the version of %s: %r" % (binary, out)
    return m.group(1).lower(), tuple(int(x) for x in m.group(2, 3, 4))


def host_is_redis70():
    """True when REDIS_SERVER is Redis 7.0 (host-side features: module command
    ACL categories, the native command table)."""
    flavor, (major, minor, _) = server_version()
    return flavor == "redis" and (major, minor) == (7, 0)


def host_is(flavor, since=(0,), before=(1000,)):
    """True when REDIS_SERVER is a ``flavor`` server (``"redis"``, ``"valkey"``)
    of a version in ``[since, before)``, as the binary itself reports it
    (``server_version``): ``host_is("redis", before=(7, 2))`` is Redis 7.0 or
    7.1, never Valkey (whose INFO also says ``redis_version:7.2.4``)."""
    f, version = server_version()
    return f == flavor and tuple(since) <= version < tuple(before)


def rdb_magic():
    """The first bytes of an RDB file written by the host: ``REDIS`` on Redis,
    ``VALKEY`` on Valkey 9 (RDB version 80 and up)."""
    flavor, (major, _, _) = server_version()
    return b"VALKEY" if flavor == "valkey" and major >= 9 else b"REDIS"


def module_path():
    return os.environ.get(
        "IDMP_MODULE", os.path.join(REPO, "target", "release", "libredis_idmp.so")
    )


def module_available():
    return os.path.isfile(module_path())


def _port_range():
    spec = os.environ.get("IDMP_TEST_PORTS", "7400-7999")
    lo, hi = spec.split("-")
    return int(lo), int(hi)


_used_ports = set()  # handed out to a server that has not been cleaned up yet


def free_port():
    """A port in the configured range that nobody listens on right now."""
    lo, hi = _port_range()
    ports = list(range(lo, hi + 1))
    random.shuffle(ports)
    for p in ports:
        if p in _used_ports:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, p))
        except OSError:
            continue
        finally:
            s.close()
        _used_ports.add(p)
        return p
    raise RuntimeError("no free port in %d-%d" % (lo, hi))


class ServerDied(Exception):
    pass


class RedisServer:
    """One redis-server process in its own directory.

    ``module``: load IDMP_MODULE. ``module_args``: dict of module configs
    (``{"idmp.capture-new-streams": "no"}``), passed after ``--loadmodule``.
    ``extra``: more ``--name value`` server arguments as a list of strings.
    ``binary``: the server binary (default ``REDIS_SERVER``).
    """

    def __init__(self, module=True, module_args=None, extra=None, workdir=None,
                 dbfilename="dump.rdb", binary=None):
        self.binary = binary or server_binary()
        self.module = module
        self.module_args = dict(module_args or {})
        self.extra = list(extra or [])
        self.owns_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="idmp-itest-")
        self.dbfilename = dbfilename
        self.port = None
        self.proc = None
        self.logfile = os.path.join(self.dir, "redis.log")

    # -- lifecycle ----------------------------------------------------------

    def argv(self):
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", HOST,
            "--dir", self.dir,
            "--dbfilename", self.dbfilename,
            "--logfile", self.logfile,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--enable-debug-command", "yes",
            "--protected-mode", "no",
        ]
        args += self.extra
        if self.module:
            args += ["--loadmodule", module_path()]
            for k, v in self.module_args.items():
                args += ["--" + k, str(v)]
        return args

    def start(self, timeout=10.0):
        """Start and wait for PING. A first start retries on another port if
        someone else grabbed ours in the meantime; a restart keeps its port."""
        fresh = self.port is None
        for attempt in range(5):
            if fresh:
                self.port = free_port()
            try:
                return self._start_once(timeout)
            except ServerDied as e:
                self.proc = None
                if not (fresh and "Address already in use" in str(e)) or attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self, timeout):
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("already running")
        self.proc = subprocess.Popen(
            self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            cwd=self.dir,
        )
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode("utf-8", "replace")
                raise ServerDied(
                    "redis-server exited with %s at start\nstderr: %s\nlog:\n%s"
                    % (self.proc.returncode, err, self.log_tail())
                )
            try:
                c = RespClient(HOST, self.port, timeout=2)
                try:
                    r = c.call("PING")
                finally:
                    c.close()
                if getattr(r, "value", None) == b"PONG":
                    return self
            except (OSError, Exception):
                pass
            if time.time() > deadline:
                self.stop()
                raise ServerDied("redis-server did not answer PING\nlog:\n%s"
                                 % self.log_tail())
            time.sleep(0.02)

    def alive(self):
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            c = RespClient(HOST, self.port, timeout=5)
            try:
                return getattr(c.call("PING"), "value", None) == b"PONG"
            finally:
                c.close()
        except Exception:
            return False

    def stop(self, timeout=10.0):
        """Stop by PID (SIGTERM, then SIGKILL). Does not save (``save ''``)."""
        p = self.proc
        if p is None:
            return None
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout)
        if p.stderr:
            p.stderr.close()
        self.proc = None
        return p.returncode

    def restart(self, **kw):
        """Stop and start again on the same port and directory (same RDB file)."""
        self.stop()
        return self.start(**kw)

    def cleanup(self):
        self.stop()
        if self.port is not None:
            # the port may serve a later server again (a long run would otherwise
            # use up a small IDMP_TEST_PORTS range)
            _used_ports.discard(self.port)
            self.port = None
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=60):
        try:
            with open(self.logfile, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    # -- clients ------------------------------------------------------------

    def client(self, protocol=2, decode_responses=False, **kw):
        """A redis-py client (RESP2 by default; ``protocol=3`` for RESP3)."""
        return redis.Redis(host=HOST, port=self.port, protocol=protocol,
                           decode_responses=decode_responses,
                           socket_timeout=60, **kw)

    def raw(self, protocol=2):
        """An exact RESP client (see resp.py)."""
        return RespClient(HOST, self.port, protocol=protocol)
