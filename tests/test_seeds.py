"""The seed documents' examples, run verbatim (through redis-cli and the exact client).

The command lines are extracted from /work/shared/seeds (or $IDMP_SEEDS_DIR) when
present; the same lines are also kept here so the test runs without that directory.
Trailing ``# comments`` in the guide's code blocks are prose, not arguments.
"""

import os
import re
import shlex
import subprocess

import pytest

from resp import OK, Err, Simple
from server import HOST
from util import XINFO_FIELDS, pairs, xinfo

SEEDS_DIR = os.environ.get("IDMP_SEEDS_DIR", "/work/shared/seeds")

XCFGSET_PAGE = [
    "XADD mystream * field value",
    "XCFGSET mystream DURATION 300",
    "XCFGSET mystream MAXSIZE 1000",
    "XCFGSET mystream DURATION 600 MAXSIZE 500",
]

GUIDE = [
    "XADD mystream IDMP producer-1 iid-1 * field value",
    "XADD mystream IDMPAUTO producer-2 * field value",
    "XADD mystream IDMP producer1 msg1 * field value",
    "XADD mystream IDMPAUTO producer1 * field value",
    "XCFGSET mystream IDMP-DURATION 300 IDMP-MAXSIZE 1000",
    "XADD mystream IDMP producer-1 iid-1 * field value",
    "XADD mystream IDMP producer-2 iid-1 * field value",
    "XINFO STREAM mystream",
]


def _seed(prefix):
    if not os.path.isdir(SEEDS_DIR):
        return None
    for name in sorted(os.listdir(SEEDS_DIR)):
        if name.startswith(prefix):
            with open(os.path.join(SEEDS_DIR, name), encoding="utf-8") as f:
                return f.read()
    return None


def _code_lines(text, start_re, end_re):
    lines, inside = [], False
    for line in text.splitlines():
        if not inside and re.match(start_re, line.strip()):
            inside = True
            continue
        if inside and re.match(end_re, line.strip()):
            inside = False
            continue
        if inside:
            line = line.split("#", 1)[0].strip()
            if line:
                lines.append(line)
    return lines


def test_embedded_lines_match_seed_documents():
    """Guard: the lines kept here are exactly the seeds' examples."""
    page = _seed("001_")
    guide = _seed("002_")
    if page is None or guide is None:
        pytest.skip("seed documents not available")
    assert _code_lines(page, r"\{\{% redis-cli %\}\}", r"\{\{% /redis-cli %\}\}") == XCFGSET_PAGE
    assert _code_lines(guide, r"^```$", r"^```$") == GUIDE


def cli(srv, line):
    out = subprocess.run(
        ["redis-cli", "-h", HOST, "-p", str(srv.port)] + shlex.split(line),
        capture_output=True, timeout=30,
    )
    assert out.returncode == 0, out
    return out.stdout


def test_xcfgset_page_with_redis_cli(srv, raw):
    out = [cli(srv, line) for line in XCFGSET_PAGE]
    assert re.fullmatch(rb"\d+-\d+\n", out[0]), out
    assert out[1:] == [b"OK\n"] * 3
    d = xinfo(raw, "mystream")
    assert (d[b"idmp-duration"], d[b"idmp-maxsize"]) == (600, 500)
    assert d[b"length"] == 1


def test_xcfgset_page_exact(raw):
    replies = [raw.call(*shlex.split(line)) for line in XCFGSET_PAGE]
    assert isinstance(replies[0], bytes)
    assert replies[1:] == [OK] * 3


def _check_guide_state(raw):
    d = xinfo(raw, "mystream")
    assert d[b"length"] == 6
    assert (d[b"idmp-duration"], d[b"idmp-maxsize"]) == (300, 1000)
    # the XCFGSET changed the settings (100/100 -> 300/1000): maps were cleared,
    # then the two isolation lines were fresh
    assert (d[b"pids-tracked"], d[b"iids-tracked"], d[b"iids-added"],
            d[b"iids-duplicates"]) == (2, 2, 6, 0)


def test_guide_with_redis_cli(srv, raw):
    out = [cli(srv, line) for line in GUIDE]
    ids = out[:4] + out[5:7]
    for o in ids:
        assert re.fullmatch(rb"\d+-\d+\n", o), out
    assert len(set(ids)) == 6
    assert out[4] == b"OK\n"
    info = out[7].split(b"\n")
    for field in XINFO_FIELDS:
        assert field in info, (field, out[7])
    _check_guide_state(raw)
    # retrying the isolation lines now answers the same IDs (duplicates)
    assert cli(srv, GUIDE[5]) == out[5]
    assert cli(srv, GUIDE[6]) == out[6]


def test_guide_exact(raw):
    replies = [raw.call(*shlex.split(line)) for line in GUIDE]
    for rep in replies[:4] + replies[5:7]:
        assert isinstance(rep, bytes), replies
    assert replies[4] == OK
    assert [k for k, _ in pairs(replies[7])] == XINFO_FIELDS
    _check_guide_state(raw)
    # retries of every XADD line: the first four were cleared by XCFGSET except
    # what the isolation block re-added (producer-1/iid-1)
    assert raw.call(*shlex.split(GUIDE[0])) == replies[5]
    again = raw.call(*shlex.split(GUIDE[1]))
    assert again != replies[1]
    assert raw.call(*shlex.split(GUIDE[1])) == again


def test_guide_error_handling_section(raw):
    """The guide's error list: WRONGTYPE, no such key, syntax error."""
    raw.call("SET", "str", "x")
    assert raw.call("XADD", "str", "IDMP", "p", "i", "*", "f", "v").value.startswith(b"WRONGTYPE")
    assert raw.call("XCFGSET", "nostream", "IDMP-DURATION", "5") == Err(b"ERR no such key")
    raw.call("XADD", "mystream", "*", "f", "v")
    assert raw.call("XCFGSET", "mystream", "BOGUS", "1") == Err(b"ERR syntax error")


def test_xidmprecord_page_return_information(raw, raw3):
    """Seed 000: OK when the pair already maps to the same ID, errors otherwise."""
    idx = raw.call("XADD", "mystream", "*", "field", "value")
    for c in (raw, raw3):
        assert c.call("XIDMPRECORD", "mystream", "pid", "iid", idx) == Simple(b"OK")
    for argv in (["XIDMPRECORD", "nokey", "p", "i", idx],
                 ["XIDMPRECORD", "mystream", "", "i", idx],
                 ["XIDMPRECORD", "mystream", "p", "", idx],
                 ["XIDMPRECORD", "mystream", "p", "i", "999999999999999-0"]):
        assert isinstance(raw.call(*argv), Err), argv
    other = raw.call("XADD", "mystream", "*", "field", "value")
    assert isinstance(raw.call("XIDMPRECORD", "mystream", "pid", "iid", other), Err)
    raw.call("SET", "str", "x")
    assert raw.call("XIDMPRECORD", "str", "p", "i", idx).value.startswith(b"WRONGTYPE")
