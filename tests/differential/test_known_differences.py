"""Differences from Redis 8.6.3 that are choices, not gaps: 8.6.3 bugs the
module does not copy (README, "Differences from Redis 8.6.3"). Each test shows
the native behaviour and the module's, so a fixed upstream (or a changed
module) makes it fail and the table gets updated."""

import time

from util import pairs


def _info(side, key):
    return dict(pairs(side.conn.call("XINFO", "STREAM", key)))


def test_failed_idmp_xadd_leaves_no_producer(pair):
    """redis/redis#15840: an XADD IDMP that fails (here: the stream has
    exhausted its IDs) leaves an empty producer on 8.6.3."""
    native, module = pair
    for side in pair:
        side.conn.call("XADD", "s", "18446744073709551615-18446744073709551615", "a", "1")
        err = side.conn.call("XADD", "s", "IDMP", "p", "i", "*", "a", "1")
        assert err.value.startswith(b"ERR The stream has exhausted"), err
    assert _info(native, "s")[b"pids-tracked"] == 1
    assert _info(module, "s")[b"pids-tracked"] == 0


def test_iids_expire_when_ids_run_ahead_of_the_clock(pair):
    """redis/redis#15836: on a stream whose IDs are ahead of the clock, 8.6.3
    never expires iids (it ages them by entry ID); the module ages them by
    the time they were recorded, so IDMP-DURATION holds."""
    native, module = pair
    first = {}
    for side in pair:
        side.conn.call("XADD", "t", "99999999999999-0", "a", "1")
        side.conn.call("XCFGSET", "t", "IDMP-DURATION", "1")
        first[side.label] = side.conn.call("XADD", "t", "IDMP", "p", "i", "*", "a", "1")
    time.sleep(2.2)
    again = {side.label: side.conn.call("XADD", "t", "IDMP", "p", "i", "*", "a", "1")
             for side in pair}
    assert again[native.label] == first[native.label]      # still a duplicate
    assert again[module.label] != first[module.label]      # expired: a new entry
