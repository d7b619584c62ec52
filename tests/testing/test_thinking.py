"""The default agent thinking for a while ("think for N seconds", ``think_seconds``): an
``agent.thinking`` event, then a timer-driven wait that an interrupt or a cancel ends at once.

No test sleeps: a long think is cut short by the test itself, a short one is awaited on the
session's events (``cloud.wait_until_idle``) or on the stream."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qoder.testing import PROCESSING_MESSAGE, FakeCloud, ScriptedAgent

from .conftest import AUTH, BASE_URL, TIMEOUT
from .helpers import error_of, message, new_session, post_events, post_message, text_of
from .sse import AsyncFrames, SyncFrames

THINKING = ["user.message", "session.status_running", "span.model_request_start", "agent.thinking"]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def test_a_long_think_is_cut_short_by_an_interrupt(http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(http)
    post_message(http, session_id, "think for 600 seconds")
    assert types(cloud.events(session_id)) == THINKING
    assert cloud.is_held(session_id)
    assert http.get(f"/sessions/{session_id}").json()["status"] == "running"
    assert error_of(http.post(f"/sessions/{session_id}/events", json=message("hi")))[0] == 409

    post_events(http, session_id, {"type": "user.interrupt"})
    events = cloud.events(session_id)
    assert types(events)[len(THINKING) :] == [
        "user.interrupt",
        "span.model_request_end",
        "session.status_idle",
    ]
    assert events[-2]["is_error"] is True
    assert events[-2]["model_request_start_id"] == events[2]["id"]
    assert events[-1]["stop_reason"] == {"type": "end_turn"}
    assert not cloud.is_held(session_id)
    assert text_of(events) == ""
    assert text_of(cloud.events(session_id)) == ""  # the cancelled timer adds nothing


def test_a_long_think_is_cut_short_by_cancel(http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(http)
    post_message(http, session_id, "think for 600 seconds")
    assert http.post(f"/sessions/{session_id}/cancel", json={}).status_code == 202
    events = cloud.events(session_id)
    assert types(events)[len(THINKING) :] == ["span.model_request_end", "session.status_idle"]
    assert events[-2]["is_error"] is True
    assert post_message(http, session_id, "What is 2+2?")["type"] == "user.message"


def test_release_ends_the_think_early(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http)
    post_message(local_http, session_id, "Think for 600 seconds, then what is 2+2?")
    cloud.release(session_id)
    events = cloud.events(session_id)
    assert types(events) == [
        *THINKING,
        "agent.message",
        "span.model_request_end",
        "session.status_idle",
    ]
    assert text_of(events) == "2 + 2 = 4."


def test_a_think_alone_says_how_long(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http)
    post_message(local_http, session_id, "think for 1 second")
    cloud.release(session_id)
    assert text_of(cloud.events(session_id)) == "I thought about it for 1 second."


def test_a_short_think_ends_by_itself(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http)
    post_message(local_http, session_id, "think for 0.05 seconds and tell me the capital of Italy")
    assert cloud.wait_until_idle(session_id, timeout=5)
    events = cloud.events(session_id)
    assert types(events)[: len(THINKING)] == THINKING
    assert text_of(events) == "The capital of Italy is Rome."
    assert events[-1]["stop_reason"] == {"type": "end_turn"}


def test_a_short_think_wakes_the_stream(http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(http)
    with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
        frames = SyncFrames(stream.iter_bytes())
        post_message(http, session_id, "think for 0.05 seconds")
        tail = [frame.json() for frame in frames.until("session.status_idle") if frame.persisted]
    assert types(tail)[: len(THINKING)] == THINKING
    assert text_of(tail) == "I thought about it for 0.05 seconds."


@pytest.mark.anyio
async def test_an_async_stream_sees_the_interrupted_think(
    ahttp: httpx.AsyncClient, cloud: FakeCloud
) -> None:
    session_id = cloud.create_session()
    path = f"/sessions/{session_id}/events/stream"
    async with ahttp.stream("GET", path) as stream, AsyncFrames(stream, cloud) as frames:
        await ahttp.post(f"/sessions/{session_id}/events", json=message("think for 600 seconds"))
        await frames.until("agent.thinking")
        interrupt = {"events": [{"type": "user.interrupt"}]}
        assert (
            await ahttp.post(f"/sessions/{session_id}/events", json=interrupt)
        ).status_code == 202
        tail = [frame.json() for frame in await frames.until("session.status_idle")]
    assert tail[-1]["stop_reason"] == {"type": "end_turn"}
    assert any(e.get("is_error") is True for e in tail if e["type"] == "span.model_request_end")


def test_think_seconds_makes_every_answer_think_first() -> None:
    cloud = FakeCloud(think_seconds=600)
    with cloud.mock(), httpx.Client(base_url=BASE_URL, headers=AUTH, timeout=TIMEOUT) as http:
        session_id = new_session(http)
        post_message(http, session_id, "What's the capital of France?")
        assert types(cloud.events(session_id)) == THINKING
        cloud.release(session_id)
        assert text_of(cloud.events(session_id)) == "The capital of France is Paris."
        before = len(cloud.events(session_id))
        post_message(http, session_id, "think for 0 seconds, then what is 1+1?")  # its own time
        after = cloud.events(session_id)[before:]
        assert text_of(after) == "1 + 1 = 2."
        assert after[-1]["type"] == "session.status_idle"
        cloud.think_seconds = 0
        before = len(cloud.events(session_id))
        post_message(http, session_id, "hello")
        assert "agent.thinking" not in types(cloud.events(session_id)[before:])


def test_a_scripted_wait(local_http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.agent = ScriptedAgent()
    cloud.agent.on("slow").think("Hmm.").wait(600).reply("Done.")
    cloud.agent.on("quick").wait(0).reply("At once.")
    session_id = new_session(local_http)
    post_message(local_http, session_id, "quick")
    assert text_of(cloud.events(session_id)) == "At once."
    post_message(local_http, session_id, "slow")
    response = local_http.post(f"/sessions/{session_id}/events", json=message("again"))
    assert error_of(response) == (409, "conflict_error", PROCESSING_MESSAGE)
    cloud.release(session_id)
    assert text_of(cloud.events(session_id)) == "At once.Done."


def test_deleting_a_thinking_session(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http)
    post_message(local_http, session_id, "think for 600 seconds")
    assert local_http.delete(f"/sessions/{session_id}").status_code == 200
    assert local_http.get(f"/sessions/{session_id}").status_code == 404
