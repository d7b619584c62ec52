"""The turn state machine, fed with plain calls (PROTOCOL.md §6, both appendices, §7)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoder._protocol.blocks import TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from qoder._protocol.convert import decode_frame, structure_event
from qoder._protocol.events import (
    AgentMCPToolUse,
    AgentToolUse,
    Event,
    MalformedEvent,
    StreamErrorFrame,
)
from qoder._protocol.messages import (
    AssistantMessage,
    Message,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    Usage,
    UserMessage,
)
from qoder._protocol.sse import SSEDecoder
from qoder._protocol.turn import (
    AskPermission,
    Conversation,
    Deliver,
    Output,
    RunCustomTool,
    TurnComplete,
    TurnState,
)
from qoder.errors import ClientStateError
from tests.conftest import VECTORS

# --- helpers -------------------------------------------------------------------------------------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def text(value: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": value}]


def ev(kind: str, event_id: str | None = None, turn: str | None = None, **fields: Any) -> Event:
    """A typed event from its wire fields."""
    data: dict[str, Any] = {"type": kind, **fields}
    if event_id is not None:
        data["id"] = event_id
    if turn is not None:
        data["turn_id"] = turn
    return structure_event(data)


def reply(*items: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(items)}


def item(kind: str, event_id: str, turn: str | None = None, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": event_id, "type": kind, **fields}
    if turn is not None:
        data["turn_id"] = turn
    return data


def strip_turn_ids(value: Any) -> Any:
    """The same wire data with every ``turn_id`` removed (§1.1)."""
    if isinstance(value, dict):
        return {k: strip_turn_ids(v) for k, v in value.items() if k != "turn_id"}
    if isinstance(value, (list, tuple)):
        return type(value)(strip_turn_ids(v) for v in value)
    return value


def sse(*objects: dict[str, Any]) -> bytes:
    """Stream bytes, one frame per object, as the server writes them (§3.11)."""
    out = []
    for obj in objects:
        head = f"id: {obj['id']}\n" if "id" in obj else ""
        data = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        out.append(f"{head}event: {obj['type']}\ndata: {data}\n\n")
    return "".join(out).encode()


def feed(conv: Conversation, data: bytes, decoder: SSEDecoder | None = None) -> list[Output]:
    """Decode stream bytes and hand the events to the conversation at once, as a facade does
    with a chunk (:meth:`Conversation.on_events`; ``feed_events`` hands them one by one)."""
    decoder = decoder or SSEDecoder()
    events = []
    for frame in decoder.feed(data):
        event = decode_frame(frame)
        if event is not None and not isinstance(event, StreamErrorFrame):
            events.append((event, frame.id))
    return conv.on_events(events)


def feed_events(conv: Conversation, events: Iterable[dict[str, Any] | Event]) -> list[Output]:
    out: list[Output] = []
    for obj in events:
        event = structure_event(obj) if isinstance(obj, dict) else obj
        out += conv.on_event(event, frame_id=event.id)
    return out


def delivered(outputs: Sequence[Output]) -> list[Message]:
    return [o.message for o in outputs if isinstance(o, Deliver)]


def result_of(outputs: Sequence[Output]) -> ResultMessage:
    """The result that ends ``outputs``, checking the one rule: Deliver(r), TurnComplete(r)."""
    assert len(outputs) >= 2
    last, before = outputs[-1], outputs[-2]
    assert isinstance(last, TurnComplete)
    assert before == Deliver(last.result)
    assert sum(isinstance(o, TurnComplete) for o in outputs) == 1
    return last.result


def texts(messages: Iterable[Message]) -> list[str]:
    return [
        block.text
        for m in messages
        if isinstance(m, AssistantMessage)
        for block in m.content
        if isinstance(block, TextBlock)
    ]


def new(clock: Clock | None = None, **kwargs: Any) -> Conversation:
    kwargs.setdefault("session_id", "sess_01")
    return Conversation(clock=clock or Clock(), **kwargs)


def run_turn(
    conv: Conversation, post_reply: dict[str, Any], events: Iterable[dict[str, Any] | Event]
) -> list[Output]:
    conv.begin_turn()
    out = conv.on_post_reply(post_reply)
    return out + feed_events(conv, events)


# --- Appendix A ----------------------------------------------------------------------------------

A_REPLY_1 = reply(
    item(
        "user.message",
        "evt_01",
        "turn_01",
        content=text("What is 2+2?"),
        session_id="sess_01",
        processed_at="2026-05-18T03:40:48.888Z",
        schema_version="1.0",
    )
)
A_TURN_1 = [
    item("user.message", "evt_01", "turn_01", content=text("What is 2+2?")),
    item("session.status_running", "evt_02", "turn_01"),
    item("span.model_request_start", "evt_03", "turn_01", model="ultimate"),
    item("agent.message", "evt_04", "turn_01", content=text("4")),
    item(
        "span.model_request_end",
        "evt_05",
        "turn_01",
        model_request_start_id="evt_03",
        is_error=False,
        model_usage={"input_tokens": 12, "output_tokens": 1, "credits": 0.02},
    ),
    item("session.status_idle", "evt_06", "turn_01", stop_reason={"type": "end_turn"}),
]
A_REPLY_2 = reply(
    item("user.message", "evt_07", "turn_02", content=text("Multiply it by 10 with bash."))
)
A_TURN_2 = [
    item("user.message", "evt_07", "turn_02", content=text("Multiply it by 10 with bash.")),
    item("session.status_running", "evt_08", "turn_02"),
    item("span.model_request_start", "evt_09", "turn_02", model="ultimate"),
    item("agent.message", "evt_10", "turn_02", content=text("Running it. ")),
    item(
        "agent.tool_use",
        "evt_11",
        "turn_02",
        name="bash",
        input={"command": "echo $((4*10))"},
        evaluated_permission="allow",
    ),
    item(
        "span.model_request_end",
        "evt_12",
        "turn_02",
        model_request_start_id="evt_09",
        is_error=False,
        model_usage={"input_tokens": 30, "output_tokens": 20, "credits": 0.05},
    ),
    item("agent.tool_result", "evt_13", "turn_02", tool_use_id="evt_11", content=text("40")),
    item("span.model_request_start", "evt_14", "turn_02", model="ultimate"),
    item("agent.message", "evt_15", "turn_02", content=text("The answer is 40.")),
    item(
        "span.model_request_end",
        "evt_16",
        "turn_02",
        model_request_start_id="evt_14",
        is_error=False,
        model_usage={"input_tokens": 45, "output_tokens": 6, "credits": 0.03},
    ),
    item("session.status_idle", "evt_17", "turn_02", stop_reason={"type": "end_turn"}),
]


def appendix_a(with_turn_ids: bool) -> tuple[Any, Any, Any, Any]:
    data = (A_REPLY_1, A_TURN_1, A_REPLY_2, A_TURN_2)
    return data if with_turn_ids else strip_turn_ids(data)


@pytest.mark.parametrize("with_turn_ids", [True, False], ids=["turn_ids", "no_turn_ids"])
def test_appendix_a_two_turns_with_a_dropped_stream(with_turn_ids: bool) -> None:
    reply_1, turn_1, reply_2, turn_2 = appendix_a(with_turn_ids)
    clock = Clock()
    conv = new(clock)
    decoder = SSEDecoder()

    conv.begin_turn()
    assert conv.state is TurnState.PENDING
    out = conv.on_post_reply(reply_1)
    assert out == []
    # mypy keeps an assert's narrowing of conv.state (or conv.turn_ids) across the calls that
    # change it: the type: ignore comments on such re-reads, here and below, silence that alone.
    assert conv.state is TurnState.ACTIVE  # type: ignore[comparison-overlap]
    out = feed(conv, b": ok\n\n" + sse(*turn_1) + b"event: heartbeat\ndata: {}\n\n", decoder)  # type: ignore[unreachable]
    clock.now += 1.5
    first = result_of(out)
    assert texts(delivered(out)) == ["4"]
    assert [type(m) for m in delivered(out)] == [AssistantMessage, ResultMessage]
    assert delivered(out)[0] == AssistantMessage(
        (TextBlock("4"),),
        model="ultimate",
        uuid="evt_04",
        session_id="sess_01",
        turn_id="turn_01" if with_turn_ids else None,
    )
    assert (first.result, first.stop_reason, first.is_error, first.subtype) == (
        "4",
        "end_turn",
        False,
        "success",
    )
    assert first.usage == Usage(input_tokens=12, output_tokens=1)
    assert first.total_credits == pytest.approx(0.02)
    assert first.num_turns == 1
    assert first.turn_ids == (("turn_01",) if with_turn_ids else ())
    assert conv.cursor == "evt_06"
    assert conv.state is TurnState.IDLE

    conv.begin_turn()
    clock.now += 2.0
    out = conv.on_post_reply(reply_2)
    # The connection resets mid-frame: the partial evt_12 frame is discarded (§5 rule 7).
    out += feed(conv, sse(*turn_2[:5]) + b"id: evt_12\nevent: span.model_req", decoder)
    assert decoder.flush() == []
    assert conv.cursor == "evt_11"
    assert conv.state is TurnState.ACTIVE
    # Reconnect with Last-Event-ID: evt_11; this server sends evt_11 again: dropped.
    out += feed(conv, sse(*turn_2[4:]), decoder)
    second = result_of(out)
    messages = delivered(out)
    assert texts(messages) == ["Running it. ", "The answer is 40."]
    assert [type(m) for m in messages] == [
        AssistantMessage,
        AssistantMessage,
        UserMessage,
        AssistantMessage,
        ResultMessage,
    ]
    tool_use = messages[1]
    assert isinstance(tool_use, AssistantMessage)
    assert tool_use.content == (
        ToolUseBlock(
            id="evt_11",
            name="bash",
            input={"command": "echo $((4*10))"},
            kind="builtin",
            evaluated_permission="allow",
        ),
    )
    assert messages[2] == UserMessage(
        (ToolResultBlock(tool_use_id="evt_11", content=(TextBlock("40"),)),),
        uuid="evt_13",
        session_id="sess_01",
        turn_id="turn_02" if with_turn_ids else None,
    )
    assert second.result == "Running it. The answer is 40."
    assert second.usage == Usage(input_tokens=75, output_tokens=26)
    assert second.model_usage == {"ultimate": Usage(input_tokens=75, output_tokens=26)}
    assert second.total_credits == pytest.approx(0.08)
    assert second.num_model_requests == 2
    assert second.stop_reason == "end_turn"
    assert second.terminal_reason == "end_turn"
    assert second.num_turns == 2
    assert second.duration_ms == 2000
    assert second.session_id == "sess_01"
    assert conv.cursor == "evt_17"


@pytest.mark.parametrize("with_turn_ids", [True, False], ids=["turn_ids", "no_turn_ids"])
def test_appendix_a_reconnect_without_cursor_replays_history_harmlessly(
    with_turn_ids: bool,
) -> None:
    reply_1, turn_1, reply_2, turn_2 = appendix_a(with_turn_ids)
    conv = new()
    run_turn(conv, reply_1, turn_1)
    out = run_turn(conv, reply_2, turn_2[:5])
    # §6.6: a 400 on the cursor reconnects once without one: the whole history comes again.
    out += feed(conv, sse(*turn_1, *turn_2))
    result = result_of(out)
    assert texts(delivered(out)) == ["Running it. ", "The answer is 40."]
    assert result.result == "Running it. The answer is 40."
    assert result.usage == Usage(input_tokens=75, output_tokens=26)


# --- Appendix B ----------------------------------------------------------------------------------

B_REPLY = reply(item("user.message", "evt_21", "turn_21", content=text("Weather in Paris?")))
B_BEFORE = [
    item("user.message", "evt_21", "turn_21", content=text("Weather in Paris?")),
    item("session.status_running", "evt_22", "turn_21"),
    item("span.model_request_start", "evt_23", "turn_21", model="ultimate"),
    item("agent.custom_tool_use", "evt_24", "turn_21", name="get_weather", input={"city": "Paris"}),
    item(
        "span.model_request_end",
        "evt_25",
        "turn_21",
        model_request_start_id="evt_23",
        is_error=False,
        model_usage={"input_tokens": 40, "output_tokens": 15, "credits": 0.03},
    ),
    item(
        "session.status_idle",
        "evt_26",
        "turn_21",
        stop_reason={"type": "requires_action", "event_ids": ["evt_24"]},
    ),
]
B_ANSWER_REPLY = reply(
    item(
        "user.custom_tool_result",
        "evt_27",
        "turn_21",
        custom_tool_use_id="evt_24",
        content=text("18°C, sunny"),
    )
)
B_AFTER = [
    item(
        "user.custom_tool_result",
        "evt_27",
        "turn_21",
        custom_tool_use_id="evt_24",
        content=text("18°C, sunny"),
    ),
    item("session.status_running", "evt_28", "turn_21"),
    item("span.model_request_start", "evt_29", "turn_21", model="ultimate"),
    item("agent.message", "evt_30", "turn_21", content=text("It is 18°C and sunny in Paris.")),
    item(
        "span.model_request_end",
        "evt_31",
        "turn_21",
        model_request_start_id="evt_29",
        is_error=False,
        model_usage={"input_tokens": 70, "output_tokens": 12, "credits": 0.04},
    ),
    item("session.status_idle", "evt_32", "turn_21", stop_reason={"type": "end_turn"}),
]


def appendix_b(with_turn_ids: bool) -> tuple[Any, Any, Any, Any]:
    data = (B_REPLY, B_BEFORE, B_ANSWER_REPLY, B_AFTER)
    return data if with_turn_ids else strip_turn_ids(data)


def check_appendix_b_result(result: ResultMessage, with_turn_ids: bool) -> None:
    assert result.result == "It is 18°C and sunny in Paris."
    assert result.usage == Usage(input_tokens=110, output_tokens=27)
    assert result.total_credits == pytest.approx(0.07)
    assert result.num_model_requests == 2
    assert (result.stop_reason, result.is_error, result.subtype) == ("end_turn", False, "success")
    assert result.pending_tool_uses == ()
    assert result.turn_ids == (("turn_21",) if with_turn_ids else ())


@pytest.mark.parametrize("with_turn_ids", [True, False], ids=["turn_ids", "no_turn_ids"])
def test_appendix_b_custom_tool_with_a_handler(with_turn_ids: bool) -> None:
    post_reply, before, answer_reply, after = appendix_b(with_turn_ids)
    conv = new(custom_tool_names={"get_weather"})
    conv.begin_turn()
    out = conv.on_post_reply(post_reply) + feed(conv, sse(*before))
    assert conv.state is TurnState.WAITING_FOR_ANSWERS
    assert conv.awaiting_answers == {"evt_24"}
    assert not any(isinstance(o, TurnComplete) for o in out)
    action = out[-1]
    assert isinstance(action, RunCustomTool)
    assert action.tool_use_id == "evt_24"
    assert (action.event.name, action.event.input) == ("get_weather", {"city": "Paris"})
    tool_call = delivered(out)[0]
    assert isinstance(tool_call, AssistantMessage)
    assert tool_call.content == (
        ToolUseBlock(id="evt_24", name="get_weather", input={"city": "Paris"}, kind="custom"),
    )

    assert conv.on_answer_reply(answer_reply) == []
    assert conv.state is TurnState.ACTIVE  # type: ignore[comparison-overlap]
    out = feed(conv, sse(*after))  # type: ignore[unreachable]
    check_appendix_b_result(result_of(out), with_turn_ids)
    assert texts(delivered(out)) == ["It is 18°C and sunny in Paris."]


@pytest.mark.parametrize("with_turn_ids", [True, False], ids=["turn_ids", "no_turn_ids"])
def test_appendix_b_answer_echo_before_its_reply(with_turn_ids: bool) -> None:
    post_reply, before, answer_reply, after = appendix_b(with_turn_ids)
    conv = new(custom_tool_names={"get_weather"})
    conv.begin_turn()
    conv.on_post_reply(post_reply)
    feed(conv, sse(*before))
    out = feed(conv, sse(*after[:3]))  # the stream outruns the POST reply
    assert conv.state is TurnState.ACTIVE  # the echo names the call it answers
    conv.on_answer_reply(answer_reply)
    out += feed(conv, sse(*after[3:]))
    check_appendix_b_result(result_of(out), with_turn_ids)


@pytest.mark.parametrize("with_turn_ids", [True, False], ids=["turn_ids", "no_turn_ids"])
def test_appendix_b_without_a_handler_completes_with_requires_action(with_turn_ids: bool) -> None:
    post_reply, before, answer_reply, after = appendix_b(with_turn_ids)
    conv = new()
    conv.begin_turn()
    out = conv.on_post_reply(post_reply) + feed(conv, sse(*before))
    first = result_of(out)
    assert (first.stop_reason, first.terminal_reason, first.is_error, first.subtype) == (
        "requires_action",
        "requires_action",
        False,
        "success",
    )
    assert first.pending_tool_uses == (
        ToolUseBlock(id="evt_24", name="get_weather", input={"city": "Paris"}, kind="custom"),
    )
    assert conv.state is TurnState.IDLE

    # The caller answers by hand and keeps reading the same logical turn.
    assert conv.respond_manually() == []
    assert conv.state is TurnState.ACTIVE  # type: ignore[comparison-overlap]
    conv.on_answer_reply(answer_reply)  # type: ignore[unreachable]
    out = feed(conv, sse(*after))
    final = result_of(out)
    check_appendix_b_result(final, with_turn_ids)
    assert final.num_turns == first.num_turns == 1
    assert texts(delivered(out)) == ["It is 18°C and sunny in Paris."]  # nothing re-delivered


@pytest.mark.parametrize("with_turn_ids", [True, False], ids=["turn_ids", "no_turn_ids"])
def test_manual_answer_events_read_before_respond_manually_are_kept(with_turn_ids: bool) -> None:
    post_reply, before, _, after = appendix_b(with_turn_ids)
    conv = new()
    run_turn(conv, post_reply, before)
    assert feed(conv, sse(*after)) == []  # IDLE: nothing delivered yet, but kept
    out = conv.respond_manually()
    check_appendix_b_result(result_of(out), with_turn_ids)
    assert texts(delivered(out)) == ["It is 18°C and sunny in Paris."]


def test_respond_manually_needs_a_requires_action_turn() -> None:
    conv = new()
    with pytest.raises(ClientStateError, match="requires_action"):
        conv.respond_manually()
    _, turn_1, _, _ = appendix_a(True)
    run_turn(conv, A_REPLY_1, turn_1)
    with pytest.raises(ClientStateError, match="requires_action"):
        conv.respond_manually()


def test_a_new_query_drops_the_parked_turn() -> None:
    conv = new()
    run_turn(conv, B_REPLY, B_BEFORE)
    conv.begin_turn()
    conv.abort_turn()
    with pytest.raises(ClientStateError):
        conv.respond_manually()


def test_partial_manual_answers_end_the_turn_again_with_the_rest() -> None:
    conv = new()
    calls = [
        item("agent.custom_tool_use", "evt_24", "t1", name="a", input={}),
        item("agent.custom_tool_use", "evt_25", "t1", name="b", input={}),
        item(
            "session.status_idle",
            "evt_26",
            "t1",
            stop_reason={"type": "requires_action", "event_ids": ["evt_24", "evt_25"]},
        ),
    ]
    out = run_turn(conv, reply(item("user.message", "evt_20", "t1")), calls)
    assert [b.id for b in result_of(out).pending_tool_uses] == ["evt_24", "evt_25"]
    conv.respond_manually()
    conv.on_answer_reply(
        reply(item("user.custom_tool_result", "evt_27", "t1", custom_tool_use_id="evt_24"))
    )
    out = feed_events(
        conv,
        [
            item("user.custom_tool_result", "evt_27", "t1", custom_tool_use_id="evt_24"),
            item(
                "session.status_idle",
                "evt_28",
                "t1",
                stop_reason={"type": "requires_action", "event_ids": ["evt_25"]},
            ),
        ],
    )
    assert [b.id for b in result_of(out).pending_tool_uses] == ["evt_25"]


# --- permissions and mixed requires_action -------------------------------------------------------

ASK = [
    item("user.message", "evt_40", "t4"),
    item("agent.tool_use", "evt_41", "t4", name="bash", input={"command": "rm -rf x"},
         evaluated_permission="ask"),
    item("agent.mcp_tool_use", "evt_42", "t4", name="search", mcp_server_name="github",
         input={"q": "bug"}, evaluated_permission="ask"),
    item("session.status_idle", "evt_43", "t4",
         stop_reason={"type": "requires_action", "event_ids": ["evt_41", "evt_42"]}),
]  # fmt: skip


def test_permission_asks_go_to_can_use_tool_in_order() -> None:
    conv = new(handles_permissions=True)
    out = run_turn(conv, reply(item("user.message", "evt_40", "t4")), ASK)
    asks = [o for o in out if isinstance(o, AskPermission)]
    assert [(a.tool_use_id, type(a.event)) for a in asks] == [
        ("evt_41", AgentToolUse),
        ("evt_42", AgentMCPToolUse),
    ]
    assert out[-2:] == asks
    assert conv.state is TurnState.WAITING_FOR_ANSWERS
    mcp = delivered(out)[1]
    assert isinstance(mcp, AssistantMessage)
    assert mcp.content == (
        ToolUseBlock(
            id="evt_42",
            name="search",
            input={"q": "bug"},
            kind="mcp",
            server_name="github",
            evaluated_permission="ask",
        ),
    )
    conv.on_answer_reply(
        reply(item("user.tool_confirmation", "evt_44", "t4", tool_use_id="evt_41", result="allow"))
    )
    assert conv.awaiting_answers == {"evt_42"}
    # An interim idle naming the call still being answered asks nothing twice.
    interim = item(
        "session.status_idle",
        "evt_45",
        "t4",
        stop_reason={"type": "requires_action", "event_ids": ["evt_42"]},
    )
    assert feed_events(conv, [interim]) == []
    conv.on_answer_reply(
        reply(item("user.tool_confirmation", "evt_46", "t4", tool_use_id="evt_42", result="deny"))
    )
    assert conv.state is TurnState.ACTIVE  # type: ignore[comparison-overlap]
    done = item("session.status_idle", "evt_47", "t4", stop_reason={"type": "end_turn"})  # type: ignore[unreachable]
    assert result_of(feed_events(conv, [done])).subtype == "success"


def test_permission_asks_without_can_use_tool_complete_the_turn() -> None:
    conv = new(custom_tool_names={"search"})
    result = result_of(run_turn(conv, reply(item("user.message", "evt_40", "t4")), ASK))
    assert result.stop_reason == "requires_action"
    assert [(b.id, b.kind, b.evaluated_permission) for b in result.pending_tool_uses] == [
        ("evt_41", "builtin", "ask"),
        ("evt_42", "mcp", "ask"),
    ]


def test_one_call_without_a_handler_completes_the_turn_with_every_call_pending() -> None:
    conv = new(custom_tool_names={"get_weather"})
    events = [
        item("user.message", "evt_50", "t5"),
        item("agent.custom_tool_use", "evt_51", "t5", name="get_weather", input={}),
        item("agent.custom_tool_use", "evt_52", "t5", name="book_hotel", input={}),
        item(
            "session.status_idle",
            "evt_53",
            "t5",
            stop_reason={"type": "requires_action", "event_ids": ["evt_51", "evt_52", "evt_99"]},
        ),
    ]
    out = run_turn(conv, reply(item("user.message", "evt_50", "t5")), events)
    assert not any(isinstance(o, RunCustomTool) for o in out)
    result = result_of(out)
    assert [(b.id, b.name, b.kind) for b in result.pending_tool_uses] == [
        ("evt_51", "get_weather", "custom"),
        ("evt_52", "book_hotel", "custom"),
        ("evt_99", "", "unknown"),
    ]
    assert result.warnings == ("requires_action names evt_99, a call this turn never saw",)


def test_requires_action_listing_nothing_completes_the_turn() -> None:
    conv = new(custom_tool_names={"x"})
    idle = item("session.status_idle", "e2", "t", stop_reason={"type": "requires_action"})
    result = result_of(run_turn(conv, reply(item("user.message", "e1", "t")), [idle]))
    assert (result.stop_reason, result.pending_tool_uses) == ("requires_action", ())


def test_a_new_turn_id_after_a_tool_result_is_accepted() -> None:
    """§6.1: one logical turn may cover several turn ids."""
    conv = new(custom_tool_names={"get_weather"})
    run_turn(conv, B_REPLY, B_BEFORE)
    answer = reply(
        item("user.custom_tool_result", "evt_27", "turn_22", custom_tool_use_id="evt_24")
    )
    conv.on_answer_reply(answer)
    out = feed_events(conv, [{**obj, "turn_id": "turn_22"} for obj in B_AFTER])
    result = result_of(out)
    assert result.turn_ids == ("turn_21", "turn_22")
    assert result.result == "It is 18°C and sunny in Paris."


# --- §6.4: what ends a turn ----------------------------------------------------------------------

START = reply(item("user.message", "e0", "t1"))
ECHO = item("user.message", "e0", "t1")
SAY = item("agent.message", "e1", "t1", content=text("partial"))


def run_to_end(*events: dict[str, Any], conv: Conversation | None = None) -> list[Output]:
    return run_turn(conv or new(), START, [ECHO, SAY, *events])


@pytest.mark.parametrize(
    ("stop_reason", "terminal", "is_error", "subtype"),
    [
        ({"type": "end_turn"}, "end_turn", False, "success"),
        ({"type": "retries_exhausted"}, "retries_exhausted", True, "error_during_execution"),
        ({"type": "budget_reached"}, "budget_reached", True, "error_max_budget"),
        ({"type": "something_new"}, "something_new", False, "success"),
        (None, "end_turn", False, "success"),
    ],
)
def test_idle_ends_the_turn(
    stop_reason: dict[str, Any] | None, terminal: str, is_error: bool, subtype: str
) -> None:
    fields = {} if stop_reason is None else {"stop_reason": stop_reason}
    result = result_of(run_to_end(item("session.status_idle", "e9", "t1", **fields)))
    assert (result.terminal_reason, result.is_error, result.subtype) == (
        terminal,
        is_error,
        subtype,
    )
    assert result.stop_reason == (stop_reason or {}).get("type")
    assert result.result == "partial"


RETRYING = item(
    "session.error",
    "e5",
    "t1",
    error={
        "type": "model_overloaded_error",
        "message": "Model overloaded",
        "retry_status": {"type": "retrying"},
    },
)


def test_retrying_session_error_is_a_warning_and_a_system_message() -> None:
    out = run_to_end(
        RETRYING, item("session.status_idle", "e9", "t1", stop_reason={"type": "end_turn"})
    )
    result = result_of(out)
    assert not result.is_error
    assert result.warnings == (
        "session.error model_overloaded_error (server retrying): Model overloaded",
    )
    notices = [m for m in delivered(out) if isinstance(m, SystemMessage)]
    assert [(n.subtype, n.data["id"]) for n in notices] == [("session_error", "e5")]


def test_retrying_errors_then_an_idle_without_stop_reason_is_an_error() -> None:
    result = result_of(run_to_end(RETRYING, item("session.status_idle", "e9", "t1")))
    assert result.is_error
    assert "Model overloaded" in result.errors[0]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ({"type": "x", "message": "gave up", "retry_status": {"type": "exhausted"}}, "gave up"),
        ({"type": "x", "message": "fatal", "retry_status": {"type": "terminal"}}, "fatal"),
        ({"type": "x", "message": "no status"}, "no status"),
        ({"type": "x", "message": "odd", "retry_status": {"type": "wobbly"}}, "odd"),
        ("a legacy string", "a legacy string"),
        ({"type": "billing_error"}, "the session failed (billing_error)"),
    ],
)
def test_terminal_session_errors_end_the_turn(error: Any, message: str) -> None:
    conv = new()
    out = run_to_end(item("session.error", "e5", "t1", error=error), conv=conv)
    result = result_of(out)
    assert (result.terminal_reason, result.is_error, result.subtype) == (
        "session_error",
        True,
        "error_during_execution",
    )
    assert result.errors == (message,)
    assert result.stop_reason is None
    assert result.result == "partial"
    messages = delivered(out)
    assert isinstance(messages[-2], SystemMessage)
    assert messages[-2].subtype == "session_error"
    # A later idle of the same turn is swallowed.
    late = item("session.status_idle", "e6", "t1", stop_reason={"type": "end_turn"})
    assert feed_events(conv, [late]) == []
    assert conv.state is TurnState.IDLE


@pytest.mark.parametrize(
    ("event", "terminal", "message"),
    [
        (item("session.status_terminated", "e7"), "terminated", "the session was terminated"),
        (item("terminated", "e7", reason="idle"), "terminated", "the session was terminated: idle"),
        (item("session.deleted", "e7"), "deleted", "the session was deleted"),
    ],
)
def test_termination_and_deletion_end_the_turn_and_the_session(
    event: dict[str, Any], terminal: str, message: str
) -> None:
    conv = new()
    result = result_of(run_to_end(event, conv=conv))
    assert (result.terminal_reason, result.is_error, result.errors) == (terminal, True, (message,))
    assert conv.state is TurnState.ENDED
    assert conv.session_end == terminal
    with pytest.raises(ClientStateError, match="create a new session"):
        conv.begin_turn()


def test_session_ending_events_end_the_turn_whatever_their_turn_id() -> None:
    fatal = {"type": "x", "message": "fatal", "retry_status": {"type": "terminal"}}
    for event in (
        item("session.status_terminated", "e7", "t_other"),
        item("session.error", "e7", "t_other", error=fatal),
    ):
        assert result_of(run_to_end(event)).is_error


def test_an_exhausted_error_of_another_turn_is_not_ours() -> None:
    other = item("session.error", "e7", "t0", error={"message": "old", "retry_status": "exhausted"})
    assert run_to_end(other) == [
        Deliver(
            AssistantMessage((TextBlock("partial"),), uuid="e1", session_id="sess_01", turn_id="t1")
        )
    ]


def test_stream_lost_ends_the_turn() -> None:
    conv = new()
    out = run_to_end(conv=conv)
    assert conv.state is TurnState.ACTIVE
    result = result_of(conv.on_stream_lost("6 reconnects without progress"))
    assert (result.terminal_reason, result.is_error, result.errors, result.result) == (
        "stream_lost",
        True,
        ("6 reconnects without progress",),
        "partial",
    )
    assert texts(delivered(out)) == ["partial"]
    assert conv.on_stream_lost("again") == []


def test_non_terminal_events_keep_the_turn_going() -> None:
    conv = new()
    out = run_to_end(
        item("session.status_rescheduled", "e2", "t1"),
        item("session.status_running", "e3", "t1"),
        item("session.updated", "e4", "t1"),
        item("session.usage", "e5", "t1", total_credits=99),
        conv=conv,
    )
    assert conv.state is TurnState.ACTIVE
    notices = [m for m in delivered(out) if isinstance(m, SystemMessage)]
    assert [(n.subtype, n.data) for n in notices] == [
        ("status_rescheduled", {"id": "e2", "type": "session.status_rescheduled", "turn_id": "t1"})
    ]


def test_fail_turn_ends_it_with_a_client_error() -> None:
    conv = new()
    run_to_end(conv=conv)
    result = result_of(conv.fail_turn("the answer POST failed: 400"))
    assert (result.terminal_reason, result.errors) == (
        "client_error",
        ("the answer POST failed: 400",),
    )


# --- §6.5: result fields -------------------------------------------------------------------------


def test_result_fields_of_a_legacy_turn() -> None:
    clock = Clock()
    conv = new(clock)
    conv.begin_turn()
    clock.now += 0.25
    events = [
        item("user.message", "e0", "t1", processed_at="2026-05-18T03:40:48.000000001Z"),
        item("span.model_request_start", "e1", "t1", span_id="sp_1"),
        item("agent.message", "e2", "t1", content="Hi "),
        item("agent.message", "e3", "t1", content=text("other thread"), session_thread_id="sthr_1"),
        item("agent.message", "e4", "t1",
             content=[{"type": "text", "text": "there"}, {"type": "redacted"}]),
        item("span.model_request_end", "e5", "t1", span_id="sp_1", model="legacy-1",
             usage={"input_tokens": 12, "output_tokens": 1, "cache_read_input_tokens": 0,
                    "server_tool_use": {"web_search_requests": 2}},
             total_cost_usd=0.0004),
        item("span.model_request_end", "e6", "t1", is_error=True,
             usage={"input_tokens": 3}, cost_usd=0.0001),
        item("session.status_idle", "e7", "t1", processed_at="2026-05-18T03:40:50.5Z"),
    ]  # fmt: skip
    out = conv.on_post_reply(START) + feed_events(conv, events)
    result = result_of(out)
    assert result.result == "Hi there"
    assert result.usage == Usage(
        input_tokens=15,
        output_tokens=1,
        cache_read_input_tokens=0,
        extra={"server_tool_use.web_search_requests": 2},
    )
    assert result.model_usage == {
        "legacy-1": Usage(
            input_tokens=12,
            output_tokens=1,
            cache_read_input_tokens=0,
            extra={"server_tool_use.web_search_requests": 2},
        ),
        "unknown": Usage(input_tokens=3),
    }
    assert result.total_cost_usd == pytest.approx(0.0005)
    assert result.total_credits is None
    assert result.num_model_requests == 2
    assert result.duration_ms == 250
    assert result.duration_api_ms == 2499
    assert result.stop_reason is None
    assert (result.terminal_reason, result.is_error, result.subtype) == (
        "end_turn",
        False,
        "success",
    )
    assert result.session_id == "sess_01"
    assert result.turn_ids == ("t1",)
    assert result.num_turns == 1
    assert result.errors == result.warnings == ()


def test_num_turns_counts_posted_user_turns() -> None:
    conv = new()
    idle = item("session.status_idle", "x", stop_reason={"type": "end_turn"})
    counts = []
    for n in range(3):
        conv.begin_turn()
        if n == 1:
            conv.abort_turn()  # never posted: not a turn
            continue
        conv.on_post_reply(reply(item("user.message", f"m{n}")))
        echo = item("user.message", f"m{n}")
        counts.append(result_of(feed_events(conv, [echo, {**idle, "id": f"i{n}"}])).num_turns)
    assert counts == [1, 2]
    assert conv.num_turns == 2


def test_messages_carry_model_thinking_and_mcp_results() -> None:
    events = [
        ECHO,
        item("span.model_request_start", "e2", "t1", model="ultimate"),
        item("agent.thinking", "e3", "t1"),
        item("agent.thinking", "e4", "t1", content="hmm"),
        item("agent.mcp_tool_result", "e5", "t1", mcp_tool_use_id="e9", content="3 hits",
             is_error=True),
        item("agent.tool_result", "e6", "t1", tool_use_id="e8", output="legacy"),
        item("mystery.event", "e7", "t1"),
    ]  # fmt: skip
    out = run_turn(new(), START, events)
    assert delivered(out) == [
        AssistantMessage(
            (ThinkingBlock(""),), model="ultimate", uuid="e3", session_id="sess_01", turn_id="t1"
        ),
        AssistantMessage(
            (ThinkingBlock("hmm"),), model="ultimate", uuid="e4", session_id="sess_01", turn_id="t1"
        ),
        UserMessage(
            (ToolResultBlock("e9", (TextBlock("3 hits"),), True),),
            uuid="e5",
            session_id="sess_01",
            turn_id="t1",
        ),
        UserMessage(
            (ToolResultBlock("e8", (TextBlock("legacy"),)),),
            uuid="e6",
            session_id="sess_01",
            turn_id="t1",
        ),
    ]


def test_messages_of_a_turn_without_turn_ids_get_the_learnt_one() -> None:
    conv = new()
    conv.begin_turn()
    conv.on_post_reply(reply(item("user.message", "e0", "t1")))
    out = feed_events(conv, [item("user.message", "e0"), item("agent.message", "e1", content="x")])
    message = delivered(out)[0]
    assert isinstance(message, AssistantMessage)
    assert message.turn_id == "t1"


# --- previews, malformed frames, cursor ----------------------------------------------------------

PREVIEW_START = {"type": "event_start", "event": {"type": "agent.message", "id": "e1"}}
PREVIEW_DELTA = {
    "type": "event_delta",
    "event_id": "e1",
    "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "par"}},
}


@pytest.mark.parametrize("partial", [True, False])
def test_previews_are_stream_events_only_when_asked_for(partial: bool) -> None:
    conv = new(include_partial_messages=partial)
    run_turn(conv, START, [ECHO])
    out = feed(conv, sse(PREVIEW_START, PREVIEW_DELTA, PREVIEW_DELTA))
    assert conv.cursor == "e0"  # previews never move the cursor
    message = {"id": "e1", "type": "message", "role": "assistant", "content": []}
    delta = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "par"},
    }
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    expected = [
        StreamEvent(
            "e1", "sess_01", {"type": "message_start", "message": message}, preview=PREVIEW_START
        ),
        StreamEvent("e1", "sess_01", block),
        StreamEvent("e1", "sess_01", delta, preview=PREVIEW_DELTA),
        StreamEvent("e1", "sess_01", delta, preview=PREVIEW_DELTA),  # never deduped
    ]
    assert delivered(out) == (expected if partial else [])
    out = feed(conv, sse(SAY, item("session.status_idle", "e9", "t1")))
    stops = [
        StreamEvent("e1", "sess_01", {"type": "content_block_stop", "index": 0}),
        StreamEvent("e1", "sess_01", {"type": "message_stop"}),
    ]
    assert [m for m in delivered(out) if isinstance(m, StreamEvent)] == (stops if partial else [])
    assert result_of(out).result == "partial"  # previews never count


def test_thinking_previews_and_unfinished_ones_end_as_the_official_events_do() -> None:
    conv = new(include_partial_messages=True)
    run_turn(conv, START, [ECHO])
    thinking = {"type": "event_start", "event": {"type": "agent.thinking", "id": "e2"}}
    orphan = {**PREVIEW_DELTA, "event_id": "e3"}  # its start was never seen
    out = feed(conv, sse(thinking, orphan))
    out += feed(conv, sse(item("span.model_request_end", "e4", "t1")))
    kinds = [(m.uuid, m.event["type"]) for m in delivered(out) if isinstance(m, StreamEvent)]
    assert kinds == [
        ("e2", "message_start"),
        ("e2", "content_block_start"),
        ("e3", "message_start"),
        ("e3", "content_block_start"),
        ("e3", "content_block_delta"),
        ("", "content_block_stop"),
        ("", "message_stop"),
        ("", "content_block_stop"),
        ("", "message_stop"),
    ]
    starts = [m.event for m in delivered(out) if isinstance(m, StreamEvent)]
    assert starts[1]["content_block"] == {"type": "thinking", "thinking": ""}


def test_previews_of_an_earlier_turn_are_not_delivered() -> None:
    conv = new(include_partial_messages=True)
    conv.begin_turn()
    conv.on_post_reply(strip_turn_ids(START))
    assert feed(conv, sse(PREVIEW_START)) == []  # before our echo
    assert delivered(feed(conv, sse(strip_turn_ids(ECHO), PREVIEW_START))) != []


def test_malformed_events_move_the_cursor_and_warn_inside_a_turn() -> None:
    conv = new()
    run_turn(conv, START, [ECHO])
    out = feed(conv, b"id: e3\nevent: agent.message\ndata: {not json\n\n")
    assert out == []
    assert conv.cursor == "e3"
    out = feed(
        conv, b'id: e4\nevent: agent.message\ndata: {"type":"agent.message","content":7}\n\n'
    )
    assert conv.cursor == "e4"
    out += feed(conv, sse(item("session.status_idle", "e9", "t1")))
    warnings = result_of(out).warnings
    assert len(warnings) == 2
    assert warnings[0].startswith("malformed agent.message frame (id e3): invalid JSON")
    assert warnings[1].startswith("malformed agent.message frame (id e4): ")


def test_a_malformed_frame_is_deduped_like_any_other() -> None:
    conv = new()
    run_turn(conv, START, [ECHO])
    bad = MalformedEvent(type="agent.message", id="e3", data="{", reason="invalid JSON")
    conv.on_event(bad, frame_id="e3")
    conv.on_event(bad, frame_id="e3")
    result = result_of(feed_events(conv, [item("session.status_idle", "e9", "t1")]))
    assert len(result.warnings) == 1


def test_stream_error_frames_are_ignored_without_moving_the_cursor() -> None:
    conv = new()
    run_turn(conv, START, [ECHO])
    assert conv.on_event(StreamErrorFrame(id="e5", message="boom"), frame_id="e5") == []
    assert conv.cursor == "e0"
    assert feed(conv, b'event: error\ndata: {"type":"error","error":{"message":"x"}}\n\n') == []
    assert feed(conv, b"event: heartbeat\ndata: {}\n\n: comment\n\n") == []
    assert conv.cursor == "e0"


def test_the_cursor_starts_where_it_is_told_and_falls_back_to_the_event_id() -> None:
    conv = new(cursor="evt_00")
    assert conv.cursor == "evt_00"
    conv.on_event(ev("session.status_running", "evt_01"))
    assert conv.cursor == "evt_01"
    conv.on_event(ev("session.status_running", "evt_01b"), frame_id="evt_02")
    assert conv.cursor == "evt_02"
    conv.on_event(ev("session.status_running"), frame_id=None)  # no id at all: handled, no move
    assert conv.cursor == "evt_02"
    conv.cursor = "evt_50"
    assert conv.cursor == "evt_50"


# --- §6.3: correlation and buffering -------------------------------------------------------------


@pytest.mark.parametrize("with_turn_ids", [True, False], ids=["turn_ids", "no_turn_ids"])
@pytest.mark.parametrize("cut", [0, 1, 3, 6, 11])
def test_events_before_the_post_reply_are_buffered(with_turn_ids: bool, cut: int) -> None:
    reply_1, turn_1, reply_2, turn_2 = appendix_a(with_turn_ids)
    conv = new()
    run_turn(conv, reply_1, turn_1)
    conv.begin_turn()
    out = feed(conv, sse(*turn_2[:cut]))
    assert out == []
    assert conv.state is TurnState.PENDING
    out = conv.on_post_reply(reply_2) + feed(conv, sse(*turn_2[cut:]))
    result = result_of(out)
    assert result.result == "Running it. The answer is 40."
    assert texts(delivered(out)) == ["Running it. ", "The answer is 40."]
    assert conv.cursor == "evt_17"


@pytest.mark.parametrize("with_turn_ids", [True, False], ids=["turn_ids", "no_turn_ids"])
def test_earlier_turn_events_are_ignored(with_turn_ids: bool) -> None:
    reply_1, turn_1, reply_2, turn_2 = appendix_a(with_turn_ids)
    conv = new()
    conv.begin_turn()
    conv.on_post_reply(reply_1)
    feed(conv, sse(*turn_1[:4]))
    conv.on_stream_lost("gone")  # turn 1 never saw its idle
    conv.begin_turn()
    # Late turn-1 events arrive while turn 2 is pending, and before its echo.
    late = [
        item("agent.message", "evt_04b", "turn_01", content=text("late")),
        item("span.model_request_end", "evt_05", "turn_01", model_usage={"input_tokens": 999}),
        item("session.status_idle", "evt_06", "turn_01", stop_reason={"type": "end_turn"}),
    ]
    out = feed(conv, sse(*(late if with_turn_ids else strip_turn_ids(late))))
    out += conv.on_post_reply(reply_2) + feed(conv, sse(*turn_2))
    result = result_of(out)
    assert result.result == "Running it. The answer is 40."
    assert result.usage == Usage(input_tokens=75, output_tokens=26)


def test_id_less_events_after_our_echo_are_ours_even_when_turn_ids_are_known() -> None:
    retrying = strip_turn_ids(RETRYING)
    idle = item("session.status_idle", "e9", stop_reason={"type": "retries_exhausted"})
    result = result_of(run_to_end(retrying, idle))
    assert result.warnings == (
        "session.error model_overloaded_error (server retrying): Model overloaded",
    )
    assert result.errors == ("the server's retries were exhausted: Model overloaded",)


def test_events_of_another_turn_id_mid_turn_are_not_ours() -> None:
    stray = [
        item("agent.message", "x1", "t_other", content=text("not mine")),
        item("session.status_idle", "x2", "t_other", stop_reason={"type": "end_turn"}),
    ]
    conv = new()
    out = run_to_end(*stray, conv=conv)
    assert conv.state is TurnState.ACTIVE
    assert texts(delivered(out)) == ["partial"]


def test_buffer_overflow_ends_the_turn_with_an_error() -> None:
    conv = new(max_pending_events=3)
    conv.begin_turn()
    feed_events(
        conv, [ECHO, SAY, *(item("session.status_running", f"r{i}", "t1") for i in range(3))]
    )
    out = conv.on_post_reply(START)
    result = result_of(out)
    assert (result.terminal_reason, result.is_error) == ("buffer_overflow", True)
    assert result.errors == (
        "2 events arrived beyond the buffer of 3 while the turn could not be followed; "
        "they were not handled",
    )
    assert texts(delivered(out)) == ["partial"]  # what fitted is still delivered, in order
    assert conv.cursor == "r2"  # overflowing events were received: no resume repeats them


def test_buffer_overflow_after_our_turn_ended_is_harmless() -> None:
    conv = new(max_pending_events=3)
    conv.begin_turn()
    idle = item("session.status_idle", "e9", "t1", stop_reason={"type": "end_turn"})
    feed_events(conv, [ECHO, SAY, idle, item("session.status_running", "r", "t2")])
    assert not result_of(conv.on_post_reply(START)).is_error


def test_abort_turn_drops_the_buffer_but_keeps_dedupe() -> None:
    conv = new()
    conv.begin_turn()
    feed_events(conv, [ECHO, SAY])
    conv.abort_turn()
    assert conv.state is TurnState.IDLE
    conv.abort_turn()  # harmless when nothing is pending
    out = run_turn(conv, START, [ECHO, SAY, item("session.status_idle", "e9", "t1")])
    assert result_of(out).result == ""  # e1 was seen before: never delivered twice


def test_abort_turn_still_notices_the_end_of_the_session() -> None:
    conv = new()
    conv.begin_turn()
    feed_events(conv, [item("session.deleted", "d1")])
    conv.abort_turn()
    assert conv.state is TurnState.ENDED


def test_stream_lost_while_pending_ends_the_turn_at_the_reply() -> None:
    conv = new()
    conv.begin_turn()
    feed_events(conv, [ECHO, SAY])
    assert conv.on_stream_lost("gone") == []
    assert conv.state is TurnState.PENDING
    out = conv.on_post_reply(START)
    result = result_of(out)
    assert (result.terminal_reason, result.result) == ("stream_lost", "partial")


@pytest.mark.parametrize(
    "bad_reply", [{}, {"data": []}, {"data": [{"type": "user.message"}]}, None]
)
def test_a_reply_naming_nothing_ends_the_turn_with_a_protocol_error(bad_reply: Any) -> None:
    conv = new()
    conv.begin_turn()
    result = result_of(conv.on_post_reply(bad_reply))
    assert (result.terminal_reason, result.is_error) == ("protocol_error", True)
    assert conv.state is TurnState.IDLE


def test_state_errors() -> None:
    conv = new()
    with pytest.raises(ClientStateError, match="begin_turn"):
        conv.on_post_reply(START)
    conv.begin_turn()
    message = (
        "read the current turn to its ResultMessage, or interrupt\\(\\) it, before query\\(\\)"
    )
    with pytest.raises(ClientStateError, match=message):
        conv.begin_turn()
    conv.on_post_reply(START)
    with pytest.raises(ClientStateError, match=message):
        conv.begin_turn()
    assert conv.on_answer_reply({"data": []}) == []


def test_constructor_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="dedupe_capacity"):
        Conversation(session_id="s", dedupe_capacity=0)
    with pytest.raises(ValueError, match="max_pending_events"):
        Conversation(session_id="s", max_pending_events=-1)


def test_dedupe_memory_is_bounded_by_its_capacity() -> None:
    conv = new(dedupe_capacity=3)
    run_turn(conv, START, [ECHO])
    say = [item("agent.message", f"m{i}", "t1", content=text(str(i))) for i in range(4)]
    out = feed_events(conv, [say[0], say[1], say[0], say[2], say[3], say[0]])
    # m0 is dropped while it is among the last 2 ids (at least half the capacity is kept), and
    # handled again once it has left the last 3.
    assert texts(delivered(out)) == ["0", "1", "2", "3", "0"]


def test_same_id_different_type_is_not_a_duplicate() -> None:
    """Redacted ids are all equal in the recorded stream; only (id, type) marks a replay."""
    conv = new()
    run_turn(conv, START, [ECHO])
    out = feed_events(
        conv,
        [
            ev("agent.message", "X", "t1", content=text("a")),
            ev("agent.message", "X", "t1", content=text("a")),
            ev("session.status_idle", "X", "t1", stop_reason={"type": "end_turn"}),
        ],
    )
    assert result_of(out).result == "a"


# --- §1.1: the recorded real stream --------------------------------------------------------------

REAL_ECHO = (
    b"id: <EVENT_ID>\nevent: user.message\n"
    b'data: {"type":"user.message","content":[{"type":"text","text":"hi"}]}\n\n'
)


def real_turn(conv: Conversation) -> SSEDecoder:
    """Start a turn the way the recorded session did: no turn_id anywhere, ids redacted.

    Neither the POST reply nor the stream's echo of the prompt was recorded (the author left
    them out); both are written here as the server sends them, with the same redaction.
    """
    conv.begin_turn()
    assert conv.on_post_reply(reply(item("user.message", "<EVENT_ID>", content=text("hi")))) == []
    decoder = SSEDecoder()
    assert feed(conv, REAL_ECHO, decoder) == []
    return decoder


def test_real_recorded_stream() -> None:
    conv = new(session_id="<SESSION_ID>")
    decoder = real_turn(conv)
    data = (VECTORS / "cookbook-quickstart-stream.sse").read_bytes()
    out = feed(conv, data, decoder)
    # The excerpt ends without the blank line that closes its last frame (the idle).
    assert conv.state is TurnState.ACTIVE
    out += feed(conv, b"\n", decoder)
    result = result_of(out)
    recorded = json.loads(data.split(b"\n")[2][len(b"data: ") :])
    message = delivered(out)[0]
    assert isinstance(message, AssistantMessage)
    assert message.content == (TextBlock(recorded["content"][0]["text"]),)
    assert message.uuid == "<EVENT_ID>"
    assert result.result == recorded["content"][0]["text"]
    assert (result.result or "").startswith("你好")
    assert (result.subtype, result.stop_reason, result.is_error) == ("success", "end_turn", False)
    assert result.total_credits == 4.05
    assert result.usage == Usage()  # credits only: no count is invented
    assert result.num_model_requests == 1
    assert result.turn_ids == ()
    assert conv.cursor == "<EVENT_ID>"


def test_real_recorded_stream_cut_at_its_end_is_a_lost_stream() -> None:
    conv = new(session_id="<SESSION_ID>")
    decoder = real_turn(conv)
    out = feed(conv, (VECTORS / "cookbook-quickstart-stream.sse").read_bytes(), decoder)
    decoder.flush()  # EOF: the unterminated idle frame is discarded (§5 rule 7)
    out += conv.on_stream_lost("the stream ended and could not be resumed")
    result = result_of(out)
    assert (result.terminal_reason, result.is_error) == ("stream_lost", True)
    assert result.total_credits == 4.05
    assert len(result.result or "") > 10


# --- interrupts (§6.7) ---------------------------------------------------------------------------


@pytest.mark.parametrize("with_turn_ids", [True, False], ids=["turn_ids", "no_turn_ids"])
def test_interrupt_keeps_reading_until_the_idle(with_turn_ids: bool) -> None:
    reply_1, turn_1, _, _ = appendix_a(with_turn_ids)
    conv = new()
    out = run_turn(conv, reply_1, turn_1[:4])
    interrupt = item("user.interrupt", "evt_30", "turn_01")
    conv.on_answer_reply(
        strip_turn_ids(reply(interrupt)) if not with_turn_ids else reply(interrupt)
    )
    assert conv.state is TurnState.ACTIVE
    tail = [
        interrupt,
        item("span.model_request_end", "evt_31", "turn_01", model_request_start_id="evt_03",
             is_error=True, model_usage={"input_tokens": 12}),
        item("session.status_idle", "evt_32", "turn_01", stop_reason={"type": "end_turn"}),
    ]  # fmt: skip
    out += feed(conv, sse(*(tail if with_turn_ids else strip_turn_ids(tail))))
    result = result_of(out)
    assert (result.result, result.is_error, result.stop_reason) == ("4", False, "end_turn")
    assert result.usage == Usage(input_tokens=12)  # the aborted span still counts


@pytest.mark.parametrize("with_turn_ids", [True, False], ids=["turn_ids", "no_turn_ids"])
def test_our_own_interrupt_ends_the_turn_interrupted(with_turn_ids: bool) -> None:
    reply_1, turn_1, _, _ = appendix_a(with_turn_ids)
    conv = new()
    out = run_turn(conv, reply_1, turn_1[:4])
    conv.note_interrupt()
    interrupt = item("user.interrupt", "evt_30", "turn_01")
    conv.on_answer_reply(
        strip_turn_ids(reply(interrupt)) if not with_turn_ids else reply(interrupt)
    )
    tail = [interrupt, item("session.status_idle", "evt_32", "turn_01",
                            stop_reason={"type": "end_turn"})]  # fmt: skip
    out += feed(conv, sse(*(tail if with_turn_ids else strip_turn_ids(tail))))
    result = result_of(out)
    assert (result.terminal_reason, result.subtype, result.is_error) == (
        "interrupted",
        "success",
        False,
    )
    assert (result.result, result.stop_reason) == ("4", "end_turn")


def test_an_interrupt_while_pending_or_failed_marks_nothing() -> None:
    conv = new()
    conv.begin_turn()
    conv.note_interrupt()  # acts on an earlier turn, not on this pending one
    conv.on_post_reply(reply(item("user.message", "evt_01", "turn_01")))
    conv.note_interrupt()
    conv.note_interrupt(sent=False)  # the POST failed
    out = feed_events(conv, [item("session.status_idle", "evt_02", "turn_01",
                                  stop_reason={"type": "end_turn"})])  # fmt: skip
    assert result_of(out).terminal_reason == "end_turn"


def test_interrupt_abandons_pending_answers() -> None:
    conv = new(custom_tool_names={"get_weather"})
    run_turn(conv, B_REPLY, B_BEFORE)
    assert conv.state is TurnState.WAITING_FOR_ANSWERS
    conv.on_answer_reply(reply(item("user.interrupt", "evt_27", "turn_21")))
    assert conv.state is TurnState.ACTIVE  # type: ignore[comparison-overlap]
    assert conv.awaiting_answers == frozenset()  # type: ignore[unreachable]
    out = feed_events(conv, [item("session.status_idle", "evt_28", "turn_21")])
    assert result_of(out).stop_reason is None


def test_an_interrupt_echo_alone_abandons_pending_answers() -> None:
    conv = new(custom_tool_names={"get_weather"})
    run_turn(conv, B_REPLY, B_BEFORE)
    feed_events(conv, [item("user.interrupt", "evt_27", "turn_21")])
    assert conv.state is TurnState.ACTIVE


# --- §7: the official clients' defects must be impossible ----------------------------------------


def test_defect_1_status_terminated_ends_the_turn() -> None:
    for kind in ("session.status_terminated", "terminated"):
        result = result_of(run_to_end(item(kind, "e7")))
        assert (result.terminal_reason, result.is_error) == ("terminated", True)


def test_defect_2_usage_is_summed_over_spans_in_both_shapes() -> None:
    result = result_of(
        run_to_end(
            item("span.model_request_end", "s1", "t1", model_usage={"input_tokens": 30}),
            item("span.model_request_end", "s2", "t1", usage={"input_tokens": 45}),
            item("session.status_idle", "e9", "t1", stop_reason={"type": "end_turn"}),
        )
    )
    assert result.usage.input_tokens == 75
    assert result.num_model_requests == 2


def test_defect_3_a_resumed_stream_never_repeats_text() -> None:
    conv = new()
    run_turn(conv, A_REPLY_1, A_TURN_1)
    out = run_turn(conv, A_REPLY_2, A_TURN_2[:5])
    out += feed_events(conv, A_TURN_1 + A_TURN_2)  # everything replayed, turn 1 included
    assert result_of(out).result == "Running it. The answer is 40."
    assert texts(delivered(out)) == ["Running it. ", "The answer is 40."]


def test_defect_4_a_retrying_session_error_does_not_end_the_turn() -> None:
    conv = new()
    out = run_to_end(RETRYING, RETRYING, conv=conv)
    assert conv.state is TurnState.ACTIVE
    assert not any(isinstance(o, TurnComplete) for o in out)


@pytest.mark.parametrize(
    ("stop", "subtype"),
    [
        ("requires_action", "success"),
        ("budget_reached", "error_max_budget"),
        ("retries_exhausted", "error_during_execution"),
    ],
)
def test_defect_5_stop_reason_is_reported_and_mapped(stop: str, subtype: str) -> None:
    idle = item("session.status_idle", "e9", "t1", stop_reason={"type": stop})
    result = result_of(run_to_end(idle))
    assert (result.stop_reason, result.subtype) == (stop, subtype)
    assert result.is_error is (subtype != "success")


def test_defect_8_a_buffer_overflow_is_never_silent() -> None:
    conv = new(max_pending_events=1)
    conv.begin_turn()
    feed_events(conv, [ECHO, SAY])
    assert result_of(conv.on_post_reply(START)).terminal_reason == "buffer_overflow"


def test_defect_9_a_reply_without_turn_id_learns_it_from_the_echo() -> None:
    conv = new()
    conv.begin_turn()
    conv.on_post_reply(reply(item("user.message", "e0")))  # no turn_id in the reply
    out = feed_events(
        conv,
        [
            item("user.message", "e0", "t1"),  # our echo carries it
            item("agent.message", "e1", "t1", content=text("learnt")),
            item("session.status_idle", "e2", "t1", stop_reason={"type": "end_turn"}),
        ],
    )
    result = result_of(out)
    assert (result.result, result.turn_ids) == ("learnt", ("t1",))


# --- property: duplicate deliveries change nothing -----------------------------------------------


def strip_session_turn_ids(value: Any) -> Any:
    """Turn ids only on user.*, agent.* and span.* events: session-scoped ones lack them."""
    if isinstance(value, dict) and str(value.get("type")).startswith("session."):
        return strip_turn_ids(value)
    if isinstance(value, (list, tuple)):
        return type(value)(strip_session_turn_ids(v) for v in value)
    return value


def run_schedule(
    turn_ids: str, data: st.DataObject | None
) -> list[tuple[list[Message], ResultMessage]]:
    """Both Appendix A turns, with random duplicates of delivered events (``data``) or none."""
    reply_1, turn_1, reply_2, turn_2 = appendix_a(turn_ids != "none")
    if turn_ids == "mixed":
        turn_1, turn_2 = strip_session_turn_ids((turn_1, turn_2))
    conv = new()
    delivered_so_far: list[dict[str, Any]] = []
    outcomes = []

    def duplicates() -> list[dict[str, Any]]:
        if data is None or not delivered_so_far:
            return []
        return data.draw(st.lists(st.sampled_from(delivered_so_far), max_size=3))

    for post_reply, events in ((reply_1, turn_1), (reply_2, turn_2)):
        conv.begin_turn()
        reply_at = data.draw(st.integers(0, len(events))) if data is not None else 0
        out: list[Output] = []
        for index in range(len(events) + 1):
            if index == reply_at:
                out += conv.on_post_reply(post_reply)
            if index < len(events):
                out += feed_events(conv, duplicates())
                out += feed_events(conv, [events[index]])
                delivered_so_far.append(events[index])
        out += feed_events(conv, duplicates())
        outcomes.append((delivered(out), result_of(out)))
    return outcomes


@settings(max_examples=150, deadline=None)
@given(data=st.data(), turn_ids=st.sampled_from(["all", "none", "mixed"]))
def test_duplicate_deliveries_never_change_messages_or_result(
    data: st.DataObject, turn_ids: str
) -> None:
    expected = run_schedule(turn_ids, None)
    assert [result.result for _, result in expected] == ["4", "Running it. The answer is 40."]
    assert run_schedule(turn_ids, data) == expected


# --- remaining corners ---------------------------------------------------------------------------


def test_confirmation_echoes_name_the_call_they_answer() -> None:
    conv = new(handles_permissions=True)
    run_turn(conv, reply(item("user.message", "evt_40", "t4")), ASK)
    echoes = [
        # The server filed the answers under a new turn id, and the stream outran the replies.
        item("user.tool_confirmation", "evt_44", "t4b", tool_use_id="evt_41", result="allow"),
        item("user.tool_confirmation", "evt_45", "t4b", tool_use_id="evt_42", result="allow"),
    ]
    feed_events(conv, echoes[:1])
    assert conv.awaiting_answers == {"evt_42"}
    feed_events(conv, echoes[1:])
    assert conv.state is TurnState.ACTIVE
    assert conv.turn_ids == ("t4", "t4b")
    done = item("session.status_idle", "evt_46", "t4b", stop_reason={"type": "end_turn"})
    result = result_of(feed_events(conv, [done]))
    assert result.turn_ids == ("t4", "t4b")
    assert conv.last_result == result
    assert conv.turn_ids == ()  # type: ignore[comparison-overlap]


def test_a_parked_turn_remembers_an_overflow() -> None:
    conv = new(max_pending_events=len(B_BEFORE) + 1)
    conv.begin_turn()
    after = [{**obj, "id": f"{obj['id']}b"} for obj in B_AFTER]  # fresh ids: no dedupe
    feed_events(conv, [*B_BEFORE, *B_AFTER[:1], *after])
    first = result_of(conv.on_post_reply(B_REPLY))
    assert first.stop_reason == "requires_action"
    assert conv.turn_ids == ("turn_21",)  # the parked turn's
    out = conv.respond_manually()
    result = result_of(out)
    assert result.terminal_reason == "buffer_overflow"
    assert result.errors[0].startswith(f"{len(after)} events arrived beyond the buffer")


def test_the_end_of_the_session_is_noticed_between_turns() -> None:
    conv = new()
    assert conv.last_result is None
    assert conv.on_event(ev("session.status_terminated", "t9")) == []
    assert conv.state is TurnState.ENDED
    assert conv.session_end == "terminated"
    with pytest.raises(ClientStateError, match="terminated"):
        conv.begin_turn()
    assert conv.on_event(ev("agent.message", "t10", content="late")) == []
    assert conv.cursor == "t10"


# --- found in review --------------------------------------------------------------------------


def test_an_interrupt_reply_while_our_prompt_is_pending_does_not_adopt_that_turn() -> None:
    """Our query() loops on 409 while an earlier turn (turn_A) runs; interrupting that turn
    must not make turn_A ours: its text is not our answer."""
    conv = new()
    conv.begin_turn()
    assert conv.on_answer_reply(reply(item("user.interrupt", "evt_i", "turn_A"))) == []
    feed_events(conv, [ev("agent.message", "evt_a", "turn_A", content=text("OLD answer"))])
    feed_events(
        conv, [ev("session.status_idle", "evt_b", "turn_A", stop_reason={"type": "end_turn"})]
    )
    out = conv.on_post_reply(reply(item("user.message", "evt_1", "turn_B")))
    out += feed_events(
        conv,
        [
            ev("user.message", "evt_1", "turn_B", content=text("new")),
            ev("agent.message", "evt_2", "turn_B", content=text("NEW answer")),
            ev("session.status_idle", "evt_3", "turn_B", stop_reason={"type": "end_turn"}),
        ],
    )
    result = result_of(out)
    assert result.result == "NEW answer"
    assert result.turn_ids == ("turn_B",)


def test_a_flood_of_malformed_frames_keeps_the_warnings_bounded() -> None:
    from qoder._protocol.result import MAX_WARNINGS
    from qoder._protocol.sse import SSEFrame

    conv = new()
    conv.begin_turn()
    conv.on_post_reply(reply(item("user.message", "evt_1", "turn_1")))
    feed_events(conv, [ev("user.message", "evt_1", "turn_1", content=text("hi"))])
    for n in range(MAX_WARNINGS + 50):
        bad = SSEFrame(event="agent.message", data="{", id=f"bad_{n}", last_event_id="", retry=None)
        malformed = decode_frame(bad)
        assert malformed is not None
        conv.on_event(malformed, frame_id=f"bad_{n}")
    out = feed_events(
        conv, [ev("session.status_idle", "evt_9", "turn_1", stop_reason={"type": "end_turn"})]
    )
    warnings = result_of(out).warnings
    assert len(warnings) == MAX_WARNINGS + 1
    assert warnings[-1] == "... and 50 more warnings"


# --- dispatch by event class -----------------------------------------------------------------


def test_every_event_class_is_dispatched_by_its_nearest_handled_class() -> None:
    import attrs

    from qoder._protocol.events import AgentThinking, UnknownEvent, UserMessageEvent

    @attrs.frozen(kw_only=True)
    class LoudThinking(AgentThinking):
        """A subclass no table names: handled as the AgentThinking it is."""

    @attrs.frozen(kw_only=True)
    class Surprise(UserMessageEvent):
        """A subclass of a class without a handler: no effect either."""

    conv = new()
    conv.begin_turn()
    conv.on_post_reply(reply(item("user.message", "evt_1", "turn_1")))
    out = feed_events(
        conv,
        [
            LoudThinking(id="evt_2", turn_id="turn_1", thinking="hmm"),
            Surprise(id="evt_3", turn_id="turn_1"),
            UnknownEvent(id="evt_4", turn_id="turn_1", type="agent.new_feature"),
            LoudThinking(id="evt_5", turn_id="turn_1", thinking="again"),  # cached now
        ],
    )
    messages = delivered(out)
    assert [m.content for m in messages if isinstance(m, AssistantMessage)] == [
        (ThinkingBlock("hmm"),),
        (ThinkingBlock("again"),),
    ]
    assert len(messages) == 2
    assert conv.cursor == "evt_5"
