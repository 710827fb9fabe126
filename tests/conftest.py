"""Fixtures: real redis-server processes with (or without) the idmp module.

- ``srv``: one server per test module with the module loaded and default configs;
  every test using ``r``/``raw``/``raw3``/``r3`` starts from FLUSHALL.
- ``native_srv``: one plain redis-server (no module) for the whole session: the
  oracle for native behaviour (the host's own, for forwarded native streams).
- ``oracle86_srv``: one native Redis 8.6.3 server for the whole session
  (``ORACLE86_SERVER`` or ``servers/get.sh redis-8.6.3``): the oracle for module
  streams on every host (issue 12); ``oraw``/``o86`` and ``o86_3`` are its exact
  RESP2 and RESP3 clients after FLUSHALL.
- ``server_factory``: start servers with custom module configs / arguments; they
  are stopped at the end of the test.

Tests that need the module are skipped when IDMP_MODULE does not exist, unless
IDMP_REQUIRE_MODULE=1 (CI), where they fail instead.
"""

import os

import pytest

from server import (RedisServer, module_available, module_path, oracle86_binary,
                    server_version)


def _require_module():
    if module_available():
        return
    msg = "module not built: %s (set IDMP_MODULE)" % module_path()
    if os.environ.get("IDMP_REQUIRE_MODULE") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


class _Factory:
    def __init__(self):
        self.servers = []

    def __call__(self, module=True, module_args=None, extra=None, workdir=None,
                 start=True, **kw):
        if module:
            _require_module()
        s = RedisServer(module=module, module_args=module_args, extra=extra,
                        workdir=workdir, **kw)
        self.servers.append(s)
        if start:
            s.start()
        return s

    def cleanup(self):
        for s in self.servers:
            s.cleanup()


@pytest.fixture
def server_factory():
    f = _Factory()
    yield f
    f.cleanup()


def _start_or_cleanup(s):
    try:
        s.start()
    except BaseException:
        s.cleanup()
        raise


@pytest.fixture(scope="module")
def srv():
    _require_module()
    s = RedisServer(module=True)
    _start_or_cleanup(s)
    yield s
    s.cleanup()


@pytest.fixture(scope="session")
def native_srv():
    s = RedisServer(module=False)
    _start_or_cleanup(s)
    yield s
    s.cleanup()


@pytest.fixture(scope="session")
def oracle86_srv():
    binary = oracle86_binary()
    flavor, version = server_version(binary)
    assert (flavor, version) == ("redis", (8, 6, 3)), \
        "the Redis 8.6.3 oracle %s is %s %s" % (binary, flavor, version)
    s = RedisServer(module=False, binary=binary)
    _start_or_cleanup(s)
    yield s
    s.cleanup()


def _fresh(server):
    """Make sure the shared server is up and empty before a test."""
    if not server.alive():
        server.stop()
        server.start()
    c = server.raw()
    try:
        c.call("FLUSHALL")
    finally:
        c.close()


def _check_alive_after(server):
    if not server.alive():
        tail = server.log_tail()
        server.stop()
        server.start()
        pytest.fail("redis-server died during the test; log tail:\n" + tail)


@pytest.fixture
def raw(srv):
    """Exact RESP2 client on the module server, after FLUSHALL."""
    _fresh(srv)
    c = srv.raw()
    yield c
    c.close()
    _check_alive_after(srv)


@pytest.fixture
def raw3(srv):
    """Exact RESP3 client on the module server, after FLUSHALL."""
    _fresh(srv)
    c = srv.raw(protocol=3)
    yield c
    c.close()
    _check_alive_after(srv)


@pytest.fixture
def r(srv):
    """redis-py RESP2 client (bytes) on the module server, after FLUSHALL."""
    _fresh(srv)
    c = srv.client()
    yield c
    c.close()
    _check_alive_after(srv)


@pytest.fixture
def r3(srv):
    """redis-py RESP3 client (bytes) on the module server, after FLUSHALL."""
    _fresh(srv)
    c = srv.client(protocol=3)
    yield c
    c.close()
    _check_alive_after(srv)


@pytest.fixture
def nraw(native_srv):
    """Exact RESP2 client on the plain (module-less) server, after FLUSHALL."""
    _fresh(native_srv)
    c = native_srv.raw()
    yield c
    c.close()


@pytest.fixture
def oraw(oracle86_srv):
    """Exact RESP2 client on the native Redis 8.6.3 oracle, after FLUSHALL."""
    _fresh(oracle86_srv)
    c = oracle86_srv.raw()
    yield c
    c.close()


@pytest.fixture
def o86(oraw):
    """Exact RESP2 client on native Redis 8.6.3, after FLUSHALL (``oraw``,
    under the name the IDMP comparison tests use beside ``o86_3``)."""
    return oraw


@pytest.fixture
def o86_3(oracle86_srv):
    """Exact RESP3 client on native Redis 8.6.3, after FLUSHALL."""
    _fresh(oracle86_srv)
    c = oracle86_srv.raw(protocol=3)
    yield c
    c.close()
