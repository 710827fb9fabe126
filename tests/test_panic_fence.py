"""A panic inside the module is contained at the FFI boundary: the command
answers an error, the server keeps serving (its state intact), and the log
names the panic's location. Uses the test build of the module
(``make build-debug``: feature ``debug-panic``, IDMP_DEBUG_MODULE), whose
``idmp.debugpanic`` command panics; release builds do not have it."""

import os
import re

import pytest

from resp import Err

DEBUG_MODULE = os.environ.get("IDMP_DEBUG_MODULE", "")


@pytest.fixture
def debug_srv(server_factory, monkeypatch):
    if not os.path.exists(DEBUG_MODULE):
        msg = "debug build not found: %r (make build-debug)" % DEBUG_MODULE
        if os.environ.get("IDMP_REQUIRE_MODULE") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    monkeypatch.setenv("IDMP_MODULE", DEBUG_MODULE)
    return server_factory()


def test_injected_panic_answers_an_error_and_the_server_serves_on(debug_srv):
    with debug_srv.raw() as c:
        first = c.call("XADD", "s", "IDMP", "p", "i1", "*", "f", "v")
        for _ in range(3):
            got = c.call("idmp.debugpanic")
            assert got == Err(b"ERR idmp: internal error, see the server log")
        # The same connection and the server go on, the stream intact.
        assert c.call("PING").value == b"PONG"
        assert c.call("XADD", "s", "IDMP", "p", "i1", "*", "f", "v") == first
        assert c.call("XADD", "s", "IDMP", "p", "i2", "*", "f", "v") != first
        assert c.call("XLEN", "s") == 2
        # Inside MULTI the error is that command's reply; the others run.
        c.call("MULTI")
        c.call("XLEN", "s")
        c.call("idmp.debugpanic")
        c.call("XLEN", "s")
        assert c.call("EXEC") == [2, Err(b"ERR idmp: internal error, see the server log"), 2]
    log = debug_srv.log_tail(400)
    lines = [l for l in log.splitlines() if "internal error (panic)" in l]
    assert len(lines) == 4, log[-2000:]
    assert re.search(r"at src/server/commands\.rs:\d+: idmp\.debugpanic: a panic injected",
                     lines[0]), lines[0]


def test_release_build_has_no_panic_command(srv):
    with srv.raw() as c:
        got = c.call("idmp.debugpanic")
        assert isinstance(got, Err) and got.value.startswith(b"ERR unknown command")
