"""The result accumulator, turn endings and timestamps of one turn (PROTOCOL.md §6.4, §6.5)."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoder._protocol.convert import structure_event
from qoder._protocol.events import AgentMessageEvent, SpanModelRequestEnd, SpanModelRequestStart
from qoder._protocol.messages import Usage
from qoder._protocol.result import ResultAccumulator, TurnEnding, parse_timestamp_ns

BASE_NS = 1_779_075_648 * 1_000_000_000  # 2026-05-18T03:40:48Z


def end(**fields: Any) -> SpanModelRequestEnd:
    event = structure_event({"type": "span.model_request_end", **fields})
    assert isinstance(event, SpanModelRequestEnd)
    return event


def start(event_id: str, model: str | None) -> SpanModelRequestStart:
    data: dict[str, Any] = {"type": "span.model_request_start", "id": event_id}
    if model is not None:
        data["model"] = model
    event = structure_event(data)
    assert isinstance(event, SpanModelRequestStart)
    return event


def message(content: Any, thread: str | None = None) -> AgentMessageEvent:
    data: dict[str, Any] = {"type": "agent.message", "content": content}
    if thread is not None:
        data["session_thread_id"] = thread
    event = structure_event(data)
    assert isinstance(event, AgentMessageEvent)
    return event


def build(acc: ResultAccumulator, ending: TurnEnding | None = None, duration_ms: int = 7) -> Any:
    return acc.build(
        ending or TurnEnding.idle("end_turn"),
        session_id="sess_01",
        num_turns=1,
        duration_ms=duration_ms,
        turn_ids=("turn_01",),
    )


# --- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-18T03:40:48Z", BASE_NS),
        ("2026-05-18T03:40:48.888Z", BASE_NS + 888_000_000),
        ("2026-05-18T03:40:48.888851795Z", BASE_NS + 888_851_795),
        ("2026-05-18T03:40:48.8888517951234Z", BASE_NS + 888_851_795),  # cut, not rounded
        ("2026-05-18t03:40:48.5z", BASE_NS + 500_000_000),
        ("2026-05-18 03:40:48,5Z", BASE_NS + 500_000_000),
        ("2026-05-18T05:40:48+02:00", BASE_NS),
        ("2026-05-18T01:10:48-0230", BASE_NS),
        ("2026-05-18T03:40:48", BASE_NS),  # no offset: UTC
        ("2016-12-31T23:59:60Z", 1_483_228_800 * 1_000_000_000),  # leap second
        (" 2026-05-18T03:40:48Z ", BASE_NS),
    ],
)
def test_timestamps_are_parsed_to_nanoseconds(text: str, expected: int) -> None:
    assert parse_timestamp_ns(text) == expected


@pytest.mark.parametrize(
    "text",
    [None, "", "yesterday", "2026-05-18", "2026-13-18T03:40:48Z", "2026-05-18T24:00:00Z", "1e9"],
)
def test_what_is_not_a_timestamp_is_none(text: str | None) -> None:
    assert parse_timestamp_ns(text) is None


def test_duration_api_ms_spans_earliest_to_latest_stamp_whatever_the_order() -> None:
    acc = ResultAccumulator()
    acc.add_timestamp("2026-05-18T03:40:50.000000001Z")
    acc.add_timestamp("2026-05-18T03:40:48.888851795Z")
    acc.add_timestamp("not a time")
    acc.add_timestamp("2026-05-18T03:40:49Z")
    assert build(acc).duration_api_ms == 1111  # 1.111148206 s, floored


@pytest.mark.parametrize("stamps", [[], ["2026-05-18T03:40:48Z"]])
def test_duration_api_ms_falls_back_to_duration_ms(stamps: list[str]) -> None:
    acc = ResultAccumulator()
    for stamp in stamps:
        acc.add_timestamp(stamp)
    assert build(acc, duration_ms=42).duration_api_ms == 42


# --- result text -----------------------------------------------------------------------------


def test_text_joins_primary_thread_text_blocks_with_no_separator() -> None:
    acc = ResultAccumulator()
    acc.add_message(message([{"type": "text", "text": "Running it. "}, {"type": "redacted"}]))
    acc.add_message(message([{"type": "text", "text": "ignored"}], thread="sthr_2"))
    acc.add_message(message("The answer"))  # string content: one block
    acc.add_message(
        message([{"type": "mystery", "text": "no"}, {"type": "text", "text": " is 40."}])
    )
    assert build(acc).result == "Running it. The answer is 40."


def test_the_text_of_many_messages_is_kept_whole_and_in_order() -> None:
    acc = ResultAccumulator()
    for n in range(1_000):
        acc.add_message(message([{"type": "text", "text": f"{n},"}]))
        if n == 600:
            assert acc.text == "".join(f"{i}," for i in range(601))  # readable midway
    assert build(acc).result == "".join(f"{n}," for n in range(1_000))


def test_a_long_turn_keeps_its_text_not_a_string_per_message() -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        events = [message([{"type": "text", "text": f"{n:05d}"}]) for n in range(20_000)]
        acc = ResultAccumulator()
        while events:  # each message dropped once added, as a reader drops it once read
            acc.add_message(events.pop())
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # 100,000 characters of text; a str kept per message would be over 1 MB.
    assert kept < 400_000
    assert acc.text == "".join(f"{n:05d}" for n in reversed(range(20_000)))


def test_text_is_empty_when_the_agent_said_nothing() -> None:
    assert build(ResultAccumulator()).result == ""


# --- usage -----------------------------------------------------------------------------------


def test_usage_sums_model_usage_and_counts_no_span_reported_stay_none() -> None:
    acc = ResultAccumulator()
    acc.add_model_request_end(end(model_usage={"input_tokens": 30, "credits": 0.05}))
    acc.add_model_request_end(end(is_error=True, model_usage={"input_tokens": 45, "credits": 0.03}))
    acc.add_model_request_end(end(model_usage={"output_tokens": 6, "cache_read_input_tokens": 0}))
    result = build(acc)
    assert result.usage == Usage(input_tokens=75, output_tokens=6, cache_read_input_tokens=0)
    assert result.usage.cache_creation_input_tokens is None
    assert result.total_credits == pytest.approx(0.08)
    assert result.num_model_requests == 3


def test_model_usage_wins_over_legacy_usage_on_the_same_span() -> None:
    acc = ResultAccumulator()
    acc.add_model_request_end(
        end(model_usage={"input_tokens": 1}, usage={"input_tokens": 1000, "output_tokens": 9})
    )
    assert build(acc).usage == Usage(input_tokens=1)


def test_legacy_usage_with_nested_counters_goes_to_extra() -> None:
    acc = ResultAccumulator()
    for _ in range(2):
        acc.add_model_request_end(
            end(
                usage={
                    "input_tokens": 12,
                    "output_tokens": 1,
                    "cache_creation": {"ephemeral_5m_input_tokens": 3, "label": "x"},
                    "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0.5},
                },
                total_cost_usd=0.0004,
            )
        )
    result = build(acc)
    assert result.usage.to_dict() == {
        "input_tokens": 24,
        "output_tokens": 2,
        "cache_creation.ephemeral_5m_input_tokens": 6,
        "server_tool_use.web_search_requests": 2,
        "server_tool_use.web_fetch_requests": 1.0,
    }
    assert result.total_cost_usd == pytest.approx(0.0008)
    assert result.total_credits is None  # USD is never turned into credits


def test_credits_are_never_converted_to_usd() -> None:
    acc = ResultAccumulator()
    acc.add_model_request_end(end(model_usage={"credits": 4.05}))
    result = build(acc)
    assert result.total_credits == 4.05
    assert result.total_cost_usd is None
    assert result.usage == Usage()
    assert result.model_usage == {"unknown": Usage()}


def test_cost_is_total_cost_usd_else_cost_usd_per_span() -> None:
    acc = ResultAccumulator()
    acc.add_model_request_end(end(total_cost_usd=0.25, cost_usd=100.0))
    acc.add_model_request_end(end(cost_usd=0.5))
    acc.add_model_request_end(end())
    result = build(acc)
    assert result.total_cost_usd == 0.75
    assert result.num_model_requests == 3
    assert result.usage == Usage()


def test_model_usage_is_keyed_by_end_model_else_start_model_else_unknown() -> None:
    acc = ResultAccumulator()
    acc.add_model_request_start(start("evt_03", "ultimate"), "evt_03")
    acc.add_model_request_start(start("evt_09", None), "evt_09")
    acc.add_model_request_end(end(model_request_start_id="evt_03", model_usage={"input_tokens": 1}))
    acc.add_model_request_end(
        end(model="lite", model_request_start_id="evt_03", model_usage={"input_tokens": 2})
    )
    acc.add_model_request_end(end(model_request_start_id="evt_09", model_usage={"input_tokens": 4}))
    acc.add_model_request_end(end(model_request_start_id="evt_xx", usage={"input_tokens": 8}))
    acc.add_model_request_end(
        end(model_request_start_id="evt_03", model_usage={"input_tokens": 16})
    )
    assert build(acc).model_usage == {
        "ultimate": Usage(input_tokens=17),
        "lite": Usage(input_tokens=2),
        "unknown": Usage(input_tokens=12),
    }


def test_float_sums_do_not_depend_on_arrival_order() -> None:
    values = [0.1, 0.2, 0.3, 1e16, -1e16]
    totals = set()
    for order in (values, list(reversed(values))):
        acc = ResultAccumulator()
        for value in order:
            acc.add_model_request_end(end(model_usage={"credits": value}))
        totals.add(build(acc).total_credits)
    assert len(totals) == 1
    assert totals.pop() == pytest.approx(0.6)


# --- turn endings (§6.4 / §6.5 mapping) ----------------------------------------------------


@pytest.mark.parametrize(
    ("stop", "recorded", "terminal", "is_error", "subtype"),
    [
        ("end_turn", (), "end_turn", False, "success"),
        ("end_turn", ("overloaded",), "end_turn", False, "success"),
        ("requires_action", (), "requires_action", False, "success"),
        (None, (), "end_turn", False, "success"),
        (None, ("overloaded",), "end_turn", True, "error_during_execution"),
        ("paused", (), "paused", False, "success"),
        ("paused", ("overloaded",), "paused", True, "error_during_execution"),
        ("retries_exhausted", (), "retries_exhausted", True, "error_during_execution"),
        ("budget_reached", (), "budget_reached", True, "error_max_budget"),
    ],
)
def test_idle_endings(
    stop: str | None, recorded: tuple[str, ...], terminal: str, is_error: bool, subtype: str
) -> None:
    ending = TurnEnding.idle(stop, recorded)
    assert (ending.terminal_reason, ending.is_error, ending.subtype) == (
        terminal,
        is_error,
        subtype,
    )
    assert ending.stop_reason == stop
    assert bool(ending.errors) == is_error


def test_retries_exhausted_names_the_last_retried_error() -> None:
    ending = TurnEnding.idle("retries_exhausted", ("first", "Model overloaded"))
    assert ending.errors == ("the server's retries were exhausted: Model overloaded",)


def test_failure_ending() -> None:
    ending = TurnEnding.failure("stream_lost", "6 reconnects without progress")
    result = build(ResultAccumulator(), ending)
    assert result.is_error
    assert result.subtype == "error_during_execution"
    assert result.stop_reason is None
    assert result.terminal_reason == "stream_lost"
    assert result.errors == ("6 reconnects without progress",)


def test_warnings_are_kept_in_order() -> None:
    acc = ResultAccumulator()
    acc.warn("one")
    acc.warn("two")
    assert build(acc).warnings == ("one", "two")


_stamps = st.one_of(
    # the canonical shape, at one length (the fast path compares these as text)
    st.integers(min_value=0, max_value=10**15).map(
        lambda us: (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1.7e9 + us // 10**6))
            + f".{us % 10**6:06d}Z"
        )
    ),
    # the same instants in other shapes: other fraction lengths, offsets, no fraction
    st.integers(min_value=0, max_value=10**9).map(
        lambda s: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1.7e9 + s))
    ),
    st.integers(min_value=0, max_value=10**9).map(
        lambda s: time.strftime("%Y-%m-%dT%H:%M:%S.5+01:00", time.gmtime(1.7e9 + s + 3600))
    ),
    st.just("not a time"),
)


@given(st.lists(_stamps, max_size=12))
def test_duration_api_ms_is_the_span_of_the_parsed_stamps_whatever_their_shapes(
    stamps: list[str],
) -> None:
    acc = ResultAccumulator()
    for stamp in stamps:
        acc.add_timestamp(stamp)
    parsed = [ns for ns in map(parse_timestamp_ns, stamps) if ns is not None]
    expected = (max(parsed) - min(parsed)) // 1_000_000 if len(parsed) >= 2 else 42
    assert build(acc, duration_ms=42).duration_api_ms == expected
