"""Tools written for Redis 8.6 work unchanged: redis-py's own IDMP API
(xadd(idmp=..., idmpauto=...), xcfgset, xinfo_stream, config_get) over RESP2
and RESP3."""

import pytest
import redis

IDMP_KEYS = ["idmp-duration", "idmp-maxsize", "pids-tracked", "iids-tracked",
             "iids-added", "iids-duplicates"]


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(srv, r, request):
    c = srv.client(protocol=request.param, decode_responses=True)
    yield c
    c.close()


def test_xadd_idmp_and_idmpauto(client):
    a = client.xadd("s", {"f": "v"}, idmp=("producer-1", "iid-1"))
    assert client.xadd("s", {"f": "other"}, idmp=("producer-1", "iid-1")) == a
    b = client.xadd("s", {"f": "v"}, idmpauto="producer-2")
    assert client.xadd("s", {"f": "v"}, idmpauto="producer-2") == b
    assert a != b
    assert client.xlen("s") == 2
    info = client.xinfo_stream("s")
    got = {k: info[k] for k in IDMP_KEYS}
    assert got == {"idmp-duration": 100, "idmp-maxsize": 100, "pids-tracked": 2,
                   "iids-tracked": 2, "iids-added": 2, "iids-duplicates": 2}
    assert info["length"] == 2
    assert info["first-entry"][0] == a


def test_xadd_with_trimming_and_nomkstream(client):
    assert client.xadd("s", {"f": "v"}, nomkstream=True, idmp=("p", "i")) is None
    for i in range(10):
        client.xadd("s", {"n": i}, idmp=("p", "i%d" % i), maxlen=5, approximate=False)
    assert client.xlen("s") == 5
    assert client.xinfo_stream("s")["iids-added"] == 10


def test_xcfgset(client):
    client.xadd("s", {"f": "v"})
    assert client.xcfgset("s", idmp_duration=300, idmp_maxsize=1000) in (True, "OK", b"OK")
    info = client.xinfo_stream("s")
    assert (info["idmp-duration"], info["idmp-maxsize"]) == (300, 1000)
    with pytest.raises(redis.ResponseError, match="no such key"):
        client.xcfgset("missing", idmp_duration=5)


def test_xinfo_stream_full(client):
    client.xadd("s", {"f": "v"}, idmp=("p", "i"))
    full = client.xinfo_stream("s", full=True)
    for k in IDMP_KEYS:
        assert k in full
    assert full["iids-added"] == 1
    assert len(full["entries"]) == 1


def test_config_native_names(client):
    assert client.config_get("idmp.stream-idmp-duration") == {
        "idmp.stream-idmp-duration": "100"}
    assert client.config_set("stream-idmp-maxsize", 42)
    try:
        assert client.config_get("idmp.stream-idmp-maxsize") == {
            "idmp.stream-idmp-maxsize": "42"}
        assert "42" in client.config_get("stream-idmp-maxsize").values()
    finally:
        client.config_set("idmp.stream-idmp-maxsize", 100)
