"""The suite's own machinery, checked against a plain redis-server 7.0 (no module).

These pin the native facts the other tests build on (reply shapes, error texts),
so they run even before the module is built.
"""

import subprocess

from resp import OK, Err, RMap, Simple
from server import HOST
from util import XINFO_FIELDS, XINFO_FULL_FIELDS, IDMP_FIELDS, WRONGTYPE, arity_err, pairs

NATIVE_XINFO = [f for f in XINFO_FIELDS if f not in IDMP_FIELDS]
NATIVE_XINFO_FULL = [f for f in XINFO_FULL_FIELDS if f not in IDMP_FIELDS]


def test_resp_client_types(nraw, native_srv):
    assert nraw.call("SET", "k", "v") == OK
    assert nraw.call("GET", "k") == b"v"
    assert nraw.call("GET", "k") != Simple(b"v")
    assert nraw.call("GET", "nope") is None
    assert nraw.call("XADD", "k", "*", "f", "v") == WRONGTYPE
    assert nraw.call("XADD", "s") == arity_err("xadd")
    assert nraw.call("XADD", "s", "1-1", "f", "v") == b"1-1"
    with native_srv.raw(protocol=3) as c3:
        info = c3.call("XINFO", "STREAM", "s")
        assert isinstance(info, RMap)
        assert info.keys() == NATIVE_XINFO
        assert c3.call("XADD", "s", "NOMKSTREAM", "*", "f", "v") != Err(b"")


def test_native_xinfo_field_order(nraw):
    nraw.call("XADD", "s", "1-1", "f", "v")
    assert [k for k, _ in pairs(nraw.call("XINFO", "STREAM", "s"))] == NATIVE_XINFO
    assert [k for k, _ in pairs(nraw.call("XINFO", "STREAM", "s", "FULL"))] == NATIVE_XINFO_FULL


def test_redis_cli_output_format(native_srv, nraw):
    out = subprocess.run(
        ["redis-cli", "-h", HOST, "-p", str(native_srv.port), "XADD", "s", "5-1", "f", "v"],
        capture_output=True, check=True,
    ).stdout
    assert out == b"5-1\n"
    out = subprocess.run(
        ["redis-cli", "-h", HOST, "-p", str(native_srv.port), "XADD", "s", "1-1", "f", "v"],
        capture_output=True, check=True,
    ).stdout
    assert out.startswith(b"ERR The ID specified in XADD is equal or smaller")
