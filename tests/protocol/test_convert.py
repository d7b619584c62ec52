"""The converter: wire objects and SSE frames to typed events; bad input to values."""

from __future__ import annotations

import json
import logging
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoder._protocol import blocks as b
from qoder._protocol import events as e
from qoder._protocol.convert import block_to_wire, decode_frame, structure_event
from qoder._protocol.sse import SSEDecoder, SSEFrame
from tests.conftest import VECTORS


def frame(data: Any, *, event: str = "message", frame_id: str | None = None) -> SSEFrame:
    text = data if isinstance(data, str) else json.dumps(data)
    return SSEFrame(event=event, data=text, id=frame_id, last_event_id=frame_id or "", retry=None)


def decode(data: Any, **kwargs: Any) -> e.Event | None:
    return decode_frame(frame(data, **kwargs))


def decode_event(data: Any, **kwargs: Any) -> e.Event:
    """Decode a frame that must give an event (not be skipped)."""
    event = decode(data, **kwargs)
    assert event is not None, data
    return event


CANONICAL: list[tuple[dict[str, Any], type[Any], dict[str, Any]]] = [
    (
        {"type": "user.message", "content": [{"type": "text", "text": "Hi"}]},
        e.UserMessageEvent,
        {"content": (b.TextBlock("Hi"),)},
    ),
    (
        {"type": "user.interrupt", "session_thread_id": "t1"},
        e.UserInterrupt,
        {"session_thread_id": "t1"},
    ),
    (
        {
            "type": "user.tool_confirmation",
            "tool_use_id": "evt_11",
            "result": "deny",
            "deny_message": "No",
        },
        e.UserToolConfirmation,
        {"tool_use_id": "evt_11", "result": "deny", "deny_message": "No"},
    ),
    (
        {
            "type": "user.custom_tool_result",
            "custom_tool_use_id": "evt_24",
            "content": [{"type": "text", "text": "18°C"}],
            "is_error": False,
        },
        e.UserCustomToolResult,
        {"custom_tool_use_id": "evt_24", "content": (b.TextBlock("18°C"),), "is_error": False},
    ),
    (
        {"type": "agent.message", "content": [{"type": "text", "text": "4"}, {"type": "redacted"}]},
        e.AgentMessageEvent,
        {"content": (b.TextBlock("4"), b.RedactedBlock())},
    ),
    ({"type": "agent.thinking", "thinking": "hmm"}, e.AgentThinking, {"thinking": "hmm"}),
    (
        {
            "type": "agent.tool_use",
            "name": "bash",
            "input": {"command": "ls"},
            "evaluated_permission": "ask",
        },
        e.AgentToolUse,
        {"name": "bash", "input": {"command": "ls"}, "evaluated_permission": "ask"},
    ),
    (
        {
            "type": "agent.tool_result",
            "tool_use_id": "evt_11",
            "content": [{"type": "text", "text": "40"}],
            "is_error": True,
        },
        e.AgentToolResult,
        {"tool_use_id": "evt_11", "content": (b.TextBlock("40"),), "is_error": True},
    ),
    (
        {
            "type": "agent.mcp_tool_use",
            "name": "search",
            "mcp_server_name": "github",
            "input": {"q": "bug"},
        },
        e.AgentMCPToolUse,
        {"name": "search", "mcp_server_name": "github", "input": {"q": "bug"}},
    ),
    (
        {
            "type": "agent.mcp_tool_result",
            "mcp_tool_use_id": "evt_40",
            "content": [{"type": "text", "text": "3 hits"}],
        },
        e.AgentMCPToolResult,
        {"mcp_tool_use_id": "evt_40", "content": (b.TextBlock("3 hits"),)},
    ),
    (
        {"type": "agent.custom_tool_use", "name": "get_weather", "input": {"city": "Paris"}},
        e.AgentCustomToolUse,
        {"name": "get_weather", "input": {"city": "Paris"}},
    ),
    ({"type": "session.status_running"}, e.SessionStatusRunning, {}),
    (
        {
            "type": "session.status_idle",
            "stop_reason": {"type": "requires_action", "event_ids": ["evt_24"]},
        },
        e.SessionStatusIdle,
        {"stop_reason": e.StopReason("requires_action", ("evt_24",))},
    ),
    ({"type": "session.status_rescheduled"}, e.SessionStatusRescheduled, {}),
    ({"type": "session.status_terminated"}, e.SessionStatusTerminated, {}),
    ({"type": "terminated", "reason": "gone"}, e.Terminated, {"reason": "gone"}),
    (
        {
            "type": "session.error",
            "error": {
                "type": "model_overloaded_error",
                "message": "Model overloaded",
                "retry_status": {"type": "retrying"},
            },
        },
        e.SessionError,
        {"error": e.SessionErrorDetail("model_overloaded_error", "Model overloaded", "retrying")},
    ),
    ({"type": "session.deleted"}, e.SessionDeleted, {}),
    (
        {"type": "span.model_request_start", "model": "ultimate"},
        e.SpanModelRequestStart,
        {"model": "ultimate"},
    ),
    (
        {
            "type": "span.model_request_end",
            "model_request_start_id": "evt_03",
            "is_error": False,
            "model_usage": {
                "input_tokens": 12,
                "output_tokens": 1,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "speed": "standard",
                "credits": 0.02,
            },
        },
        e.SpanModelRequestEnd,
        {
            "model_request_start_id": "evt_03",
            "is_error": False,
            "model_usage": e.ModelUsage(12, 1, 0, 0, "standard", 0.02),
        },
    ),
    (
        {"type": "event_start", "event": {"type": "agent.message", "id": "evt_15"}},
        e.EventStart,
        {"event_type": "agent.message", "event_id": "evt_15"},
    ),
    (
        {
            "type": "event_delta",
            "event_id": "evt_15",
            "delta": {
                "type": "content_delta",
                "index": 0,
                "content": {"type": "text", "text": "4"},
            },
        },
        e.EventDelta,
        {
            "event_id": "evt_15",
            "delta_type": "content_delta",
            "index": 0,
            "content": b.TextBlock("4"),
        },
    ),
]


