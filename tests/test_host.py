"""The host layer (issue 14): the module finds out which server it runs in and
what that server serves natively, says so in INFO idmp and its load line,
registers only the names the host lacks (XDELEX/XACKDEL become idmp.xdelex /
idmp.xackdel on Redis 8.2+, reached through the filter), leaves native streams
to the host, and refuses servers it cannot serve with one clear log line while
the server stays up. Run on every server of `make test-matrix`; the answers
are compared with a plain server of the same binary (`nraw`)."""

import os
import subprocess
import time

import pytest

from resp import Err
from server import REPO, RedisServer, module_path, server_version


def idmp_info(c):
    info = c.info("idmp")
    return {k[len("idmp_"):]: v for k, v in info.items() if k.startswith("idmp_")}


def natively(nraw, name):
    """Whether the plain host serves the command `name`."""
    return nraw.call("COMMAND", "INFO", name) != [None]


def cached_server(name):
    """A server of servers/get.sh, if it is in the cache (nothing is fetched)."""
    out = subprocess.run([os.path.join(REPO, "servers", "get.sh"), "cached", name],
                         capture_output=True, timeout=30)
    return out.stdout.decode().strip() if out.returncode == 0 else None


def wait_for_log(s, needle, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if needle in s.log_tail(300):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def plain_capture_off(server_factory):
    s = server_factory(module_args={"idmp.capture-new-streams": "no"})
    with s.client() as c:
        yield s, c


def test_info_and_the_load_line_name_the_host(plain_capture_off, nraw):
    s, c = plain_capture_off
    flavor, version = server_version()
    info = idmp_info(c)
    assert info["host_server"] == flavor
    assert str(info["host_version"]) == "%d.%d.%d" % version
    assert info["host_native_idmp"] == 0
    # redis-py turns a comma-separated value into a list.
    features = info["host_native_features"]
    features = features if isinstance(features, list) else str(features).split(",")
    for cmd in ("XDELEX", "XACKDEL"):
        assert (cmd in features) == natively(nraw, cmd), (cmd, features)
    title = "Redis" if flavor == "redis" else "Valkey"
    assert wait_for_log(s, "host %s %d.%d.%d; native stream features: " % ((title,) + version))
    # ACL categories for module commands: the API exists from Redis 7.2 and on Valkey.
    assert info["host_acl_categories"] == (0 if (flavor, version[:2]) == ("redis", (7, 0)) else 1)


def test_only_names_the_host_lacks_are_registered(raw, nraw):
    for cmd in ("xdelex", "xackdel"):
        prefixed = raw.call("COMMAND", "INFO", "idmp." + cmd)
        if natively(nraw, cmd):
            # The host keeps its command, the module's is prefixed.
            assert prefixed != [None], cmd
            assert raw.call("COMMAND", "INFO", cmd) == nraw.call("COMMAND", "INFO", cmd)
        else:
            assert prefixed == [None], cmd
            assert raw.call("COMMAND", "INFO", cmd) != [None], cmd


def test_xdelex_on_a_module_stream_is_the_modules(raw):
    raw.call("XADD", "m", "1-1", "f", "v")  # captured: a module stream
    raw.call("XADD", "m", "2-1", "f", "v")
    raw.call("XGROUP", "CREATE", "m", "g", "0")
    raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "m", ">")
    assert raw.call("XDELEX", "m", "IDS", "2", "1-1", "9-9") == [1, -1]
    assert raw.call("XACKDEL", "m", "g", "IDS", "1", "2-1") == [1]
    assert raw.call("XLEN", "m") == 0
    assert raw.call("OBJECT", "ENCODING", "m") != b"stream"  # still a module stream


