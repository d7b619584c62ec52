"""The official example's conversation through every facade, HTTP mocked with respx."""

from __future__ import annotations

from collections.abc import Iterable

import httpx
import pytest

from qoder import (
    AssistantMessage,
    QoderAgentOptions,
    ResultMessage,
    TextBlock,
)
from tests.client.driver import Facade
from tests.client.scripted import BASE, TOKEN, ScriptedAPI, frame, stream_of, turn_events


def options(**overrides: object) -> QoderAgentOptions:
    values: dict[str, object] = {
        "auth": TOKEN,
        "base_url": BASE,
        "agent": "agent_01",
        "environment": "env_01",
    }
    values.update(overrides)
    return QoderAgentOptions(**values)  # type: ignore[arg-type]


def texts(messages: Iterable[object]) -> list[str]:
    return [
        block.text
        for message in messages
        if isinstance(message, AssistantMessage)
        for block in message.content
        if isinstance(block, TextBlock)
    ]


def test_two_turns_on_one_stream(facade: Facade, api: ScriptedAPI) -> None:
    first = turn_events("turn_01", 1, "The capital of France is Paris.")
    second = turn_events("turn_02", 7, "About 2.1 million people.")
    api.streams.append(stream_of(first + second))
    api.reply_with("evt_01", "turn_01")
    api.reply_with("evt_07", "turn_02")

    with facade.client(options()) as client:
        assert client.session_id == "sess_01"
        one = client.turn("What's the capital of France?")
        two = client.turn("What's the population of that city?")

    assert texts(one) == ["The capital of France is Paris."]
    assert texts(two) == ["About 2.1 million people."]
    for messages, turn in ((one, "turn_01"), (two, "turn_02")):
        result = messages[-1]
        assert isinstance(result, ResultMessage)
        assert result.subtype == "success"
        assert result.is_error is False
        assert result.stop_reason == "end_turn"
        assert result.turn_ids == (turn,)
        assert result.usage.input_tokens == 10
        assert result.total_credits == pytest.approx(0.01)
    assert one[-1].result == "The capital of France is Paris."  # type: ignore[union-attr]
    # One stream for the whole conversation: turn 2 did not reopen (or replay) anything.
    assert api.stream_route.call_count == 1
    assert [p["events"][0]["content"][0]["text"] for p in api.posted] == [
        "What's the capital of France?",
        "What's the population of that city?",
    ]
    assert all(body.closed for body in api.bodies)


def test_manual_lifecycle(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "Paris.")))
    api.reply_with("evt_01", "turn_01")
    client = facade.client(options())
    client.connect()
    try:
        messages = client.turn("Capital?")
    finally:
        client.disconnect()
    client.disconnect()  # idempotent
    assert texts(messages) == ["Paris."]


def test_turn_ends_without_waiting_for_another_byte(facade: Facade, api: ScriptedAPI) -> None:
    """§7 #11: the stream after the idle would raise if read; the turn must not read it."""
    events = turn_events("turn_01", 1, "Paris.")
    script = stream_of(events)
    script.append(AssertionError("read past the end of the turn"))
    api.streams.append(script)
    api.reply_with("evt_01", "turn_01")
    with facade.client(options()) as client:
        messages = client.turn("Capital?")
    assert isinstance(messages[-1], ResultMessage)
    assert messages[-1].subtype == "success"


def test_no_turn_id_anywhere_correlates_by_echo(facade: Facade, api: ScriptedAPI) -> None:
    """§1.1: real servers send no turn_id; the echo of our own POST marks the turn start."""
    stale = turn_events("x", 50, "an old answer", turn_id=False)
    events = turn_events("x", 1, "Paris.", turn_id=False)
    api.streams.append(stream_of(stale[3:] + events))
    api.reply_with("evt_01", None)
    with facade.client(options()) as client:
        messages = client.turn("Capital?")
    assert texts(messages) == ["Paris."]
    assert messages[-1].result == "Paris."  # type: ignore[union-attr]


def test_dropped_stream_resumes_from_cursor_without_repeats(
    facade: Facade, api: ScriptedAPI
) -> None:
    events = turn_events("turn_01", 1, "Paris.")
    cut = frame(events[4])[:20]
    api.streams.append([*stream_of(events[:4]), cut, httpx.ReadError("connection reset")])
    api.streams.append(stream_of(events[3:]))  # the server resends evt_04 too: deduped
    api.reply_with("evt_01", "turn_01")
    with facade.client(options()) as client:
        messages = client.turn("Capital?")
    assert texts(messages) == ["Paris."]
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.usage.output_tokens == 2
    second = api.stream_route.calls[1].request
    assert second.headers["Last-Event-ID"] == "evt_04"
    assert second.url.params["after_id"] == "evt_04"


def test_one_shot_query(facade: Facade, api: ScriptedAPI) -> None:
    from qoder import query, query_sync

    api.streams.append(stream_of(turn_events("turn_01", 1, "4")))
    api.reply_with("evt_01", "turn_01")
    if facade.is_async:

        async def collect() -> list[object]:
            return [m async for m in query(prompt="What is 2 + 2?", options=options())]

        messages = facade.run(collect)
    else:
        messages = list(query_sync(prompt="What is 2 + 2?", options=options()))
    assert texts(messages) == ["4"]
    assert isinstance(messages[-1], ResultMessage)
    assert messages[-1].result == "4"
    assert all(body.closed for body in api.bodies)  # the client was closed afterwards