@pytest.mark.parametrize(
    ("wire", "cls", "fields"), CANONICAL, ids=[c[0]["type"] for c in CANONICAL]
)
def test_every_canonical_event_type(
    wire: dict[str, Any], cls: type[Any], fields: dict[str, Any]
) -> None:
    envelope = {
        "id": "evt_01",
        "turn_id": "turn_01",
        "processed_at": "2026-05-18T03:40:48.888851795Z",
    }
    wire = {**envelope, **wire, "future_field": {"x": 1}}
    event = decode_event(wire, frame_id="evt_01")
    assert type(event) is cls
    assert event.type == wire["type"]
    assert (event.id, event.turn_id, event.processed_at) == (
        "evt_01",
        "turn_01",
        envelope["processed_at"],
    )
    for name, value in fields.items():
        assert getattr(event, name) == value, name
    assert event.raw == wire  # everything kept, the unknown field too


@pytest.mark.parametrize(
    ("wire", "check"),
    [
        (
            {"type": "agent.message", "content": "plain"},
            lambda ev: ev.content == (b.TextBlock("plain"),),
        ),
        ({"type": "agent.thinking", "content": "old"}, lambda ev: ev.thinking == "old"),
        (
            {"type": "agent.tool_use", "tool_name": "Bash", "tool_input": {"c": 1}},
            lambda ev: (ev.name, ev.input) == ("Bash", {"c": 1}),
        ),
        (
            {"type": "agent.tool_result", "tool_use_id": "x", "output": "40"},
            lambda ev: ev.content == (b.TextBlock("40"),),
        ),
        (
            {"type": "session.error", "error": "boom", "code": "E1"},
            lambda ev: (ev.error.message, ev.error.retry_status, ev.code) == ("boom", None, "E1"),
        ),
        ({"type": "session.status_idle"}, lambda ev: ev.stop_reason is None),
        (
            {
                "type": "span.model_request_end",
                "span_id": "sp_1",
                "model": "ultimate",
                "usage": {"input_tokens": 12, "cache_creation": {"ephemeral_5m_input_tokens": 3}},
                "total_cost_usd": 0.0004,
            },
            lambda ev: (
                ev.effective_usage.input_tokens == 12
                and ev.usage.raw["cache_creation"] == {"ephemeral_5m_input_tokens": 3}
                and ev.total_cost_usd == 0.0004
            ),
        ),
        (
            {
                "type": "span.model_request_end",
                "model_usage": {"input_tokens": 1},
                "usage": {"input_tokens": 99},
            },
            lambda ev: ev.effective_usage.input_tokens == 1,
        ),
    ],
)
def test_variants_fold_into_canonical_fields(wire: dict[str, Any], check: Any) -> None:
    event = decode_event(wire)
    assert not isinstance(event, e.MalformedEvent), event
    assert check(event)
    assert event.raw == wire


