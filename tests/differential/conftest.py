"""Fixtures of the differential suite: one native Redis 8.6.3 and one module host
(REDIS_SERVER with the module), started side by side for the whole session.

``pair`` (parametrized RESP2/RESP3 by the tests) yields ``(native, module)``
``harness.Side`` objects after FLUSHALL on both servers.
"""

import pytest

from harness import ExactClient, Side, oracle86_binary
from server import HOST, RedisServer, module_available, module_path


def _start(s):
    try:
        s.start()
    except BaseException:
        s.cleanup()
        raise
    return s


@pytest.fixture(scope="session")
def oracle86_server():
    s = _start(RedisServer(module=False, binary=oracle86_binary()))
    yield s
    s.cleanup()


@pytest.fixture(scope="session")
def module_server():
    if not module_available():
        pytest.fail("module not built: %s (set IDMP_MODULE)" % module_path())
    s = _start(RedisServer(module=True))
    yield s
    s.cleanup()


class Pair:
    """Connections to both servers in one protocol, kept across tests."""

    def __init__(self, native_srv, module_srv, protocol):
        self.servers = (native_srv, module_srv)
        self.protocol = protocol
        self.native = Side("native-8.6.3", ExactClient(HOST, native_srv.port, protocol))
        self.module = Side("module", ExactClient(HOST, module_srv.port, protocol))

    def fresh(self):
        for side in (self.native, self.module):
            side.reset()
            side.conn.call("FLUSHALL")
            side.conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        return self.native, self.module

    def close(self):
        self.native.conn.close()
        self.module.conn.close()


_pairs = {}


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request, oracle86_server, module_server):
    p = _pairs.get(request.param)
    if p is None:
        p = _pairs[request.param] = Pair(oracle86_server, module_server, request.param)
    yield p.fresh()
    if not module_server.alive():
        pytest.fail("module server died; log:\n" + module_server.log_tail())


@pytest.fixture(scope="session", autouse=True)
def _close_pairs():
    yield
    for p in _pairs.values():
        p.close()
    _pairs.clear()