def test_native_streams_stay_with_the_host(plain_capture_off, nraw):
    s, c = plain_capture_off
    with s.raw() as raw:
        for cl in (raw, nraw):
            cl.call("DEL", "n", "str")
            cl.call("XADD", "n", "1-1", "f", "v")
            cl.call("XADD", "n", "2-1", "f", "v")
            cl.call("XGROUP", "CREATE", "n", "g", "0")
            cl.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "n", ">")
            cl.call("SET", "str", "x")
        before = idmp_info(c)["module_streams"]
        ops = [("XDELEX", "n", "IDS", "1", "1-1"),
               ("XACKDEL", "n", "g", "IDS", "1", "2-1"),
               ("XADD", "n", "KEEPREF", "3-1", "f", "v"),
               ("XTRIM", "n", "MAXLEN", "1", "DELREF"),
               ("XDELEX", "str", "IDS", "1", "1-1"),
               ("XDELEX", "n", "IDS", "x", "1-1")]
        if natively(nraw, "XDELEX"):
            for op in ops:
                assert raw.call(*op) == nraw.call(*op), op
            assert raw.call("OBJECT", "ENCODING", "n") == nraw.call("OBJECT", "ENCODING", "n")
            assert raw.call("XRANGE", "n", "-", "+") == nraw.call("XRANGE", "n", "-", "+")
            assert idmp_info(c)["module_streams"] == before
        else:
            # The host lacks them: the module converts the stream and serves them.
            assert isinstance(nraw.call(*ops[0]), Err)
            assert raw.call(*ops[0]) == [1]
            assert idmp_info(c)["module_streams"] == before + 1
            assert raw.call("TYPE", "n").value == b"stream"


def _refused(server_factory, binary, needle, extra):
    s = RedisServer(module=False, binary=binary, extra=extra)
    server_factory.servers.append(s)
    # Servers before 7.0 know neither enable-debug-command nor
    # enable-module-command: start them without the harness's defaults.
    if server_version(binary)[1] < (7, 0, 0):
        base = s.argv

        def argv():
            a = base()
            i = a.index("--enable-debug-command")
            return a[:i] + a[i + 2:]
        s.argv = argv
    s.start()
    with s.raw() as c:
        got = c.call("MODULE", "LOAD", module_path())
        assert isinstance(got, Err), got
        assert wait_for_log(s, "idmp: refusing to load: " + needle), s.log_tail()
        assert c.call("PING").value == b"PONG"
        assert c.call("XADD", "s", "*", "f", "v")
        assert c.call("OBJECT", "ENCODING", "s") == b"stream"
        assert isinstance(c.call("idmp.xadd", "s", "*", "f", "v"), Err)


def test_refuses_a_server_older_than_7_0(server_factory):
    binary = cached_server("redis-6.2.5")
    if binary is None:
        pytest.skip("Redis 6.2.5 is not cached: run servers/get.sh redis-6.2.5 "
                    "(make test-matrix does)")
    _refused(server_factory, binary, "Redis 6.2.5 is older than 7.0", [])


def test_native_idmp_loads_in_migration_mode_and_says_so(server_factory):
    """On a host with native IDMP the module never shadows it: MODULE LOAD
    succeeds in migration mode (the way out), the log line says so, the host's
    own XADD IDMP and XCFGSET keep answering, and the module's commands are not
    there."""
    binary = cached_server("redis-8.6.3")
    if binary is None:
        pytest.skip("Redis 8.6.3 is not cached: run servers/get.sh redis-8.6.3 "
                    "(make test-matrix does)")
    s = RedisServer(module=False, binary=binary,
                    extra=["--enable-module-command", "yes"])
    server_factory.servers.append(s)
    s.start()
    with s.raw() as c:
        assert c.call("MODULE", "LOAD", module_path()).value == b"OK"
        assert wait_for_log(s, "loaded in migration mode"), s.log_tail()
        assert c.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
        assert c.call("XCFGSET", "s", "IDMP-MAXSIZE", "5").value == b"OK"
        assert c.call("OBJECT", "ENCODING", "s") == b"stream"
        assert c.call("TYPE", "s").value == b"stream"
        assert isinstance(c.call("idmp.xadd", "s", "*", "f", "v"), Err)
        assert isinstance(c.call("idmp.xrange", "s", "-", "+"), Err)