def test_content_blocks_of_every_kind() -> None:
    content = [
        {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "d"},
            "title": None,
        },
        {
            "type": "search_result",
            "source": "https://s",
            "title": "T",
            "content": [{"type": "text", "text": "hit"}],
            "citations": {"enabled": True},
        },
        {"type": "hologram", "depth": 3},
    ]
    event = decode({"type": "agent.tool_result", "tool_use_id": "x", "content": content})
    assert isinstance(event, e.AgentToolResult)
    image, document, search, unknown = event.content
    assert image == b.ImageBlock({"type": "url", "url": "https://x/y.png"})
    assert isinstance(document, b.DocumentBlock)
    assert document.title is None
    assert search == b.SearchResultBlock("https://s", "T", (b.TextBlock("hit"),), {"enabled": True})
    assert isinstance(unknown, b.UnknownBlock)
    assert unknown.type == "hologram"
    assert unknown.raw == content[3]
    assert [block_to_wire(block) for block in event.content][2] == content[2]


def test_unknown_event_type_is_kept_not_raised() -> None:
    wire = {"id": "evt_9", "type": "session.thread_created", "thread": {"id": "t"}}
    event = decode(wire)
    assert isinstance(event, e.UnknownEvent)
    assert (event.type, event.id, event.raw) == ("session.thread_created", "evt_9", wire)


def test_type_comes_from_data_else_from_the_sse_name() -> None:
    named = decode(
        {"id": "evt_1", "content": [{"type": "text", "text": "x"}]}, event="agent.message"
    )
    assert isinstance(named, e.AgentMessageEvent)
    assert named.raw == {"id": "evt_1", "content": [{"type": "text", "text": "x"}]}
    both = decode({"type": "agent.thinking"}, event="agent.message")
    assert isinstance(both, e.AgentThinking)


def test_the_sse_id_is_never_copied_into_the_event() -> None:
    preview = decode(
        {"type": "event_start", "event": {"type": "agent.message", "id": "evt_15"}}, frame_id=None
    )
    assert preview is not None
    assert preview.id is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('"text"', "expected a JSON object, got str"),
        ({"type": "agent.message", "content": 5}, "content"),
        ({"type": "agent.message", "content": [{"type": "text", "text": 4}]}, "content"),
        ({"type": "agent.tool_use", "name": "bash", "input": "ls"}, "input"),
        ({"type": "span.model_request_end", "model_usage": {"input_tokens": "12"}}, "input_tokens"),
        ({"type": "span.model_request_end", "is_error": "no"}, "is_error"),
        (
            {
                "type": "session.status_idle",
                "stop_reason": {"type": "requires_action", "event_ids": "evt_1"},
            },
            "stop_reason",
        ),
        ({"type": "agent.message", "id": 7}, "id"),
    ],
)
def test_malformed_frames_become_values_with_a_reason(
    data: Any, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="qoder.protocol"):
        event = decode(data, event="agent.message", frame_id="evt_77")
    assert isinstance(event, e.MalformedEvent)
    assert event.id == "evt_77"
    assert reason in event.reason
    assert event.data == (data if isinstance(data, str) else json.dumps(data))
    assert len([r for r in caplog.records if "malformed" in r.getMessage()]) == 1


