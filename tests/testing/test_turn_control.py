"""Hold, 409 mid-turn, release, interrupt, cancel, session errors, stop reasons, previews."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from qoder.testing import PROCESSING_MESSAGE, FakeCloud, ScriptedAgent, Usage

from .helpers import error_of, message, post_events, post_message, text_of
from .sse import AsyncFrames, SyncFrames


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


@pytest.fixture
def held(cloud: FakeCloud) -> str:
    """A session whose agent says something, then holds."""
    cloud.agent.on("slow").reply("Working on it. ").hold().reply("Done.")
    return cloud.create_session()


def test_message_mid_turn_gets_409_until_released(
    http: httpx.Client, cloud: FakeCloud, held: str
) -> None:
    first = post_message(http, held, "slow job")
    assert cloud.is_held(held)
    assert http.get(f"/sessions/{held}").json()["status"] == "running"
    response = http.post(f"/sessions/{held}/events", json=message("are you done?"))
    assert error_of(response) == (409, "conflict_error", PROCESSING_MESSAGE)
    assert cloud.events(held)[-1]["type"] == "agent.message"  # nothing persisted by the 409

    cloud.release(held)
    events = cloud.events(held)
    assert events[-1]["stop_reason"] == {"type": "end_turn"}
    assert {event["turn_id"] for event in events} == {first["turn_id"]}
    assert text_of(events) == "Working on it. Done."
    assert post_message(http, held, "next")["turn_id"] != first["turn_id"]
    with pytest.raises(ValueError, match="no turn on hold"):
        cloud.release(held)


def test_release_from_another_thread_wakes_the_stream(
    http: httpx.Client, cloud: FakeCloud, held: str
) -> None:
    with http.stream("GET", f"/sessions/{held}/events/stream") as stream:
        frames = SyncFrames(stream.iter_bytes())
        post_message(http, held, "slow job")
        frames.until("agent.message")
        releaser = threading.Thread(target=cloud.release, args=(held,))
        releaser.start()
        tail = frames.until("session.status_idle")
        releaser.join(5)
    assert [frame.json()["content"][0]["text"] for frame in tail if frame.event == "agent.message"]


@pytest.mark.anyio
async def test_release_wakes_an_async_stream(
    ahttp: httpx.AsyncClient, cloud: FakeCloud, held: str
) -> None:
    path = f"/sessions/{held}/events/stream"
    async with ahttp.stream("GET", path) as stream, AsyncFrames(stream, cloud) as frames:
        await ahttp.post(f"/sessions/{held}/events", json=message("slow job"))
        await frames.until("agent.message")
        cloud.release(held)
        tail = [frame.json() for frame in await frames.until("session.status_idle")]
    assert text_of(tail) == "Done."


def test_interrupt_while_running_closes_the_span(
    http: httpx.Client, cloud: FakeCloud, held: str
) -> None:
    first = post_message(http, held, "slow job")
    before = len(cloud.events(held))
    echo = post_events(http, held, {"type": "user.interrupt"}).json()["data"][0]
    assert echo["type"] == "user.interrupt"
    assert echo["turn_id"] == first["turn_id"]
    after = cloud.events(held)[before:]
    assert types(after) == ["user.interrupt", "span.model_request_end", "session.status_idle"]
    assert after[1]["is_error"] is True
    assert after[2]["stop_reason"] == {"type": "end_turn"}
    assert http.get(f"/sessions/{held}").json()["status"] == "idle"
    assert not cloud.is_held(held)


def test_interrupt_when_idle_is_a_no_op_echo(http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = cloud.create_session()
    post_message(http, session_id, "hello")
    before = len(cloud.events(session_id))
    echo = post_events(http, session_id, {"type": "user.interrupt"}).json()["data"][0]
    assert "turn_id" not in echo
    assert types(cloud.events(session_id)[before:]) == ["user.interrupt"]


def test_cancel_running_202_then_idle_200(http: httpx.Client, cloud: FakeCloud, held: str) -> None:
    post_message(http, held, "slow job")
    response = http.post(f"/sessions/{held}/cancel", json={})
    assert response.status_code == 202
    assert response.json() == {"id": held, "type": "session", "status": "canceling"}
    events = cloud.events(held)
    assert types(events)[-2:] == ["span.model_request_end", "session.status_idle"]
    assert events[-2]["is_error"] is True
    before = len(events)
    response = http.post(f"/sessions/{held}/cancel", json={})
    assert response.status_code == 200
    assert response.json()["status"] == "canceling"
    assert len(cloud.events(held)) == before


def test_session_error_retrying_then_recovers(http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.agent.on("flaky").reply("Trying. ").error("retrying").reply("Recovered.")
    session_id = cloud.create_session()
    post_message(http, session_id, "flaky")
    events = cloud.events(session_id)
    assert types(events) == [
        "user.message",
        "session.status_running",
        "span.model_request_start",
        "agent.message",
        "span.model_request_end",
        "session.error",
        "session.status_rescheduled",
        "session.status_running",
        "span.model_request_start",
        "agent.message",
        "span.model_request_end",
        "session.status_idle",
    ]
    assert events[4]["is_error"] is True
    assert events[5]["error"]["retry_status"] == {"type": "retrying"}
    assert events[5]["error"]["type"] == "model_overloaded_error"
    assert events[-1]["stop_reason"] == {"type": "end_turn"}


def test_session_error_exhausted(http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.agent.on("doomed").error("exhausted", error_type="billing_error", message="No credit")
    session_id = cloud.create_session()
    post_message(http, session_id, "doomed")
    events = cloud.events(session_id)
    assert types(events)[-2:] == ["session.error", "session.status_idle"]
    assert events[-2]["error"] == {
        "type": "billing_error",
        "message": "No credit",
        "retry_status": {"type": "exhausted"},
    }
    assert events[-1]["stop_reason"] == {"type": "retries_exhausted"}
    assert post_message(http, session_id, "hello")  # the session takes a new prompt


def test_session_error_terminal_closes_streams(http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.agent.on("fatal").reply("Oh no. ").error("terminal")
    session_id = cloud.create_session()
    with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
        frames = SyncFrames(stream.iter_bytes())
        post_message(http, session_id, "fatal")
        rest = frames.to_end()
    assert [frame.event for frame in rest if frame.persisted][-2:] == [
        "session.error",
        "session.status_terminated",
    ]
    assert http.get(f"/sessions/{session_id}").json()["status"] == "terminated"
    response = http.post(f"/sessions/{session_id}/events", json=message("hello?"))
    assert error_of(response)[:2] == (409, "conflict_error")
    with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
        replay = SyncFrames(stream.iter_bytes()).to_end()  # replays history, then closes
    assert replay[-1].event == "session.status_terminated"


def test_stop_reason_budget_reached_and_emit(http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.agent.on("expensive").think("Let me see").reply("Partial").emit(
        "session.usage", total_credits=9.5
    ).stop("budget_reached").reply("never sent")
    session_id = cloud.create_session()
    post_message(http, session_id, "expensive")
    events = cloud.events(session_id)
    assert types(events)[2:] == [
        "span.model_request_start",
        "agent.thinking",
        "agent.message",
        "session.usage",
        "span.model_request_end",
        "session.status_idle",
    ]
    assert events[3]["thinking"] == "Let me see"
    assert events[5]["total_credits"] == 9.5
    assert events[-1]["stop_reason"] == {"type": "budget_reached"}
    assert text_of(events) == "Partial"


def test_usage_override(http: httpx.Client, cloud: FakeCloud) -> None:
    agent = ScriptedAgent()
    agent.on("a").then(Usage(input_tokens=12, output_tokens=1, credits=0.02)).reply("4")
    agent.on("b").reply("x").usage(credits=4.05, only_given=True)
    cloud.agent = agent
    session_id = cloud.create_session()
    post_message(http, session_id, "a")
    post_message(http, session_id, "b")
    ends = [e for e in cloud.events(session_id) if e["type"] == "span.model_request_end"]
    assert ends[0]["model_usage"] == {
        "input_tokens": 12,
        "output_tokens": 1,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "speed": "standard",
        "credits": 0.02,
    }
    assert ends[1]["model_usage"] == {"credits": 4.05}
    assert cloud.session(session_id)["usage"] == {
        "input_tokens": 12,
        "output_tokens": 1,
        "total_credits": 4.07,
        "list_cost": {"amount": "0.000051", "currency": "USD"},  # 12 x $3/M + 1 x $15/M
    }


def test_preview_frames_only_on_request_and_only_live(http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.agent.on("think").think().reply("one two three four five")
    session_id = cloud.create_session()
    path = f"/sessions/{session_id}/events/stream"
    params = {"event_deltas[]": ["agent.message", "agent.thinking"]}
    with http.stream("GET", path, params=params) as stream:
        frames = SyncFrames(stream.iter_bytes())
        post_message(http, session_id, "think")
        got = frames.until("session.status_idle")
    names = [frame.event for frame in got]
    thinking = next(frame for frame in got if frame.event == "agent.thinking")
    message_event = next(frame for frame in got if frame.event == "agent.message")
    starts = [frame for frame in got if frame.event == "event_start"]
    assert [start.json()["event"] for start in starts] == [
        {"type": "agent.thinking", "id": thinking.id},
        {"type": "agent.message", "id": message_event.id},
    ]
    assert all(frame.id is None for frame in got if frame.event in ("event_start", "event_delta"))
    deltas = [frame.json() for frame in got if frame.event == "event_delta"]
    assert {delta["event_id"] for delta in deltas} == {message_event.id}
    assert "".join(d["delta"]["content"]["text"] for d in deltas) == "one two three four five"
    assert names.index("event_delta") < names.index("agent.message")
    # replayed history never carries previews
    with http.stream("GET", path, params=params) as stream:
        replay = SyncFrames(stream.iter_bytes()).until("session.status_idle")
    assert "event_start" not in [frame.event for frame in replay]
    assert http.get(path, params={"event_deltas[]": "agent.tool_use"}).status_code == 400
