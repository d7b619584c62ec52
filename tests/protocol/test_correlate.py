"""Dedupe and correlation: which stream events belong to the turn (PROTOCOL.md §6.3, §6.6).

The state machine's tests (``test_turn.py``) cover these rules through whole conversations;
these pin each rule of :mod:`qoder._protocol.correlate` on its own.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from qoder._protocol.convert import structure_event
from qoder._protocol.correlate import Correlation, SeenKeys, reply_items
from qoder._protocol.events import AgentCustomToolUse, Event


def ev(kind: str, event_id: str | None = None, turn: str | None = None, **fields: Any) -> Event:
    data: dict[str, Any] = {"type": kind, **fields}
    if event_id is not None:
        data["id"] = event_id
    if turn is not None:
        data["turn_id"] = turn
    return structure_event(data)


def claims(corr: Correlation, event: Event) -> bool:
    return corr.claims(event, event.id)


def with_tool_use(tool_use_id: str) -> Correlation:
    corr = Correlation()
    corr.accept("t1")
    tool_use = ev("agent.custom_tool_use", tool_use_id, "t1", name="get_weather", input={})
    assert isinstance(tool_use, AgentCustomToolUse)
    assert claims(corr, tool_use)
    corr.tool_uses[tool_use_id] = tool_use
    return corr


# --- dedupe window ---------------------------------------------------------------------------


def test_seen_keys_report_a_repeat_once_seen() -> None:
    seen = SeenKeys(3)
    assert seen.add(("evt_1", "agent.message"))
    assert not seen.add(("evt_1", "agent.message"))
    # The type is part of the key: equal (redacted) ids of different types are not repeats.
    assert seen.add(("evt_1", "session.status_idle"))


def test_seen_keys_remember_at_least_half_their_capacity_and_at_most_all() -> None:
    seen = SeenKeys(4)  # generations of 2 keys
    for key in ("a", "b", "c"):
        assert seen.add((key, "agent.message"))
    assert not seen.add(("a", "agent.message"))  # among the last 4: remembered
    assert seen.add(("d", "agent.message"))
    assert seen.add(("e", "agent.message"))
    assert seen.add(("a", "agent.message"))  # 4 keys later: forgotten, so new again
    assert not seen.add(("e", "agent.message"))  # the last 2 are always remembered
    assert not seen.add(("a", "agent.message"))


def test_a_full_dedupe_window_keeps_no_copy_of_the_ids() -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        seen = SeenKeys(50_000)
        for n in range(60_000):  # ids made and dropped as the stream's events are
            assert seen.add((f"evt_{n:032x}", "agent.message"))
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert not seen.add((f"evt_{59_999:032x}", "agent.message"))
    assert kept < 4 * 2**20  # the tuples and ids themselves would take over 9 MiB


# --- POST replies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "ids"),
    [
        ({"data": [{"id": "evt_01"}, "junk", {"id": "evt_02"}]}, ["evt_01", "evt_02"]),
        ([{"id": "evt_01"}], ["evt_01"]),
        ({"data": "nope"}, []),
        (None, []),
        ("text", []),
    ],
)
def test_reply_items_are_read_leniently(reply: Any, ids: list[str]) -> None:
    assert [item["id"] for item in reply_items(reply)] == ids


def test_a_prompt_reply_accepts_only_the_user_message_turn_id() -> None:
    corr = Correlation()
    items = [
        {"id": "evt_1", "type": "user.message", "turn_id": "t1"},
        {"id": "evt_2", "type": "user.interrupt", "turn_id": "t0"},
        {"id": "", "type": "user.message", "turn_id": ""},
    ]
    corr.learn_reply(items, all_turn_ids=False)
    assert corr.turn_ids == ["t1"]
    assert corr.own_ids == {"evt_1", "evt_2"}
    assert corr.first_turn_id == "t1"


def test_an_answer_reply_accepts_every_turn_id_in_order_and_marks_calls_answered() -> None:
    corr = Correlation()
    corr.accept("t1")
    corr.dispatched.update({"evt_5", "evt_6"})
    items: list[dict[str, Any]] = [
        dict(id="evt_7", type="user.custom_tool_result", turn_id="t2", custom_tool_use_id="evt_5"),
        dict(id="evt_8", type="user.tool_confirmation", turn_id="t1", tool_use_id="evt_6"),
    ]
    corr.learn_reply(items, all_turn_ids=True)
    assert corr.turn_ids == ["t1", "t2"]
    assert corr.answered == {"evt_5", "evt_6"}
    assert corr.all_answered
    assert corr.awaiting == frozenset()


def test_an_interrupt_reply_abandons_the_dispatched_calls() -> None:
    corr = Correlation()
    corr.dispatched.update({"evt_5", "evt_6"})
    assert corr.awaiting == {"evt_5", "evt_6"}
    corr.learn_reply([{"id": "evt_9", "type": "user.interrupt"}], all_turn_ids=True)
    assert corr.awaiting == frozenset()
    assert corr.unanswered(("evt_5", "evt_6", "evt_7")) == ["evt_7"]


# --- the rule (§6.3 step 3) ------------------------------------------------------------------


def test_an_accepted_turn_id_is_claimed_and_another_is_not() -> None:
    corr = Correlation()
    corr.accept("t1")
    assert claims(corr, ev("agent.message", "evt_2", "t1"))
    assert not claims(corr, ev("agent.message", "evt_3", "t0"))


def test_id_less_events_are_claimed_only_after_an_own_echo() -> None:
    corr = Correlation()
    corr.learn_reply([{"id": "evt_1", "type": "user.message"}], all_turn_ids=False)
    assert corr.turn_ids == []
    before = ev("agent.message", "evt_0")
    assert not claims(corr, before)  # an earlier turn's tail, before our echo
    assert claims(corr, ev("user.message", "evt_1"))
    assert corr.seen_own_echo
    assert claims(corr, ev("agent.message", "evt_2"))
    assert not claims(corr, ev("agent.message", "evt_3", "t0"))  # a foreign turn id still is not


def test_an_own_echo_teaches_its_turn_id() -> None:
    corr = Correlation()
    corr.learn_reply([{"id": "evt_1", "type": "user.message"}], all_turn_ids=False)
    assert claims(corr, ev("user.message", "evt_1", "t1"))
    assert corr.turn_ids == ["t1"]
    assert claims(corr, ev("agent.message", "evt_2", "t1"))


@pytest.mark.parametrize(
    ("kind", "ref_field"),
    [("user.custom_tool_result", "custom_tool_use_id"), ("user.tool_confirmation", "tool_use_id")],
)
def test_the_echo_of_an_answer_to_a_call_of_the_turn_is_own(kind: str, ref_field: str) -> None:
    corr = with_tool_use("evt_5")
    answer = ev(kind, "evt_9", "t2", **{ref_field: "evt_5"})
    assert claims(corr, answer)
    assert corr.turn_ids == ["t1", "t2"]
    assert corr.seen_own_echo
    other = ev(kind, "evt_10", "t3", **{ref_field: "evt_4"})
    assert not claims(corr, other)  # an answer to a call of another turn


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("session.status_terminated", {}),
        ("terminated", {}),
        ("session.deleted", {}),
        ("session.error", {"error": {"message": "boom", "retry_status": "terminal"}}),
    ],
)
def test_session_ends_belong_to_any_turn(kind: str, fields: dict[str, Any]) -> None:
    corr = Correlation()
    corr.accept("t1")
    assert claims(corr, ev(kind, "evt_9", "t0", **fields))
    assert claims(corr, ev(kind, "evt_10", **fields))


@pytest.mark.parametrize("retry_status", ["retrying", "exhausted", None])
def test_a_non_terminal_session_error_of_another_turn_is_not_claimed(
    retry_status: str | None,
) -> None:
    corr = Correlation()
    corr.accept("t1")
    error: dict[str, Any] = {"message": "boom"}
    if retry_status is not None:
        error["retry_status"] = retry_status
    assert not claims(corr, ev("session.error", "evt_9", "t0", error=error))


def test_the_dedupe_id_not_the_event_id_names_an_own_echo() -> None:
    corr = Correlation()
    corr.learn_reply([{"id": "frame_1", "type": "user.message"}], all_turn_ids=False)
    echo = ev("user.message", "evt_1")
    assert not corr.claims(echo, "evt_1")
    assert corr.claims(echo, "frame_1")


# --- held-back events ------------------------------------------------------------------------


def test_kept_events_are_bounded_counted_and_taken_in_order() -> None:
    corr = Correlation()
    events = [ev("agent.message", f"evt_{i}") for i in range(4)]
    for event in events:
        corr.keep(event, event.id, 2)
    kept, overflow = corr.take_kept()
    assert kept == [(events[0], "evt_0"), (events[1], "evt_1")]
    assert overflow == 2
    assert corr.take_kept() == ([], 0)
