"""Loading the module at run time. (On a server with native IDMP it loads in
migration mode: tests/test_host.py and tests/test_migrate_*.py, against a real
Redis 8.6.3; servers it refuses: tests/test_host.py.)"""

import time

from server import module_path


def _wait_for_log(s, needle, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if needle in s.log_tail(200):
            return True
        time.sleep(0.05)
    return False


def test_loads_at_run_time_and_logs_its_version(server_factory):
    s = server_factory(module=False, extra=["--enable-module-command", "yes"])
    with s.raw() as c:
        assert c.call("MODULE", "LOAD", module_path()).value == b"OK"
        assert _wait_for_log(s, "idmp: redis-idmp "), s.log_tail()
        assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        assert c.call("OBJECT", "ENCODING", "s") != b"stream"
