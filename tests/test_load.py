"""Loading the module: it refuses, with a clear log line, a server that already
has native IDMP (XCFGSET exists; simulated with rename-command, since no 8.6
server is at hand), and the server carries on without it."""

import time

from resp import Err
from server import module_path


def _wait_for_log(s, needle, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if needle in s.log_tail(200):
            return True
        time.sleep(0.05)
    return False


def test_refuses_a_server_with_native_xcfgset(server_factory):
    s = server_factory(module=False, extra=["--enable-module-command", "yes",
                                            "--rename-command", "xlen", "xcfgset"])
    with s.raw() as c:
        got = c.call("MODULE", "LOAD", module_path())
        assert isinstance(got, Err), got
        assert _wait_for_log(
            s, "already has native idempotent streams (XCFGSET exists); the module is "
               "not needed"), s.log_tail()
        assert "idmp: refusing to load: " in s.log_tail(200)
        # (Valkey 9 lists its built-in "lua" module.)
        names = [dict(zip(m[0::2], m[1::2]))[b"name"] for m in c.call("MODULE", "LIST")]
        assert b"idmp" not in names, names
        # Nothing of the module stayed behind: no filter, no commands.
        assert c.call("XADD", "s", "*", "f", "v")
        assert c.call("OBJECT", "ENCODING", "s") == b"stream"
        assert isinstance(c.call("idmp.xadd", "s", "*", "f", "v"), Err)


def test_loads_at_run_time_and_logs_its_version(server_factory):
    s = server_factory(module=False, extra=["--enable-module-command", "yes"])
    with s.raw() as c:
        assert c.call("MODULE", "LOAD", module_path()).value == b"OK"
        assert _wait_for_log(s, "idmp: redis-idmp "), s.log_tail()
        assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        assert c.call("OBJECT", "ENCODING", "s") != b"stream"
