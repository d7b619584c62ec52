"""Appendix A through every transport: two turns, turn ids, replay, resume, nothing repeated."""

from __future__ import annotations

import httpx
import pytest

from qoder.testing import FakeCloud

from .helpers import TURN_TYPES, apost_message, post_message, text_of
from .sse import AsyncFrames, SyncFrames

FRANCE = "What's the capital of France?"
POPULATION = "What's the population of that city?"
PARIS = "The capital of France is Paris."
PARIS_POPULATION = (
    "Paris has about 2.1 million inhabitants in the city proper "
    "and over 12 million in its metropolitan area."
)


def test_two_turns_replay_and_resume(http: httpx.Client, cloud: FakeCloud, session_id: str) -> None:
    with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-cache"
        frames = SyncFrames(stream.iter_bytes())
        first = post_message(http, session_id, FRANCE)
        turn1 = [f.json() for f in frames.until("session.status_idle") if f.persisted]
    assert [event["type"] for event in turn1] == TURN_TYPES
    assert turn1[0]["id"] == first["id"]
    assert {event["turn_id"] for event in turn1} == {first["turn_id"]}
    assert text_of(turn1) == PARIS
    assert turn1[-1]["stop_reason"] == {"type": "end_turn"}
    for event in turn1:
        assert event["session_id"] == session_id
        assert event["schema_version"] == "1.0"
        assert event["processed_at"].endswith("Z")

    second = post_message(http, session_id, POPULATION)  # no stream open meanwhile
    assert second["turn_id"] != first["turn_id"]
    headers = {"Last-Event-ID": turn1[-1]["id"]}
    with http.stream("GET", f"/sessions/{session_id}/events/stream", headers=headers) as stream:
        turn2 = [f.json() for f in SyncFrames(stream.iter_bytes()).until("session.status_idle")]
    turn2 = [event for event in turn2 if "id" in event]
    assert turn2[0]["id"] == second["id"]
    assert {event["turn_id"] for event in turn2} == {second["turn_id"]}
    assert text_of(turn2) == PARIS_POPULATION

    # Without a cursor the whole history is replayed, in order, each event once.
    everything = [event["id"] for event in cloud.events(session_id)]
    with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
        frames = SyncFrames(stream.iter_bytes())
        replay = frames.until(lambda frame: frame.id == everything[-1])
    assert [frame.id for frame in replay if frame.persisted] == everything
    assert [event["id"] for event in turn1 + turn2] == everything


def test_session_usage_is_a_running_snapshot(http: httpx.Client, session_id: str) -> None:
    post_message(http, session_id, FRANCE)
    after_one = http.get(f"/sessions/{session_id}").json()["usage"]
    post_message(http, session_id, POPULATION)
    after_two = http.get(f"/sessions/{session_id}").json()
    assert after_two["status"] == "idle"
    assert after_two["usage"]["input_tokens"] > after_one["input_tokens"] > 0
    assert after_two["usage"]["total_credits"] > after_one["total_credits"] > 0
    ends = [
        event["model_usage"]
        for event in http.get(f"/sessions/{session_id}/events").json()["data"]
        if event["type"] == "span.model_request_end"
    ]
    assert sum(usage["input_tokens"] for usage in ends) == after_two["usage"]["input_tokens"]
    assert set(ends[0]) == {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "speed",
        "credits",
    }


@pytest.mark.anyio
async def test_two_turns_async(ahttp: httpx.AsyncClient, cloud: FakeCloud, session_id: str) -> None:
    path = f"/sessions/{session_id}/events/stream"
    async with ahttp.stream("GET", path) as stream, AsyncFrames(stream, cloud) as frames:
        first = await apost_message(ahttp, session_id, FRANCE)
        turn1 = [f.json() for f in await frames.until("session.status_idle")]
        second = await apost_message(ahttp, session_id, POPULATION)
        turn2 = [f.json() for f in await frames.until("session.status_idle")]
    turn1 = [event for event in turn1 if "id" in event]
    turn2 = [event for event in turn2 if "id" in event]
    assert [event["type"] for event in turn1] == TURN_TYPES
    assert [event["type"] for event in turn2] == TURN_TYPES
    assert turn1[0]["id"] == first["id"]
    assert turn2[0]["id"] == second["id"]
    assert {event["turn_id"] for event in turn2} == {second["turn_id"]} != {first["turn_id"]}
    assert text_of(turn1) == PARIS
    assert text_of(turn2) == PARIS_POPULATION

    cursor = turn1[-1]["id"]
    headers = {"Last-Event-ID": cursor}
    async with (
        ahttp.stream("GET", f"/sessions/{session_id}/events/stream", headers=headers) as stream,
        AsyncFrames(stream, cloud) as frames,
    ):
        resumed = await frames.until("session.status_idle")
    assert [frame.id for frame in resumed if frame.persisted] == [e["id"] for e in turn2]