def test_oversized_frame_is_reported_not_dropped() -> None:
    decoder = SSEDecoder(max_frame_bytes=64)
    frames = decoder.feed(b"id: evt_5\nevent: agent.message\ndata: " + b"x" * 200 + b"\n\n")
    event = decode_frame(frames[0])
    assert isinstance(event, e.MalformedEvent)
    assert event.oversized
    assert (event.id, event.type) == ("evt_5", "agent.message")


@pytest.mark.parametrize("name", ["heartbeat", "ping"])
def test_keepalives_and_done_are_not_events(name: str) -> None:
    assert decode({}, event=name) is None
    assert decode("[DONE]") is None


def test_in_band_error_frames_are_stream_failures() -> None:
    failure = decode(
        {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, event="error"
    )
    assert isinstance(failure, e.StreamErrorFrame)
    assert failure.message == "busy"
    typed = decode({"type": "error", "error": "bad"})
    assert isinstance(typed, e.StreamErrorFrame)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=64))
def test_random_bytes_give_events_or_malformed_values_never_an_exception(
    data: bytes, chunk: int
) -> None:
    decoder = SSEDecoder(max_frame_bytes=256)
    for start in range(0, len(data), chunk):
        for item in decoder.feed(data[start : start + chunk]):
            event = decode_frame(item)
            assert event is None or hasattr(event, "raw")


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=10,
    ),
    st.sampled_from([cls for _, cls, _ in CANONICAL]),
)
def test_any_json_under_a_known_type_is_typed_or_malformed(value: Any, cls: type[Any]) -> None:
    wire = {
        "type": cls.type,
        "content": value,
        "input": value,
        "stop_reason": value,
        "error": value,
        "model_usage": value,
    }
    event = decode(wire)
    assert isinstance(event, (cls, e.MalformedEvent))


def test_recorded_rest_events_decode() -> None:
    """The documented list and send responses (vectors/real) hold events this client reads."""
    contracts = json.loads((VECTORS / "ts-managed-api-contracts.sessions-excerpt.json").read_text())
    by_id = {item["id"]: item["response"] for item in contracts}
    items = by_id["sessions.events.list"]["data"] + by_id["sessions.events.send"]["data"]
    decoded = [structure_event(item) for item in items]
    assert [type(ev) for ev in decoded] == [
        e.UserMessageEvent,
        e.AgentMessageEvent,
        e.UserMessageEvent,
    ]
    reply = cast(e.AgentMessageEvent, decoded[1])  # its type is asserted just above
    assert reply.content == (b.TextBlock("Hello! How can I help you today?"),)
    assert all(ev.turn_id is None for ev in decoded)  # §1.1: no recorded event carries turn_id


def test_recorded_stream_decodes() -> None:
    """The cookbook's real stream: credits-only usage, no turn_id, redacted ids."""
    decoder = SSEDecoder()
    raw = (VECTORS / "cookbook-quickstart-stream.sse").read_bytes()
    events = [decode_frame(f) for f in decoder.feed(raw + b"\n\n")]
    assert [type(ev) for ev in events] == [
        e.AgentMessageEvent,
        e.SpanModelRequestEnd,
        e.SessionStatusIdle,
    ]
    usage = events[1].effective_usage  # type: ignore[union-attr]
    assert usage == e.ModelUsage(credits=4.05)
    assert usage.input_tokens is None  # absent, not zero
