"""Issue 12 (a): the corpus of cases.py against native Redis 8.6.3, RESP2 and RESP3."""

import pytest

from cases import CASES
from harness import compare_sequence

# Cases whose divergence is IDMP-specific (fixed on branch idmp) or a documented
# difference (README, "Differences from Redis 8.6.3"): name prefix -> reason.
KNOWN = {}


def _marks(name):
    for prefix, reason in KNOWN.items():
        if name.startswith(prefix):
            return [pytest.mark.xfail(reason=reason, strict=True)]
    return []


@pytest.mark.parametrize("commands", [pytest.param(seq, id=name, marks=_marks(name))
                                      for name, seq in CASES])
def test_case(pair, commands):
    native, module = pair
    compare_sequence(native, module, commands)
