"""The bounded fault soak: 2,000 turns over the three facades (docs/reliability.md).

The figures are not written anywhere from here: ``make soak`` writes those of the long run.
"""

from __future__ import annotations

import pytest

from tests.reliability.soak import FACADES, run_soak, split_turns

pytestmark = pytest.mark.integration

TURNS = 2_000
SEED = 20260101


@pytest.mark.parametrize("kind", FACADES)
def test_every_event_of_every_turn_is_delivered_once_in_order(kind: str) -> None:
    turns = split_turns(TURNS)[kind]
    report = run_soak(turns, kind, SEED)
    assert report.problems == []
    assert report.completed == report.turns == turns
    assert (report.lost, report.duplicated, report.foreign, report.reordered) == (0, 0, 0, 0)
    assert report.failed_results == 0
    assert report.events_checked > turns
    ends = sum(report.faults[k] for k in ("cut_mid_frame", "cut_at_byte", "error_frame"))
    assert 0.07 < ends / report.opportunities < 0.2, report.faults  # ~10 % of opportunities
    for kind_of_fault in (
        "cut_mid_frame",
        "cut_at_byte",
        "error_frame",
        "malformed_frame",
        "unknown_frame",
        "one_byte_chunks",
        "slow_frames",
        "session_error_retrying",
        "post_429_retry_after",
        "post_503_retry_after_ms",
        "post_503_reply_lost",
    ):
        assert report.faults[kind_of_fault] > 0, kind_of_fault
    assert report.retries > 0
    assert report.reconnects > 0