def test_after_id_query_is_a_cursor_and_header_wins(http: httpx.Client, session_id: str) -> None:
    post_message(http, session_id, FRANCE)
    post_message(http, session_id, POPULATION)
    events = http.get(f"/sessions/{session_id}/events").json()["data"]
    path = f"/sessions/{session_id}/events/stream"
    with http.stream("GET", path, params={"after_id": events[5]["id"]}) as stream:
        got = SyncFrames(stream.iter_bytes()).until("session.status_idle")
    assert [frame.id for frame in got if frame.persisted] == [e["id"] for e in events[6:]]
    headers = {"Last-Event-ID": events[9]["id"]}
    params = {"after_id": events[0]["id"]}
    with http.stream("GET", path, params=params, headers=headers) as stream:
        got = SyncFrames(stream.iter_bytes()).until("session.status_idle")
    assert [frame.id for frame in got if frame.persisted] == [e["id"] for e in events[10:]]


def test_unknown_cursor_is_rejected(http: httpx.Client, cloud: FakeCloud, session_id: str) -> None:
    other = cloud.create_session()
    post_message(http, other, FRANCE)
    foreign = cloud.events(other)[0]["id"]
    for cursor in (foreign, "evt_nope"):
        response = http.get(
            f"/sessions/{session_id}/events/stream", headers={"Last-Event-ID": cursor}
        )
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"


def test_omit_turn_id(http: httpx.Client, cloud: FakeCloud, session_id: str) -> None:
    cloud.omit_turn_id = True
    reply = post_message(http, session_id, FRANCE)
    assert "turn_id" not in reply
    events = http.get(f"/sessions/{session_id}/events").json()["data"]
    assert [event["type"] for event in events] == TURN_TYPES
    assert all("turn_id" not in event for event in events)
    with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
        frames = SyncFrames(stream.iter_bytes()).until("session.status_idle")
    assert all("turn_id" not in frame.json() for frame in frames if frame.persisted)


def test_string_content_is_echoed_as_received(http: httpx.Client, session_id: str) -> None:
    body = {"events": [{"type": "user.message", "content": FRANCE}]}
    reply = http.post(f"/sessions/{session_id}/events", json=body).json()["data"][0]
    assert reply["content"] == FRANCE
    events = http.get(f"/sessions/{session_id}/events").json()["data"]
    assert events[0]["content"] == FRANCE
    assert text_of(events) == PARIS


def test_generic_reply_is_reproducible(http: httpx.Client, cloud: FakeCloud) -> None:
    texts = []
    for _ in range(2):
        session_id = cloud.create_session()
        post_message(http, session_id, "Tell me something about llamas")
        events = http.get(f"/sessions/{session_id}/events").json()["data"]
        assert sum(event["type"] == "agent.message" for event in events) == 2
        texts.append(text_of(events))
    assert texts[0] == texts[1]
    assert "llamas" in texts[0]


def test_stream_type_filter(http: httpx.Client, cloud: FakeCloud, session_id: str) -> None:
    post_message(http, session_id, FRANCE)
    path = f"/sessions/{session_id}/events/stream"
    params = {"types[]": ["agent.message", "session.status_idle"]}
    with http.stream("GET", path, params=params) as stream:
        got = SyncFrames(stream.iter_bytes()).until("session.status_idle")
    assert [frame.event for frame in got if frame.persisted] == [
        "agent.message",
        "session.status_idle",
    ]
    with http.stream("GET", path, params={"type": "user.message,session.status_idle"}) as stream:
        got = SyncFrames(stream.iter_bytes()).until("session.status_idle")
    assert [frame.event for frame in got if frame.persisted] == [
        "user.message",
        "session.status_idle",
    ]
