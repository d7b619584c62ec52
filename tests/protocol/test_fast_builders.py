"""The hand-written builders (:mod:`qoder._protocol.fastpath`, the turn machine's messages)
make what the generic hooks and the constructors make.

Each event type that has a builder is decoded both ways (``use_fast_paths`` on and off) from
its canonical shape and from mutations of it: every field of the event (and of its nested
objects) removed or set to a value of every JSON type. The two results must be the same object,
class and every field recursively, Python types included, and ``raw`` too; a builder that gives
up must leave the event to the generic hook, never make a different one.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoder._protocol.blocks import TextBlock
from qoder._protocol.fastpath import fast_path_types
from qoder._protocol.messages import AssistantMessage
from qoder._protocol.outputs import Deliver, deliver
from qoder._protocol.sse import SSEFrame
from qoder._protocol.turn import new_assistant_message
from tests.sameness import MISSING, decode_both_ways, mutations, same

ENVELOPE = {
    "id": "evt_01",
    "session_id": "sess_01",
    "turn_id": "turn_01",
    "processed_at": "2026-05-18T03:40:48.123456789Z",
    "created_at": "2026-05-18T03:40:48.123456789Z",
    "schema_version": "1.0",
}
TEXT = [{"type": "text", "text": "Hi"}]
USAGE = {
    "input_tokens": 10,
    "output_tokens": 5,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 2,
    "credits": 1.5,
}
CANONICAL: dict[str, dict[str, Any]] = {
    "agent.message": {"content": TEXT},
    "user.message": {"content": TEXT},
    "agent.thinking": {"thinking": "hmm"},
    "agent.tool_use": {"name": "bash", "input": {"command": "ls"}, "evaluated_permission": "ask"},
    "agent.tool_result": {"tool_use_id": "evt_11", "content": TEXT, "is_error": False},
    "session.status_running": {},
    "session.status_idle": {"stop_reason": {"type": "requires_action", "event_ids": ["evt_1"]}},
    "span.model_request_start": {"model": "qoder-large", "span_id": "span_1"},
    "span.model_request_end": {
        "model_request_start_id": "evt_02",
        "is_error": False,
        "model_usage": USAGE,
        "model": "qoder-large",
        "span_id": "span_1",
        "total_cost_usd": 0.25,
    },
}
PALETTE: tuple[Any, ...] = (
    MISSING,
    None,
    True,
    0,
    7,
    -1,
    2.5,
    1e300,
    "",
    "text",
    [],
    [1],
    TEXT,
    [{"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}],
    [{"type": "text", "text": 3}],
    [{"type": "text"}],
    "plain string content",
    {},
    {"type": "end_turn"},
    {"type": 5},
    {"event_ids": [1]},
    {"input_tokens": True},
    {"credits": "1"},
)


def _event(event_type: str) -> dict[str, Any]:
    return {"type": event_type, **ENVELOPE, **copy.deepcopy(CANONICAL[event_type])}


def _both_ways(data: dict[str, Any]) -> tuple[Any, Any]:
    name = data.get("type")
    frame = SSEFrame(
        event=name if isinstance(name, str) else "message",
        data=json.dumps(data),
        id="evt_01",
        last_event_id="evt_01",
        retry=None,
    )
    return decode_both_ways(frame)


def _mutations(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return mutations(
        event, PALETTE, extra_keys=("session_thread_id", "content", "input", "thinking")
    )


def test_every_type_with_a_builder_is_covered_here() -> None:
    assert fast_path_types() == set(CANONICAL)


@pytest.mark.parametrize("event_type", sorted(CANONICAL))
def test_the_canonical_shape_is_built_by_the_builder_as_by_the_hooks(event_type: str) -> None:
    fast, generic = _both_ways(_event(event_type))
    assert getattr(type(fast), "type", None) == event_type
    assert same(fast, generic), (fast, generic)


@pytest.mark.parametrize("event_type", sorted(CANONICAL))
def test_every_mutation_decodes_the_same_both_ways(event_type: str) -> None:
    checked = 0
    for mutated in _mutations(_event(event_type)):
        fast, generic = _both_ways(mutated)
        assert same(fast, generic), (mutated, fast, generic)
        checked += 1
    assert checked > 100


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(CANONICAL)),
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "turn_id",
                "processed_at",
                "session_thread_id",
                "content",
                "thinking",
                "name",
                "input",
                "tool_use_id",
                "is_error",
                "stop_reason",
                "model",
                "span_id",
                "model_usage",
                "total_cost_usd",
                "cost_usd",
                "evaluated_permission",
            ]
        ),
        _json,
        max_size=4,
    ),
)
def test_random_values_decode_the_same_both_ways(event_type: str, changes: dict[str, Any]) -> None:
    fast, generic = _both_ways({**_event(event_type), **changes})
    assert same(fast, generic), (changes, fast, generic)


_texts = st.none() | st.text(max_size=8)


@given(st.lists(st.text(max_size=5), max_size=3), st.text(max_size=5), _texts, _texts, _texts)
def test_an_assistant_message_made_as_a_draft_is_the_constructed_one(
    texts: list[str], model: str, uuid: str | None, session_id: str | None, turn_id: str | None
) -> None:
    content = tuple(TextBlock(text) for text in texts)
    made = new_assistant_message(content, model, uuid, session_id, turn_id)
    expected = AssistantMessage(
        content, model=model, uuid=uuid, session_id=session_id, turn_id=turn_id
    )
    assert type(made) is AssistantMessage
    assert same(made, expected)
    assert made == expected
    assert hash(made) == hash(expected)
    assert repr(made) == repr(expected)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.model = "other"  # type: ignore[misc]


def test_a_deliver_made_as_a_draft_is_the_constructed_one() -> None:
    message = new_assistant_message((TextBlock("hi"),), "m", "evt_1", "sess_1", "turn_1")
    made, expected = deliver(message), Deliver(message)
    assert type(made) is Deliver
    assert made == expected
    assert made.message is message
    assert hash(made) == hash(expected)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.message = message  # type: ignore[misc]
