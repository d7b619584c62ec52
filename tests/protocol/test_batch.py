"""``Conversation.on_events``, the batch entry a facade feeds each chunk's events to, against
``on_event`` one event at a time: the same outputs and the same state, whatever the events.

``on_events`` handles the agent messages of the turn underway inline (nearly all of a long
turn) and hands every other event to ``on_event``; these tests are what keeps the two in step.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qoder._protocol.convert import structure_event
from qoder._protocol.events import Event
from qoder._protocol.turn import Conversation, Output
from tests.protocol.test_turn import Clock, delivered, ev, item, reply, text, texts

_IDS = st.sampled_from(["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"])
_TURNS = st.sampled_from(["t1", "t2"])
_STAMPS = st.sampled_from(
    [
        "2026-05-18T03:40:48.888Z",
        "2026-05-18T03:40:47.100Z",
        "2026-05-18T03:40:49.000Z",
        "2026-05-18T03:40:50Z",
        "2026-05-18T05:40:48.888+02:00",
        "not a time",
    ]
)


@st.composite
def _event(draw: st.DrawFn) -> tuple[Event, str | None]:
    """A stream event and its frame id: agent messages mostly, the rest of a turn around them,
    with repeated ids, missing ids and turn ids, other turns, threads and stamps."""
    kind = draw(
        st.sampled_from(
            ["agent.message"] * 6
            + [
                "session.status_idle",
                "session.status_running",
                "span.model_request_start",
                "span.model_request_end",
                "agent.thinking",
                "user.message",
                "event_start",
                "event_delta",
                "session.deleted",
            ]
        )
    )
    event_id = draw(st.none() | _IDS)
    turn_id = draw(st.none() | st.just("") | _TURNS)
    fields: dict[str, Any] = {}
    if draw(st.booleans()):
        fields["processed_at"] = draw(_STAMPS)
    if kind == "agent.message":
        fields["content"] = [
            {"type": "text", "text": t} for t in draw(st.lists(st.text(max_size=3), max_size=2))
        ]
        if draw(st.integers(0, 9)) == 0:
            fields["session_thread_id"] = "thread_1"
    elif kind == "session.status_idle":
        fields["stop_reason"] = {"type": "end_turn"}
    elif kind == "span.model_request_start":
        fields["model"] = draw(st.sampled_from(["m1", "m2"]))
    elif kind == "span.model_request_end":
        fields["model_usage"] = {"input_tokens": 3, "output_tokens": 2}
    elif kind == "event_start":
        preview = {"type": "agent.message", "id": event_id or "e1"}
        return ev(kind, event=preview), None
    elif kind == "event_delta":
        delta = {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "x"}}
        return structure_event({"type": kind, "event_id": event_id or "e1", "delta": delta}), None
    event = ev(kind, event_id, turn_id, **fields)
    frame_id = draw(st.sampled_from([event_id, None, "e9"]))
    return event, frame_id


_STEP = st.one_of(
    st.tuples(st.just("turn"), _IDS, _TURNS, st.booleans()),
    st.tuples(st.just("events"), st.lists(_event(), max_size=12)),
)


def _run(
    steps: list[Any], *, batched: bool, partial: bool
) -> tuple[list[list[Output]], Conversation]:
    conv = Conversation(session_id="sess_01", clock=Clock(), include_partial_messages=partial)
    outputs: list[list[Output]] = []
    for step in steps:
        if step[0] == "turn":
            if conv.state.value not in ("idle",):
                continue  # a turn is underway (or the session ended): query() would refuse
            _, echo_id, turn_id, with_turn_id = step
            echo = item(
                "user.message", echo_id, turn_id if with_turn_id else None, content=text("q")
            )
            conv.begin_turn()
            outputs.append(conv.on_post_reply(reply(echo)))
        elif batched:
            outputs.append(conv.on_events(step[1]))
        else:
            out: list[Output] = []
            for event, frame_id in step[1]:
                out += conv.on_event(event, frame_id=frame_id)
            outputs.append(out)
    return outputs, conv


@settings(max_examples=600, deadline=None)
@given(steps=st.lists(_STEP, max_size=10), partial=st.booleans())
def test_on_events_gives_what_on_event_gives_one_by_one(steps: list[Any], partial: bool) -> None:
    one_by_one, single = _run(steps, batched=False, partial=partial)
    in_batches, batch = _run(steps, batched=True, partial=partial)
    assert in_batches == one_by_one
    assert (batch.state, batch.cursor, batch.num_turns) == (
        single.state,
        single.cursor,
        single.num_turns,
    )
    assert batch.turn_ids == single.turn_ids
    assert batch.last_result == single.last_result


def test_a_long_turn_in_one_batch_is_delivered_in_order_and_deduplicated() -> None:
    conv = Conversation(session_id="sess_01", clock=Clock())
    conv.begin_turn()
    conv.on_post_reply(reply(item("user.message", "e0", "t1")))
    events = [ev("agent.message", f"m{i}", "t1", content=text(str(i))) for i in range(200)]
    stream = [(event, event.id) for event in events]
    out = conv.on_events(stream + stream[:50])  # a replay of the first fifty is dropped
    assert texts(delivered(out)) == [str(i) for i in range(200)]
    assert conv.cursor == "m199"


def test_an_agent_message_ending_an_open_preview_gives_the_preview_its_stop_events() -> None:
    def run(batched: bool) -> list[Output]:
        conv = Conversation(session_id="sess_01", clock=Clock(), include_partial_messages=True)
        conv.begin_turn()
        conv.on_post_reply(reply(item("user.message", "e0", "t1")))
        delta = {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "x"}}
        stream = [
            (ev("user.message", "e0", "t1"), "e0"),
            (ev("event_start", event={"type": "agent.message", "id": "e1"}), None),
            (structure_event({"type": "event_delta", "event_id": "e1", "delta": delta}), None),
            (ev("agent.message", "e1", "t1", content=text("x")), "e1"),
            (ev("agent.message", "e2", "t1", content=text("y")), "e2"),
        ]
        if batched:
            return conv.on_events(stream)
        return [
            out for event, frame_id in stream for out in conv.on_event(event, frame_id=frame_id)
        ]

    one_by_one = run(batched=False)
    assert len(one_by_one) == 7  # 3 preview events, 2 stops, 2 messages
    assert run(batched=True) == one_by_one
