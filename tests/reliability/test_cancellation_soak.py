"""Cancellation at 500 random points over the three facades (docs/reliability.md)."""

from __future__ import annotations

import pytest

from tests.reliability.cancellation import ASYNC_MODES, SYNC_MODES, run_cancellations
from tests.reliability.soak import FACADES, split_turns

pytestmark = pytest.mark.integration

TURNS = 500
SEED = 20260101


@pytest.mark.parametrize("kind", FACADES)
def test_after_each_cancellation_nothing_leaks_and_a_new_client_continues(kind: str) -> None:
    turns = split_turns(TURNS)[kind]
    report = run_cancellations(turns, kind, SEED)
    assert report.problems == []
    assert report.exact.problems == []
    exact = report.exact
    assert (exact.lost, exact.duplicated, exact.foreign, exact.reordered) == (0, 0, 0, 0)
    assert report.leaks == 0
    assert report.warnings == 0
    assert set(report.modes) == set(SYNC_MODES if kind == "sync" else ASYNC_MODES)
    assert report.interrupted > turns * 0.7
    assert report.continued_same_client > 0
    assert report.verified_turns >= turns
    if kind == "sync":
        assert report.picked_up_by_new_client > 0
